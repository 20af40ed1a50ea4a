"""Equal error rate (EER) of a detector, e.g. keyword spotting or speaker verification."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.metrics._utils import flat_weights, weighted_counts
from kerazoo.registry import register


@register("metrics")
class EqualErrorRate(keras.metrics.Metric):
    """The error rate at the threshold where false accepts and false rejects are equally likely.

    For a threshold ``t`` (accept when ``score >= t``), the false-accept rate is
    ``FAR(t) = P(score >= t | negative)`` and the false-reject rate ``FRR(t) = P(score < t |
    positive)``. ``FAR`` falls and ``FRR`` rises with ``t``; the EER is their common value where
    the two curves cross:

        EER = FAR(t*) = FRR(t*)

    Streaming: scores in ``[0, 1]`` (probabilities; ``from_logits=True`` applies a sigmoid first;
    values outside are clipped) are counted into ``num_bins`` equal-width bins, separately for
    positives and negatives. Thresholds are the bin edges ``k / num_bins``; between the two edges
    where ``FAR - FRR`` changes sign the curves are interpolated linearly. Resolution: the result
    is exact when no bin holds scores on both sides of the true crossing threshold, and otherwise
    off by at most the fraction of samples in the crossing bin (``<= 1 / num_bins`` of the
    range for evenly spread scores); raise ``num_bins`` for tighter results. With no positives or
    no negatives yet the result is 0. The histograms are sums, merged across replicas.

    Args:
        num_bins: number of score bins over ``[0, 1]``. Defaults to ``1000``.
        from_logits: ``y_pred`` holds logits rather than probabilities. Defaults to ``False``.
        name: metric name. Defaults to ``"equal_error_rate"``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Call arguments (``update_state``):
        y_true: 1 for a target (keyword present / same speaker), 0 otherwise; any shape.
        y_pred: detection scores of the same number of elements.
        sample_weight: optional per-element weights.

    Example:

    >>> metric = EqualErrorRate(num_bins=100)
    >>> metric.update_state([0, 0, 0, 0, 1, 1, 1, 1],
    ...                     [0.1, 0.2, 0.3, 0.75, 0.6, 0.8, 0.9, 0.95])
    >>> float(metric.result())
    0.25

    Reference:
        Martin et al., "The DET Curve in Assessment of Detection Task Performance", Eurospeech
        1997; ``sklearn.metrics.det_curve``.
    """

    def __init__(
        self,
        num_bins: int = 1000,
        from_logits: bool = False,
        name: str = "equal_error_rate",
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        if isinstance(num_bins, bool) or int(num_bins) != num_bins or num_bins < 1:
            raise ValueError(
                f"`num_bins` must be a positive integer. Received: num_bins={num_bins}"
            )
        self.num_bins = int(num_bins)
        self.from_logits = from_logits
        # Row 0 counts negatives, row 1 positives, per score bin.
        self.histogram = self.add_variable(
            shape=(2, self.num_bins), initializer="zeros", dtype="float32", name="histogram"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        scores = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
        if self.from_logits:
            scores = ops.sigmoid(scores)
        positive = ops.cast(ops.reshape(y_true, (-1,)), "float32") > 0.5
        bins = ops.clip(ops.cast(ops.floor(scores * self.num_bins), "int32"), 0, self.num_bins - 1)
        index = ops.where(positive, bins + self.num_bins, bins)
        counts = weighted_counts(index, 2 * self.num_bins, flat_weights(sample_weight, index))
        self.histogram.assign_add(ops.reshape(counts, (2, self.num_bins)))

    def result(self):
        histogram = ops.convert_to_tensor(self.histogram)
        negatives, positives = histogram[0], histogram[1]
        zero = ops.zeros((1,), "float32")
        # Index k = threshold k / num_bins, k = 0 .. num_bins.
        accepted_negatives = ops.concatenate([ops.flip(ops.cumsum(ops.flip(negatives))), zero])
        rejected_positives = ops.concatenate([zero, ops.cumsum(positives)])
        far = ops.divide_no_nan(accepted_negatives, ops.sum(negatives))
        frr = ops.divide_no_nan(rejected_positives, ops.sum(positives))
        gap = far - frr
        # First k whose next edge has FAR <= FRR: the curves cross within [k, k + 1].
        k = ops.argmax(ops.cast(gap[1:] <= 0, "int32"))
        gap_k, gap_next = ops.take(gap, k), ops.take(gap, k + 1)
        far_k, far_next = ops.take(far, k), ops.take(far, k + 1)
        denominator = gap_k - gap_next
        positive = denominator > 0
        alpha = ops.where(positive, gap_k / ops.where(positive, denominator, 1.0), 0.0)
        eer = far_k + alpha * (far_next - far_k)
        defined = ops.logical_and(ops.sum(negatives) > 0, ops.sum(positives) > 0)
        return ops.cast(ops.where(defined, eer, 0.0), self.dtype)

    def reset_state(self):
        self.histogram.assign(ops.zeros(self.histogram.shape, self.histogram.dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "from_logits": self.from_logits})
        return config
