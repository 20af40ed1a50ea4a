"""Mean absolute scaled error as a loss."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.losses._common import KerazooLoss, to_float32
from kerazoo.registry import register


@register("losses")
class MASELoss(KerazooLoss):
    r"""Mean absolute scaled error: the forecast's MAE over the seasonal naive forecast's MAE.

    Each sample is one series, ``y_pred`` ``[batch, horizon]`` or ``[batch, horizon, features]``:

    .. code-block:: text

        scale_s = mean_t |h_t - h_{t-m}|          (h: the series' history, m: seasonality)
        loss_s  = mean_t |y_t - y_hat_t| / scale_s

    **How the scale is given:** through ``y_true``, which carries the history in front of the
    targets, so no extra input is needed and the pair still fits ``model.fit(x, y)``:

    * ``y_true`` ``[batch, history + horizon, ...]`` (more steps than ``y_pred``): its leading
      ``history`` steps give the scale and its last ``horizon`` steps are the targets (the M4
      definition, with the in-sample history).
    * ``y_true`` with ``horizon`` steps, like ``y_pred``: the scale comes from ``y_true``'s own
      seasonal differences over the window (needs ``horizon > seasonality``).

    A series whose scale is 0 (constant history) has no defined MASE and contributes 0. A
    precomputed scale can instead be passed as ``sample_weight = 1 / scale`` to
    ``keras.losses.MeanAbsoluteError``. Same conventions as the metric ``kerazoo.metrics.MASE``.
    Computed in float32; one value per series.

    Args:
        seasonality: the season length ``m`` (1 = the random-walk naive forecast).
            Defaults to ``1``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"mase_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Example:

    >>> import numpy as np
    >>> loss = MASELoss(seasonality=1)
    >>> y_true = np.array([[1., 2., 3., 4., 5.]])   # 3 steps of history, 2 targets
    >>> print(round(float(loss(y_true, np.array([[4.5, 5.5]]))), 4))
    0.5

    Reference:
        Hyndman & Koehler, "Another look at measures of forecast accuracy", IJF 2006.
    """

    def __init__(self, seasonality: int = 1, reduction: str | None = "sum_over_batch_size",
                 name: str = "mase_loss", dtype: Any = None):
        if isinstance(seasonality, bool) or int(seasonality) != seasonality or seasonality < 1:
            raise ValueError(
                f"seasonality must be a positive integer. Received: seasonality={seasonality}"
            )
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.seasonality = int(seasonality)

    def call(self, y_true, y_pred):
        target, pred = to_float32(y_true), to_float32(y_pred)
        if len(target.shape) < 2 or len(target.shape) != len(pred.shape):
            raise ValueError(
                "MASELoss expects y_true and y_pred of shape (batch, steps[, features]). "
                f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        horizon, steps = pred.shape[1], target.shape[1]
        m = self.seasonality
        history = target if steps == horizon else target[:, : steps - horizon]
        if history.shape[1] <= m:
            raise ValueError(
                f"MASELoss needs more than seasonality={m} steps of history in y_true. "
                f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        target = target[:, steps - horizon:]
        axes = tuple(range(1, len(target.shape)))
        scale = ops.mean(ops.abs(history[:, m:] - history[:, :-m]), axis=axes)
        error = ops.mean(ops.abs(target - pred), axis=axes)
        defined = scale > 0
        loss = ops.where(defined, error / ops.where(defined, scale, 1.0), 0.0)
        return ops.cast(loss, y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config["seasonality"] = self.seasonality
        return config
