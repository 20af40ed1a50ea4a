"""Helpers shared by the kerazoo losses: a base class with a full config, distances, masks."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

# Finite stand-ins for +/- infinity in masked reductions: an all-masked row then gives a finite
# value that a later mask discards, and no inf - inf or 0 * inf reaches the gradient.
BIG = 1e30

_LOW_PRECISION = ("float16", "bfloat16")


class KerazooLoss(keras.losses.Loss):
    """Base of kerazoo's losses: remembers ``dtype`` so that ``get_config`` round-trips it."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_arg = dtype

    def get_config(self) -> dict:
        config = super().get_config()
        dtype = self._dtype_arg
        if dtype is not None and not isinstance(dtype, str):
            dtype = keras.dtype_policies.serialize(dtype)
        config["dtype"] = dtype
        return config


def to_float32(x) -> Any:
    """``x`` as float32 (half-precision inputs are upcast for stable sums, exp and sqrt)."""
    return ops.cast(x, "float32")


def match_rank(y_true: Any, y_pred: Any) -> Any:
    """Squeeze or expand a trailing axis of size 1 so both have the same rank (as Keras does)."""
    true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
    if true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    elif pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        y_pred = ops.squeeze(y_pred, -1)
    return y_true, y_pred


def flat_labels(labels) -> Any:
    """Class ids of shape ``[batch]`` from ``[batch]`` or ``[batch, 1]``."""
    return ops.reshape(labels, (-1,))


def pairwise_distance(embeddings, squared: bool = False) -> Any:
    """Euclidean distance matrix ``D[i, j] = ||x_i - x_j||`` (squared if asked), zero diagonal.

    Uses ``|x|^2 + |y|^2 - 2 x.y`` clipped at 0, and where the squared distance is 0 the square
    root is taken of a tiny positive number and the result zeroed, so the gradient stays finite
    for identical embeddings (tfa's recipe).
    """
    x = to_float32(embeddings)
    square_norm = ops.sum(ops.square(x), axis=1, keepdims=True)
    dist_sq = square_norm + ops.transpose(square_norm) - 2.0 * ops.matmul(x, ops.transpose(x))
    dist_sq = ops.maximum(dist_sq, 0.0)
    zero = dist_sq <= 0.0
    if squared:
        dist = dist_sq
    else:
        dist = ops.sqrt(dist_sq + ops.cast(zero, "float32") * 1e-16)
        dist = ops.where(zero, 0.0, dist)
    n = ops.shape(x)[0]
    return dist * (1.0 - ops.eye(n, dtype="float32"))


def angular_distance(embeddings) -> Any:
    """``D[i, j] = 1 - cos(x_i, x_j)``, clipped at 0."""
    x = to_float32(embeddings)
    x = x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=1, keepdims=True), 1e-12))
    return ops.maximum(1.0 - ops.matmul(x, ops.transpose(x)), 0.0)


DISTANCE_METRICS = ("L2", "squared-L2", "angular")


def check_distance_metric(distance_metric: Any) -> None:
    if not callable(distance_metric) and distance_metric not in DISTANCE_METRICS:
        raise ValueError(
            f"distance_metric must be one of {DISTANCE_METRICS} or a callable mapping "
            f"embeddings [batch, d] to distances [batch, batch]. "
            f"Received: distance_metric={distance_metric!r}"
        )


def distance_matrix(embeddings, distance_metric: Any) -> Any:
    """The ``[batch, batch]`` float32 distance matrix named by ``distance_metric``."""
    if distance_metric == "L2":
        return pairwise_distance(embeddings, squared=False)
    if distance_metric == "squared-L2":
        return pairwise_distance(embeddings, squared=True)
    if distance_metric == "angular":
        return angular_distance(embeddings)
    return to_float32(distance_metric(to_float32(embeddings)))


def serialize_metric(distance_metric: Any) -> Any:
    if isinstance(distance_metric, str):
        return distance_metric
    return keras.saving.serialize_keras_object(distance_metric)


def deserialize_metric(distance_metric: Any) -> Any:
    if isinstance(distance_metric, dict):
        return keras.saving.deserialize_keras_object(distance_metric)
    return distance_metric


def label_masks(labels) -> Any:
    """``(positive, negative)`` boolean ``[batch, batch]`` masks; the diagonal is in neither."""
    labels = flat_labels(labels)
    same = ops.expand_dims(labels, 1) == ops.expand_dims(labels, 0)
    n = ops.shape(labels)[0]
    off_diagonal = ops.logical_not(ops.cast(ops.eye(n), "bool"))
    return ops.logical_and(same, off_diagonal), ops.logical_not(same)


def spread_over_anchors(per_anchor_sum, count) -> Any:
    """Per-anchor terms whose batch mean is ``sum(per_anchor_sum) / count`` (0 when count is 0).

    tfa's mining losses return one scalar, a sum over valid pairs or anchors divided by their
    number. Returning it spread over the anchors lets Keras apply ``reduction`` and a per-anchor
    ``sample_weight``, and ``"sum_over_batch_size"`` gives tfa's value back.
    """
    n = ops.cast(ops.shape(per_anchor_sum)[0], "float32")
    return per_anchor_sum * n / ops.maximum(ops.cast(count, "float32"), 1.0)
