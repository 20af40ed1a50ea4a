"""Pinball loss for several quantile levels predicted at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, to_float32
from kerazoo.registry import register


@register("losses")
class QuantileLoss(KerazooLoss):
    r"""Mean pinball loss over ``K`` quantile forecasts held on ``y_pred``'s last axis.

    With ``e_k = y - y_hat_k``:

    .. code-block:: text

        loss = mean_k max(q_k * e_k, (q_k - 1) * e_k)

    ``y_pred`` is ``[..., K]`` (one forecast per level, in the order of ``quantiles``) and
    ``y_true`` is ``[...]`` or ``[..., 1]``; the result has ``y_true``'s shape without a trailing
    1. A single level ``(0.5,)`` is half the absolute error; :class:`PinballLoss` is the one-level
    form with a mean over the last axis. Matches the metric ``kerazoo.metrics.MeanQuantileLoss``.
    Computed in float32.

    Args:
        quantiles: the levels in ``(0, 1)``, in the order of ``y_pred``'s last axis.
            Defaults to ``(0.1, 0.5, 0.9)``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"quantile_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Example:

    >>> import numpy as np
    >>> loss = QuantileLoss(quantiles=(0.1, 0.9))
    >>> print(round(float(loss(np.array([[1.0]]), np.array([[0.0, 2.0]]))), 4))
    0.1

    Reference:
        Koenker & Bassett, "Regression Quantiles", Econometrica 1978; Wen et al., "A
        Multi-Horizon Quantile Recurrent Forecaster", 2017.
    """

    def __init__(self, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                 reduction: str | None = "sum_over_batch_size", name: str = "quantile_loss",
                 dtype: Any = None):
        quantiles = tuple(float(q) for q in quantiles)
        if not quantiles or not all(0.0 < q < 1.0 for q in quantiles):
            raise ValueError(
                f"quantiles must be a non-empty sequence of levels in (0, 1). "
                f"Received: quantiles={quantiles}"
            )
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.quantiles = quantiles

    def call(self, y_true, y_pred):
        pred = to_float32(y_pred)
        if pred.shape[-1] != len(self.quantiles):
            raise ValueError(
                f"y_pred's last axis must hold one forecast per quantile ({len(self.quantiles)})."
                f" Received: y_pred.shape={y_pred.shape}"
            )
        target = to_float32(y_true)
        if len(target.shape) == len(pred.shape) and target.shape[-1] == 1:
            target = ops.squeeze(target, -1)
        error = ops.expand_dims(target, -1) - pred
        levels = ops.convert_to_tensor(self.quantiles, dtype="float32")
        loss = ops.maximum(levels * error, (levels - 1.0) * error)
        return ops.cast(ops.mean(loss, axis=-1), y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config["quantiles"] = list(self.quantiles)
        return config
