"""Mean pinball (quantile) loss over several quantile forecasts at once."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("metrics")
class MeanQuantileLoss(keras.metrics.Mean):
    """Pinball loss averaged over quantiles, steps and samples.

    ``y_pred`` has a last axis of one forecast per quantile ``q_k`` (``(..., K)``); ``y_true`` is
    ``(...)`` or ``(..., 1)``. With ``e_k = y - y_hat_k``:

        loss = mean_k max(q_k * e_k, (q_k - 1) * e_k)

    Each sample's value is the mean over its remaining axes; the result is the (sample-weighted)
    mean over samples, held as a sum and a count that merge across replicas. At ``q = 0.5`` the
    pinball loss is half the absolute error.

    Args:
        quantiles: the quantile levels in ``(0, 1)``, in the order of ``y_pred``'s last axis.
            Defaults to ``(0.1, 0.5, 0.9)``.
        name: metric name. Defaults to ``"mean_quantile_loss"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = MeanQuantileLoss(quantiles=(0.1, 0.9))
    >>> metric.update_state([[1.0]], [[[0.0, 2.0]]])
    >>> round(float(metric.result()), 4)
    0.1

    Reference:
        Koenker and Bassett, "Regression Quantiles", Econometrica, 1978; Wen et al., "A
        Multi-Horizon Quantile Recurrent Forecaster", 2017.
    """

    def __init__(
        self,
        quantiles: tuple[float, ...] | list[float] = (0.1, 0.5, 0.9),
        name: str = "mean_quantile_loss",
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        quantiles = tuple(float(q) for q in quantiles)
        if not quantiles or not all(0.0 < q < 1.0 for q in quantiles):
            raise ValueError(
                f"`quantiles` must be a non-empty list of levels in (0, 1). "
                f"Received: quantiles={quantiles}"
            )
        self.quantiles = quantiles

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        if y_pred.shape[-1] != len(self.quantiles):
            raise ValueError(
                f"y_pred's last axis must hold one forecast per quantile ({len(self.quantiles)}). "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, axis=-1)
        error = ops.expand_dims(y_true, -1) - y_pred
        levels = ops.convert_to_tensor(self.quantiles, dtype="float32")
        loss = ops.maximum(levels * error, (levels - 1.0) * error)
        super().update_state(ops.mean(loss, axis=-1), sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config["quantiles"] = list(self.quantiles)
        return config
