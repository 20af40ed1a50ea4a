"""N-pairs loss: softmax cross-entropy over a similarity matrix with same-label targets."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, flat_labels, to_float32
from kerazoo.registry import register


def _npairs_per_anchor(targets, logits):
    targets = targets / ops.maximum(ops.sum(targets, axis=-1, keepdims=True), 1e-30)
    log_probs = ops.log_softmax(to_float32(logits), axis=-1)
    return -ops.sum(targets * log_probs, axis=-1)


def _same_label(labels):
    labels = flat_labels(labels)
    return ops.cast(ops.expand_dims(labels, 1) == ops.expand_dims(labels, 0), "float32")


def npairs_loss(y_true: Any, y_pred: Any) -> Any:
    """Functional form of :class:`NpairsLoss`: the batch's scalar loss, as in tfa.

    Args:
        y_true: integer class ids ``[batch]``.
        y_pred: similarity logits ``[batch, batch]``.

    Returns:
        A scalar in ``y_pred``'s dtype.

    Example:

    >>> import numpy as np
    >>> sim = np.array([[1., 0.2], [0.3, 0.9]])
    >>> print(round(float(npairs_loss(np.array([0, 1]), sim)), 4))
    0.4043
    """
    y_pred = ops.convert_to_tensor(y_pred)
    loss = _npairs_per_anchor(_same_label(y_true), y_pred)
    return ops.cast(ops.mean(loss), y_pred.dtype)


@register("losses", tfa="tfa.losses.NpairsLoss")
class NpairsLoss(KerazooLoss):
    r"""N-pairs loss: each row of a similarity matrix is a softmax over the batch.

    .. code-block:: text

        t_ij = [y_i == y_j] / sum_k [y_i == y_k]
        loss_i = - sum_j t_ij * log_softmax(S_i)_j

    ``y_pred`` is the similarity matrix ``S`` (e.g. ``anchors @ positives.T``); the row's target
    spreads evenly over the columns with the same label. Computed in float32. Returned per
    anchor: the default reduction gives tfa's scalar (tfa fixed ``reduction`` to NONE and returned
    the mean); ``sample_weight`` weights anchors. Every row has at least its own label, so a batch
    of one class or of singletons is well defined (no NaN).

    Args:
        name: name of the loss. Defaults to ``"npairs_loss"``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        dtype: dtype of the returned loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` integer labels ``[batch]``; ``y_pred`` logits ``[batch, batch]``.

    Example:

    >>> import numpy as np
    >>> sim = np.array([[1., 0.2], [0.3, 0.9]])
    >>> print(round(float(NpairsLoss()(np.array([0, 1]), sim)), 4))
    0.4043

    Reference:
        Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective", NeurIPS
        2016. ``tfa.losses.NpairsLoss``.
    """

    def __init__(self, name: str = "npairs_loss", reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ops.cast(_npairs_per_anchor(_same_label(y_true), y_pred), y_pred.dtype)
