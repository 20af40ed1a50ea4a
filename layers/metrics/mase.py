"""Mean absolute scaled error (MASE) of forecasts, one scale per series."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("metrics")
class MASE(keras.metrics.Metric):
    """Mean absolute scaled error: forecast MAE over the MAE of the seasonal naive forecast.

    Each sample is one series ``(steps,)`` or ``(steps, features)``. Its scale is the mean of
    ``|y_t - y_{t-m}|`` (``m = seasonality``) over its in-sample history, and

        MASE_s = mean_t |y_t - y_hat_t| / mean_t |y_t - y_{t-m}|

    * If ``y_true`` has MORE steps than ``y_pred`` (``history + horizon``), its leading steps are
      the history and the last ``horizon`` steps are scored (the M4 definition).
    * If both have the same steps, the scale comes from ``y_true``'s own seasonal differences.

    The result is the (sample-weighted) mean of ``MASE_s`` over series. A series whose scale is 0
    (constant history) has no defined MASE and is left out. State: the weighted sum of
    ``MASE_s`` and the weight sum, merged across replicas by addition.

    Args:
        seasonality: season length ``m`` (1 = the random-walk naive forecast). Defaults to ``1``.
        name: metric name. Defaults to ``"mase"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = MASE()
    >>> history_and_truth = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]
    >>> metric.update_state(history_and_truth, [[5.5, 6.5]])
    >>> float(metric.result())
    0.5

    Reference:
        Hyndman and Koehler, "Another look at measures of forecast accuracy", International
        Journal of Forecasting, 2006.
    """

    def __init__(self, seasonality: int = 1, name: str = "mase", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)
        if isinstance(seasonality, bool) or int(seasonality) != seasonality or seasonality < 1:
            raise ValueError(
                f"`seasonality` must be a positive integer. Received: seasonality={seasonality}"
            )
        self.seasonality = int(seasonality)
        self.total = self.add_variable((), "zeros", "float32", name="total")
        self.count = self.add_variable((), "zeros", "float32", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        if len(y_true.shape) < 2:
            raise ValueError(
                f"MASE expects (batch, steps[, features]). Received: y_true.shape={y_true.shape}"
            )
        horizon = y_pred.shape[1]
        steps = y_true.shape[1]
        if steps <= self.seasonality:
            raise ValueError(
                f"MASE needs more than seasonality={self.seasonality} steps of y_true. "
                f"Received: y_true.shape={y_true.shape}"
            )
        history = y_true if steps == horizon else y_true[:, : steps - horizon]
        target = y_true[:, steps - horizon :]
        axes = tuple(range(1, len(y_true.shape)))
        m = self.seasonality
        scale = ops.mean(ops.abs(history[:, m:] - history[:, :-m]), axis=axes)
        error = ops.mean(ops.abs(target - y_pred), axis=axes)
        defined = scale > 0
        values = ops.where(defined, error / ops.where(defined, scale, 1.0), 0.0)
        weight = ops.cast(defined, "float32")
        if sample_weight is not None:
            weight = weight * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.total.assign_add(ops.sum(weight * values))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.cast(ops.divide_no_nan(self.total, self.count), self.dtype)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config["seasonality"] = self.seasonality
        return config
