"""Pinball (quantile) loss for one quantile level."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, match_rank, to_float32
from kerazoo.registry import register


def pinball_loss(y_true: Any, y_pred: Any, tau: float = 0.5) -> Any:
    """Functional form of :class:`PinballLoss`: the mean over the last axis, as in tfa.

    Args:
        y_true: targets ``[batch, d0, ..., dN]``.
        y_pred: predictions, same shape.
        tau: the quantile level in ``[0, 1]`` (float or tensor broadcastable to the inputs).
            Defaults to ``0.5``.

    Returns:
        ``[batch, d0, ..., dN-1]`` losses in ``y_pred``'s dtype.

    Example:

    >>> import numpy as np
    >>> out = pinball_loss(np.array([[0., 1.]]), np.array([[1., 1.]]), tau=0.1)
    >>> print(np.round(np.asarray(out), 4))
    [0.45]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true32, y_pred32 = match_rank(to_float32(y_true), to_float32(y_pred))
    tau = to_float32(tau)
    delta = y_true32 - y_pred32
    loss = ops.maximum(tau * delta, (tau - 1.0) * delta)
    return ops.cast(ops.mean(loss, axis=-1), y_pred.dtype)


@register("losses", tfa="tfa.losses.PinballLoss")
class PinballLoss(KerazooLoss):
    r"""Pinball loss: the quantile-regression loss for the quantile ``tau``.

    .. code-block:: text

        loss = mean_last_axis( max(tau * (y - y_hat), (tau - 1) * (y - y_hat)) )

    ``tau = 0.5`` is half the mean absolute error. Same as tfa's. For several quantiles at once
    use :class:`QuantileLoss`.

    Args:
        tau: the quantile level in ``[0, 1]``. Defaults to ``0.5``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"pinball_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Example:

    >>> import numpy as np
    >>> loss = PinballLoss(tau=0.1)
    >>> print(round(float(loss(np.array([[0., 1.]]), np.array([[1., 1.]]))), 4))
    0.45

    Reference:
        Koenker & Bassett, "Regression Quantiles", Econometrica 1978.
        ``tfa.losses.PinballLoss``.
    """

    def __init__(self, tau: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "pinball_loss", dtype: Any = None):
        if not 0.0 <= float(tau) <= 1.0:
            raise ValueError(f"tau must be in [0, 1]. Received: tau={tau}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.tau = float(tau)

    def call(self, y_true, y_pred):
        return pinball_loss(y_true, y_pred, tau=self.tau)

    def get_config(self) -> dict:
        config = super().get_config()
        config["tau"] = self.tau
        return config
