"""Symmetric mean absolute percentage error as a loss."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, match_rank, to_float32
from kerazoo.registry import register


@register("losses")
class SMAPELoss(KerazooLoss):
    r"""Symmetric MAPE in percent (0 to 200), averaged over the last axis.

    .. code-block:: text

        loss = mean_last_axis( 200 * |y - y_hat| / (|y| + |y_hat|) )

    with ``0 / 0`` (both zero: a perfect forecast of zero) counted as 0, so no NaN and a zero
    gradient there. The M3/M4 competitions' sMAPE; same per-element formula as the metric
    ``kerazoo.metrics.SMAPE``. Bounded, unlike MAPE, but not smooth where ``y_hat`` crosses 0.
    Computed in float32.

    Args:
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"smape_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Example:

    >>> import numpy as np
    >>> loss = SMAPELoss()
    >>> print(round(float(loss(np.array([[100.0, 200.0]]), np.array([[110.0, 180.0]]))), 4))
    10.0251

    Reference:
        Makridakis, "Accuracy measures: theoretical and practical concerns", IJF 1993;
        Makridakis et al., "The M4 Competition", IJF 2020.
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "smape_loss",
                 dtype: Any = None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        target, pred = match_rank(to_float32(y_true), to_float32(y_pred))
        scale = ops.abs(target) + ops.abs(pred)
        defined = scale > 0
        values = 200.0 * ops.where(defined, ops.abs(target - pred) / ops.where(defined, scale, 1.0),
                                   0.0)
        return ops.cast(ops.mean(values, axis=-1), y_pred.dtype)
