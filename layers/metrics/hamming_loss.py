"""Hamming loss: the fraction of wrong labels, for multi-class or multi-label outputs."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register

_MODES = ("multiclass", "multilabel")


@register("metrics", tfa="tfa.metrics.HammingLoss")
class HammingLoss(keras.metrics.Mean):
    """Mean Hamming loss between 0/1 label rows and scores.

    Scores become 0/1 predictions by ``y_pred > threshold`` or, with ``threshold=None``, by
    marking each row's maximum (every tied maximum; an all-zero row predicts nothing). Per sample,
    with ``L`` labels:

    * ``mode="multiclass"``: ``1 - |{k : y_k = 1 and p_k = 1}|`` (0 when the true class is
      predicted, 1 otherwise; a row predicting several tied classes that include the true one
      scores ``1 - 1``; as in TensorFlow Addons, ties on a wrong class can make it negative).
    * ``mode="multilabel"``: ``|{k : y_k != p_k}| / L``.

    The result is the (sample-weighted) mean over samples; the state is a sum and a count,
    summed across replicas.

    Args:
        mode: ``"multiclass"`` or ``"multilabel"``.
        name: metric name. Defaults to ``"hamming_loss"``.
        threshold: score above which a label is predicted; ``None`` predicts each row's
            maximum. Defaults to ``None``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = HammingLoss(mode="multilabel", threshold=0.8)
    >>> metric.update_state([[1, 0, 1, 0], [0, 1, 0, 1]],
    ...                     [[0.82, 0.5, 0.9, 0.0], [0.0, 0.9, 0.2, 0.3]])
    >>> float(metric.result())
    0.125

    Reference:
        Tsoumakas and Katakis, "Multi-Label Classification: An Overview", 2007;
        ``tfa.metrics.HammingLoss``.
    """

    def __init__(
        self,
        mode: str,
        name: str = "hamming_loss",
        threshold: float | None = None,
        dtype: str | None = None,
    ):
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}. Received: mode={mode!r}")
        super().__init__(name=name, dtype=dtype)
        self.mode = mode
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.cast(y_pred, "float32")
        if self.threshold is None:
            row_max = ops.max(y_pred, axis=-1, keepdims=True)
            predicted = ops.logical_and(y_pred >= row_max, ops.abs(y_pred) > 1e-12)
        else:
            predicted = y_pred > self.threshold
        predicted = ops.cast(predicted, "int32")
        y_true = ops.cast(y_true, "int32")
        if self.mode == "multiclass":
            hits = ops.sum(ops.cast(y_true * predicted != 0, "float32"), axis=-1)
            values = 1.0 - hits
        else:
            wrong = ops.sum(ops.cast(y_true != predicted, "float32"), axis=-1)
            values = wrong / y_true.shape[-1]
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "threshold": self.threshold})
        return config
