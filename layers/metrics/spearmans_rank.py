"""Spearman's rank correlation, streamed through a joint histogram."""

from __future__ import annotations

from keras import ops

from kerazoo.metrics._joint_histogram import JointHistogram
from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.SpearmansRank")
class SpearmansRank(JointHistogram):
    """Spearman's rho: the Pearson correlation of the (average, tie-aware) ranks.

    Every sample in a bin gets the bin's average rank ``R_i = c_i + (n_i + 1) / 2`` (``c_i``
    samples in lower bins, ``n_i`` in the bin); with centred ranks ``r_i = R_i - (n + 1) / 2``
    of ``y_true``, ``s_j`` of ``y_pred`` and the joint counts ``M``:

        rho = r^T M s / sqrt((sum_i n_i r_i^2) (sum_j n_j s_j^2))

    Binning, ties, ``sample_weight`` and exactness are as in :class:`KendallsTauB`; the result
    equals ``scipy.stats.spearmanr`` when distinct values never share a bin.

    Args:
        actual_min: lower bound of ``y_true`` (inclusive). Defaults to ``0.0``.
        actual_max: upper bound of ``y_true``. Defaults to ``1.0``.
        preds_min: lower bound of ``y_pred`` (inclusive). Defaults to ``0.0``.
        preds_max: upper bound of ``y_pred``. Defaults to ``1.0``.
        actual_cutpoints: number of bin edges over ``y_true``'s range. Defaults to ``100``.
        preds_cutpoints: number of bin edges over ``y_pred``'s range. Defaults to ``100``.
        name: metric name. Defaults to ``None`` (``"spearmans_rank"``).
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = SpearmansRank(0, 13, 0, 8)
    >>> metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    >>> round(float(metric.result()), 4)
    -0.5407

    Reference:
        Spearman, "The proof and measurement of association between two things", American
        Journal of Psychology, 1904.
    """

    @staticmethod
    def _centred_ranks(counts, n):
        below = ops.cumsum(counts) - counts
        return below + (counts - n) / 2.0

    def result(self):
        joint = ops.convert_to_tensor(self.joint)
        row_counts = ops.sum(joint, axis=1)
        col_counts = ops.sum(joint, axis=0)
        n = ops.sum(joint)
        row_ranks = self._centred_ranks(row_counts, n)
        col_ranks = self._centred_ranks(col_counts, n)
        covariance = ops.sum(row_ranks[:, None] * joint * col_ranks[None, :])
        row_spread = ops.sum(row_counts * ops.square(row_ranks))
        col_spread = ops.sum(col_counts * ops.square(col_ranks))
        spread = ops.sqrt(row_spread * col_spread)
        return ops.cast(covariance / spread, self.dtype)
