"""Triplet loss with semi-hard negative mining (FaceNet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keras import ops

from kerazoo.losses._common import (
    BIG,
    KerazooLoss,
    check_distance_metric,
    deserialize_metric,
    distance_matrix,
    label_masks,
    serialize_metric,
    spread_over_anchors,
)
from kerazoo.registry import register


def _semihard_per_anchor(labels, embeddings, margin, distance_metric):
    dist = distance_matrix(embeddings, distance_metric)
    positive, negative = label_masks(labels)
    # candidates[a, p, n]: n is a negative of a farther from a than p is.
    d_an = ops.expand_dims(dist, 1)
    d_ap = ops.expand_dims(dist, 2)
    candidates = ops.logical_and(ops.expand_dims(negative, 1), d_an > d_ap)
    outside = ops.min(ops.where(candidates, d_an, BIG), axis=-1)
    inside = ops.max(ops.where(negative, dist, -BIG), axis=-1, keepdims=True)
    semi_hard = ops.where(ops.any(candidates, axis=-1), outside, inside)
    has_negative = ops.any(negative, axis=-1, keepdims=True)
    valid = ops.logical_and(positive, has_negative)
    terms = ops.where(valid, ops.relu(margin + dist - semi_hard), 0.0)
    return spread_over_anchors(ops.sum(terms, axis=-1), ops.sum(ops.cast(valid, "float32")))


def triplet_semihard_loss(y_true: Any, y_pred: Any, margin: float = 1.0,
                          distance_metric: str | Callable = "L2") -> Any:
    """Functional form of :class:`TripletSemiHardLoss`: the batch's scalar loss, as in tfa.

    Args:
        y_true: integer class ids, ``[batch]`` or ``[batch, 1]``.
        y_pred: embeddings ``[batch, d]``.
        margin: the margin. Defaults to ``1.0``.
        distance_metric: ``"L2"``, ``"squared-L2"``, ``"angular"`` or a callable.
            Defaults to ``"L2"``.

    Returns:
        A scalar in ``y_pred``'s dtype.

    Example:

    >>> import numpy as np
    >>> loss = triplet_semihard_loss(np.array([0, 0, 1, 1]),
    ...                              np.array([[0., 0.], [0., .5], [1., 0.], [1., .5]]))
    >>> print(round(float(loss), 4))
    0.5
    """
    y_pred = ops.convert_to_tensor(y_pred)
    loss = _semihard_per_anchor(y_true, y_pred, margin, distance_metric)
    return ops.cast(ops.mean(loss), y_pred.dtype)


@register("losses", tfa="tfa.losses.TripletSemiHardLoss")
class TripletSemiHardLoss(KerazooLoss):
    r"""Triplet loss over semi-hard negatives mined in the batch; same as tfa's.

    For every anchor ``a`` and positive ``p`` (same label, ``p != a``) the negative ``n`` is the
    closest one farther than ``p`` (semi-hard), or the farthest negative if none is:

    .. code-block:: text

        loss = sum_{(a,p)} max(margin + D(a, p) - D(a, n(a, p)), 0) / #(a, p)

    Returned per anchor (the anchor's share of that sum, scaled so that the batch mean with the
    default ``"sum_over_batch_size"`` reduction equals tfa's scalar); ``sample_weight`` weights
    anchors. Distances are computed in float32 and the result cast back. Degenerate batches:
    pairs whose anchor has no negative (a batch of one class) count as no triplet, so a batch
    with no valid triplet (one class, or every class seen once) gives ``0``, never NaN (tfa
    gives NaN or ``margin + mean D(a, p)``).

    Args:
        margin: the margin. Defaults to ``1.0``.
        distance_metric: ``"L2"`` (Euclidean), ``"squared-L2"``, ``"angular"`` (1 - cosine) or a
            callable mapping float32 embeddings ``[batch, d]`` to distances ``[batch, batch]``
            (a callable serializes only if it is itself Keras-serializable). Defaults to ``"L2"``.
        name: name of the loss. Defaults to ``"triplet_semihard_loss"``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        dtype: dtype of the returned loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` integer labels ``[batch]`` or ``[batch, 1]``; ``y_pred``
    embeddings ``[batch, d]`` (usually L2-normalised).

    Example:

    >>> import numpy as np
    >>> loss = TripletSemiHardLoss()
    >>> labels = np.array([0, 0, 1, 1])
    >>> emb = np.array([[0., 0.], [0., .5], [1., 0.], [1., .5]])
    >>> print(round(float(loss(labels, emb)), 4))
    0.5

    Reference:
        Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and Clustering",
        CVPR 2015. ``tfa.losses.TripletSemiHardLoss``.
    """

    def __init__(self, margin: float = 1.0, distance_metric: str | Callable = "L2",
                 name: str = "triplet_semihard_loss", reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None):
        check_distance_metric(distance_metric)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin
        self.distance_metric = distance_metric

    def call(self, y_true, y_pred):
        loss = _semihard_per_anchor(y_true, y_pred, self.margin, self.distance_metric)
        return ops.cast(loss, y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"margin": self.margin,
                       "distance_metric": serialize_metric(self.distance_metric)})
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["distance_metric"] = deserialize_metric(config.get("distance_metric", "L2"))
        return cls(**config)
