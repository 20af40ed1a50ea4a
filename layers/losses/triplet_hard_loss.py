"""Triplet loss with batch-hard mining (hardest positive and hardest negative per anchor)."""

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


def _hard_per_anchor(labels, embeddings, margin, soft, distance_metric):
    dist = distance_matrix(embeddings, distance_metric)
    positive, negative = label_masks(labels)
    hardest_positive = ops.max(ops.where(positive, dist, -BIG), axis=-1)
    hardest_negative = ops.min(ops.where(negative, dist, BIG), axis=-1)
    gap = hardest_positive - hardest_negative
    loss = ops.log1p(ops.exp(gap)) if soft else ops.relu(gap + margin)
    valid = ops.logical_and(ops.any(positive, axis=-1), ops.any(negative, axis=-1))
    loss = ops.where(valid, loss, 0.0)
    return spread_over_anchors(loss, ops.sum(ops.cast(valid, "float32")))


def triplet_hard_loss(y_true: Any, y_pred: Any, margin: float = 1.0, soft: bool = False,
                      distance_metric: str | Callable = "L2") -> Any:
    """Functional form of :class:`TripletHardLoss`: the batch's scalar loss, as in tfa.

    Args:
        y_true: integer class ids, ``[batch]`` or ``[batch, 1]``.
        y_pred: embeddings ``[batch, d]``.
        margin: the margin. Defaults to ``1.0``.
        soft: use the soft margin ``log(1 + exp(gap))``. Defaults to ``False``.
        distance_metric: ``"L2"``, ``"squared-L2"``, ``"angular"`` or a callable.
            Defaults to ``"L2"``.

    Returns:
        A scalar in ``y_pred``'s dtype.

    Example:

    >>> import numpy as np
    >>> loss = triplet_hard_loss(np.array([0, 0, 1, 1]),
    ...                          np.array([[0., 0.], [0., .5], [1., 0.], [1., .5]]))
    >>> print(round(float(loss), 4))
    0.5
    """
    y_pred = ops.convert_to_tensor(y_pred)
    loss = _hard_per_anchor(y_true, y_pred, margin, soft, distance_metric)
    return ops.cast(ops.mean(loss), y_pred.dtype)


@register("losses", tfa="tfa.losses.TripletHardLoss")
class TripletHardLoss(KerazooLoss):
    r"""Batch-hard triplet loss: each anchor's farthest positive against its closest negative.

    .. code-block:: text

        loss_a = max(D(a, p*) - D(a, n*) + margin, 0)        (soft: log(1 + exp(D(a,p*) - D(a,n*))))
        p* = argmax_{p: y_p = y_a, p != a} D(a, p),   n* = argmin_{n: y_n != y_a} D(a, n)
        loss = mean over anchors that have a positive and a negative

    Same as tfa's on batches where every anchor has a positive and a negative. An anchor that
    has none (a class seen once, or a batch of one class) has no triplet and is left out of the
    mean; a batch with no valid anchor gives ``0``. (tfa kept such anchors with a positive
    distance of 0, i.e. ``max(margin - D(a, n*), 0)``, or ``margin`` for a one-class batch.)
    Returned per anchor, scaled so that the default reduction gives that mean; distances in
    float32.

    Args:
        margin: the margin. Defaults to ``1.0``.
        soft: use the soft-margin form instead of the hinge. Defaults to ``False``.
        distance_metric: ``"L2"``, ``"squared-L2"``, ``"angular"`` or a callable mapping
            embeddings ``[batch, d]`` to distances ``[batch, batch]``. Defaults to ``"L2"``.
        name: name of the loss. Defaults to ``"triplet_hard_loss"``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        dtype: dtype of the returned loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` integer labels ``[batch]`` or ``[batch, 1]``; ``y_pred``
    embeddings ``[batch, d]``.

    Example:

    >>> import numpy as np
    >>> loss = TripletHardLoss(margin=1.0)
    >>> labels = np.array([0, 0, 1, 1])
    >>> emb = np.array([[0., 0.], [0., .5], [1., 0.], [1., .5]])
    >>> print(round(float(loss(labels, emb)), 4))
    0.5

    Reference:
        Hermans et al., "In Defense of the Triplet Loss for Person Re-Identification", 2017.
        ``tfa.losses.TripletHardLoss``.
    """

    def __init__(self, margin: float = 1.0, soft: bool = False,
                 distance_metric: str | Callable = "L2", name: str = "triplet_hard_loss",
                 reduction: str | None = "sum_over_batch_size", dtype: Any = None):
        check_distance_metric(distance_metric)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin
        self.soft = soft
        self.distance_metric = distance_metric

    def call(self, y_true, y_pred):
        loss = _hard_per_anchor(y_true, y_pred, self.margin, self.soft, self.distance_metric)
        return ops.cast(loss, y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"margin": self.margin, "soft": self.soft,
                       "distance_metric": serialize_metric(self.distance_metric)})
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["distance_metric"] = deserialize_metric(config.get("distance_metric", "L2"))
        return cls(**config)
