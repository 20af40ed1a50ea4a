"""N-pairs loss for multi-label samples."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, to_float32
from kerazoo.losses.npairs_loss import _npairs_per_anchor
from kerazoo.registry import register


def _shared_labels(y_true):
    y_true = to_float32(y_true)
    return ops.matmul(y_true, ops.transpose(y_true))


def npairs_multilabel_loss(y_true: Any, y_pred: Any) -> Any:
    """Functional form of :class:`NpairsMultilabelLoss`: the batch's scalar loss, as in tfa.

    Args:
        y_true: multi-hot labels ``[batch, num_classes]`` (dense).
        y_pred: similarity logits ``[batch, batch]``.

    Returns:
        A scalar in ``y_pred``'s dtype.

    Example:

    >>> import numpy as np
    >>> labels = np.array([[1., 0.], [0., 1.]])
    >>> sim = np.array([[1., 0.2], [0.3, 0.9]])
    >>> print(round(float(npairs_multilabel_loss(labels, sim)), 4))
    0.4043
    """
    y_pred = ops.convert_to_tensor(y_pred)
    loss = _npairs_per_anchor(_shared_labels(y_true), y_pred)
    return ops.cast(ops.mean(loss), y_pred.dtype)


@register("losses", tfa="tfa.losses.NpairsMultilabelLoss")
class NpairsMultilabelLoss(KerazooLoss):
    r"""N-pairs loss where samples may carry several labels.

    .. code-block:: text

        A = Y @ Y^T                   (number of labels samples i and j share)
        t_ij = A_ij / sum_k A_ik
        loss_i = - sum_j t_ij * log_softmax(S_i)_j

    Same as tfa's for dense multi-hot ``y_true`` (tfa also took a ``tf.SparseTensor``: densify
    it first). A sample with no label has an all-zero target and contributes 0 (tfa: NaN).
    Computed in float32; returned per anchor so the default reduction gives tfa's scalar.

    Args:
        name: name of the loss. Defaults to ``"npairs_multilabel_loss"``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        dtype: dtype of the returned loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` multi-hot ``[batch, num_classes]``; ``y_pred`` logits
    ``[batch, batch]``.

    Example:

    >>> import numpy as np
    >>> labels = np.array([[1., 0.], [1., 1.]])
    >>> sim = np.array([[1., 0.2], [0.3, 0.9]])
    >>> print(round(float(NpairsMultilabelLoss()(labels, sim)), 4))
    0.7043

    Reference:
        Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective", NeurIPS
        2016. ``tfa.losses.NpairsMultilabelLoss``.
    """

    def __init__(self, name: str = "npairs_multilabel_loss",
                 reduction: str | None = "sum_over_batch_size", dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ops.cast(_npairs_per_anchor(_shared_labels(y_true), y_pred), y_pred.dtype)
