"""Sparsemax loss: the loss whose gradient is ``sparsemax(z) - y``."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.activations.sparsemax import sparsemax as _sparsemax
from kerazoo.losses._common import KerazooLoss, to_float32
from kerazoo.registry import register


def sparsemax_loss(logits: Any, sparsemax: Any, labels: Any) -> Any:
    """The sparsemax loss of ``logits`` given their ``sparsemax`` and target ``labels``; as tfa.

    Args:
        logits: ``[batch, num_classes]``.
        sparsemax: ``sparsemax(logits)``, same shape.
        labels: target distributions (e.g. one-hot), same shape.

    Returns:
        ``[batch]`` losses (float32).

    Example:

    >>> import numpy as np
    >>> from kerazoo.activations import sparsemax as sm
    >>> z = np.array([[2.0, 1.0, -1.0]], "float32")
    >>> print(np.round(np.asarray(sparsemax_loss(z, sm(z), np.array([[0., 1., 0.]]))), 4))
    [1.]
    """
    z = to_float32(logits)
    p = to_float32(sparsemax)
    q = to_float32(labels)
    # where, not a product, so z = -inf outside the support gives 0 rather than 0 * -inf.
    support = ops.logical_or(p > 0, ops.isnan(p))
    sum_s = ops.where(support, p * (z - 0.5 * ops.where(support, p, 0.0)), 0.0)
    q_part = ops.where(ops.logical_and(q == 0, ops.isinf(z)), 0.0, q * (0.5 * q - z))
    return ops.sum(sum_s + q_part, axis=-1)


@register("losses", tfa="tfa.losses.SparsemaxLoss")
class SparsemaxLoss(KerazooLoss):
    r"""Sparsemax loss for logits, the sparse counterpart of softmax cross-entropy.

    .. code-block:: text

        loss(z, q) = sum_{j in S(z)} p_j (z_j - p_j / 2) + |q|^2 / 2 - q . z,   p = sparsemax(z)

    with ``S(z)`` the support of ``p``. Its gradient in ``z`` is ``p - q``. Computed in float32
    with :func:`kerazoo.activations.sparsemax` (Keras 3.15's own sparsemax is wrong on its TF
    backend). Same as tfa's.

    Args:
        from_logits: must be ``True`` (as in tfa). Defaults to ``True``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"sparsemax_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` target distributions (one-hot) ``[batch, num_classes]``;
    ``y_pred`` logits, same shape.

    Example:

    >>> import numpy as np
    >>> loss = SparsemaxLoss()
    >>> print(round(float(loss(np.array([[0., 1., 0.]]), np.array([[2.0, 1.0, -1.0]]))), 4))
    1.0

    Reference:
        Martins & Astudillo, "From Softmax to Sparsemax", ICML 2016. ``tfa.losses.SparsemaxLoss``.
    """

    def __init__(self, from_logits: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "sparsemax_loss", dtype: Any = None):
        if from_logits is not True:
            raise ValueError(f"SparsemaxLoss needs logits. Received: from_logits={from_logits}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        z = to_float32(y_pred)
        loss = sparsemax_loss(z, _sparsemax(z), y_true)
        return ops.cast(loss, y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config["from_logits"] = self.from_logits
        return config
