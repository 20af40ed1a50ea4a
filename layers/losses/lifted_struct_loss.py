"""Lifted structured embedding loss (Oh Song et al.)."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import (
    BIG,
    KerazooLoss,
    label_masks,
    pairwise_distance,
    spread_over_anchors,
)
from kerazoo.registry import register


def _lifted_per_anchor(labels, embeddings, margin):
    dist = pairwise_distance(embeddings)
    positive, negative = label_masks(labels)
    diff = margin - dist
    has_negative = ops.any(negative, axis=-1, keepdims=True)
    row_max = ops.max(ops.where(negative, diff, -BIG), axis=-1, keepdims=True)
    # tfa tiles the batch to form exp(diff[j, k] - M[i, j]) for every (i, j, k); factoring
    # exp(diff[j, k] - m_j) * exp(m_j - M[i, j]) gives the same sums in O(n^2), and stays
    # stable because m_j <= M[i, j].
    row_sum = ops.sum(
        ops.where(negative, ops.exp(ops.where(negative, diff - row_max, 0.0)), 0.0),
        axis=-1, keepdims=True,
    )
    pair_max = ops.maximum(row_max, ops.transpose(row_max))
    left = ops.transpose(row_sum) * ops.exp(ops.transpose(row_max) - pair_max)
    right = row_sum * ops.exp(row_max - pair_max)
    valid = ops.logical_and(
        positive, ops.logical_or(has_negative, ops.transpose(has_negative))
    )
    log_sum = ops.log(ops.where(valid, left + right, 1.0))
    loss_mat = pair_max + log_sum + dist
    terms = ops.where(valid, ops.square(ops.relu(loss_mat)), 0.0)
    # tfa: 0.25 * sum over ordered positive pairs / (number of ordered pairs / 2).
    count = ops.sum(ops.cast(valid, "float32")) / 2.0
    return spread_over_anchors(0.25 * ops.sum(terms, axis=-1), count)


def lifted_struct_loss(labels: Any, embeddings: Any, margin: float = 1.0) -> Any:
    """Functional form of :class:`LiftedStructLoss`: the batch's scalar loss, as in tfa.

    Args:
        labels: integer class ids ``[batch]`` or ``[batch, 1]``.
        embeddings: ``[batch, d]``.
        margin: the margin. Defaults to ``1.0``.

    Returns:
        A scalar in ``embeddings``' dtype.

    Example:

    >>> import numpy as np
    >>> loss = lifted_struct_loss(np.array([0, 0, 1, 1]),
    ...                           np.array([[0., 0.], [0., .5], [1., 0.], [1., .5]]))
    >>> print(round(float(loss), 4))
    1.6727
    """
    embeddings = ops.convert_to_tensor(embeddings)
    loss = _lifted_per_anchor(labels, embeddings, margin)
    return ops.cast(ops.mean(loss), embeddings.dtype)


@register("losses", tfa="tfa.losses.LiftedStructLoss")
class LiftedStructLoss(KerazooLoss):
    r"""Lifted structured loss: every positive pair against all negatives of both its members.

    .. code-block:: text

        J_ij = D_ij + log( sum_{k in N(i)} exp(margin - D_ik) + sum_{l in N(j)} exp(margin - D_jl) )
        loss = 1 / (2 |P|) * sum_{(i,j) in P} max(J_ij, 0)^2

    over the unordered positive pairs ``P`` of the batch, with Euclidean distances ``D`` in
    float32 and a log-sum-exp shifted by the largest term (as in tfa and the paper's Caffe code).
    Same value as tfa's. Degenerate batches: no positive pair (every class seen once) or no
    negative (one class) gives ``0``, where tfa gives NaN. Returned per anchor, scaled so the
    default reduction gives the scalar above; ``sample_weight`` weights anchors.

    Args:
        margin: the margin. Defaults to ``1.0``.
        name: name of the loss. Defaults to ``"lifted_struct_loss"``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        dtype: dtype of the returned loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` integer labels ``[batch]`` or ``[batch, 1]``; ``y_pred``
    embeddings ``[batch, d]``.

    Example:

    >>> import numpy as np
    >>> loss = LiftedStructLoss()
    >>> labels = np.array([0, 0, 1, 1])
    >>> emb = np.array([[0., 0.], [0., .5], [1., 0.], [1., .5]])
    >>> print(round(float(loss(labels, emb)), 4))
    1.6727

    Reference:
        Oh Song et al., "Deep Metric Learning via Lifted Structured Feature Embedding",
        CVPR 2016. ``tfa.losses.LiftedStructLoss``.
    """

    def __init__(self, margin: float = 1.0, name: str = "lifted_struct_loss",
                 reduction: str | None = "sum_over_batch_size", dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin

    def call(self, y_true, y_pred):
        return ops.cast(_lifted_per_anchor(y_true, y_pred, self.margin), y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config["margin"] = self.margin
        return config
