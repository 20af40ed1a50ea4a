"""Symmetric mean absolute percentage error (sMAPE), as scored in the M3/M4 competitions."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("metrics")
class SMAPE(keras.metrics.Mean):
    """Symmetric MAPE in percent (0 to 200), averaged over steps, then over samples.

    Per element:

        sMAPE = 200 * |y - y_hat| / (|y| + |y_hat|)

    with ``0 / 0`` (both zero: a perfect forecast of zero) counted as 0. Each sample's value is the
    mean over its remaining axes; the result is the (sample-weighted) mean over samples, held as a
    sum and a count that merge across replicas.

    Args:
        name: metric name. Defaults to ``"smape"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = SMAPE()
    >>> metric.update_state([[100.0, 200.0]], [[110.0, 180.0]])
    >>> round(float(metric.result()), 4)
    10.0251

    Reference:
        Makridakis, "Accuracy measures: theoretical and practical concerns", International
        Journal of Forecasting, 1993; Makridakis et al., "The M4 Competition", 2020.
    """

    def __init__(self, name: str = "smape", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        error = ops.abs(y_true - y_pred)
        scale = ops.abs(y_true) + ops.abs(y_pred)
        values = 200.0 * ops.where(scale > 0, error / ops.where(scale > 0, scale, 1.0), 0.0)
        super().update_state(values, sample_weight=sample_weight)
