"""Streaming geometric mean of values."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.GeometricMean")
class GeometricMean(keras.metrics.Metric):
    """Weighted geometric mean of all values seen: ``exp(sum(w * log(x)) / sum(w))``.

    Values must be positive; a zero value makes the result 0 from then on (``log 0 = -inf``),
    as in TensorFlow Addons. Zero-weight values are skipped even when they are 0. Before any
    update the result is 0. State: the weighted log-sum and the weight sum, summed across
    replicas.

    Args:
        name: metric name. Defaults to ``"geometric_mean"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Call arguments (``update_state``):
        values: values of any shape.
        sample_weight: optional weights broadcastable to ``values``.

    Example:

    >>> metric = GeometricMean()
    >>> metric.update_state([1, 3, 5, 7, 9])
    >>> round(float(metric.result()), 4)
    3.9363

    Reference:
        ``tfa.metrics.GeometricMean``.
    """

    def __init__(self, name: str = "geometric_mean", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", "float32", name="total")
        self.count = self.add_variable((), "zeros", "float32", name="count")

    def update_state(self, values, sample_weight=None):
        values = ops.cast(values, "float32")
        if sample_weight is None:
            weight = ops.ones_like(values)
        else:
            weight = ops.broadcast_to(ops.cast(sample_weight, "float32"), ops.shape(values))
        # where() keeps a zero-weight 0 value from turning the sum into 0 * -inf = nan.
        logs = ops.where(weight != 0, weight * ops.log(values), ops.zeros_like(values))
        self.total.assign_add(ops.sum(logs))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        mean = ops.exp(self.total / ops.maximum(self.count, 1e-30))
        return ops.cast(ops.where(self.count > 0, mean, 0.0), self.dtype)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)
