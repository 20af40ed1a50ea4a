"""Streaming harmonic mean of values."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.HarmonicMean")
class HarmonicMean(keras.metrics.Mean):
    """Weighted harmonic mean of all values seen: ``sum(w) / sum(w / x)``.

    A zero value makes the result 0 (its reciprocal is infinite); before any update the result
    is 0, as in TensorFlow Addons. State: the weighted sum of reciprocals and the weight sum,
    summed across replicas.

    Args:
        name: metric name. Defaults to ``"harmonic_mean"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Call arguments (``update_state``):
        values: values of any shape.
        sample_weight: optional weights broadcastable to ``values``.

    Example:

    >>> metric = HarmonicMean()
    >>> metric.update_state([1, 4, 4])
    >>> float(metric.result())
    2.0

    Reference:
        ``tfa.metrics.HarmonicMean``.
    """

    def __init__(self, name: str = "harmonic_mean", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, values, sample_weight=None):
        super().update_state(1.0 / ops.cast(values, "float32"), sample_weight=sample_weight)

    def result(self):
        mean_reciprocal = super().result()
        safe = ops.where(mean_reciprocal == 0, 1.0, mean_reciprocal)
        return ops.where(mean_reciprocal == 0, 0.0, 1.0 / safe)
