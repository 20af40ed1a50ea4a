"""Kendall's tau-c (Stuart's tau-c) rank correlation, streamed through a joint histogram."""

from __future__ import annotations

from keras import ops

from kerazoo.metrics._joint_histogram import JointHistogram
from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.KendallsTauC")
class KendallsTauC(JointHistogram):
    """Stuart's tau-c between ``y_true`` and ``y_pred``, suited to rectangular contingency tables.

    With ``P`` concordant and ``Q`` discordant pairs among ``n`` samples and ``m`` the smaller of
    the numbers of distinct (occupied) bins of ``y_true`` and of ``y_pred``:

        tau_c = 2 (P - Q) / (n^2 (m - 1) / m)

    Binning, ties, ``sample_weight`` and exactness are as in :class:`KendallsTauB`; the result
    equals ``scipy.stats.kendalltau(variant="c")`` when distinct values never share a bin.

    Args:
        actual_min: lower bound of ``y_true`` (inclusive). Defaults to ``0.0``.
        actual_max: upper bound of ``y_true``. Defaults to ``1.0``.
        preds_min: lower bound of ``y_pred`` (inclusive). Defaults to ``0.0``.
        preds_max: upper bound of ``y_pred``. Defaults to ``1.0``.
        actual_cutpoints: number of bin edges over ``y_true``'s range. Defaults to ``100``.
        preds_cutpoints: number of bin edges over ``y_pred``'s range. Defaults to ``100``.
        name: metric name. Defaults to ``None`` (``"kendalls_tau_c"``).
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = KendallsTauC(0, 13, 0, 8)
    >>> metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    >>> round(float(metric.result()), 4)
    -0.48

    Reference:
        Stuart, "The Estimation and Comparison of Strengths of Association in Contingency
        Tables", Biometrika, 1953.
    """

    def result(self):
        concordant, discordant, _, _, n = self._pair_counts()
        joint = ops.convert_to_tensor(self.joint)
        occupied_rows = ops.sum(ops.cast(ops.sum(joint, axis=1) > 0, "float32"))
        occupied_cols = ops.sum(ops.cast(ops.sum(joint, axis=0) > 0, "float32"))
        m = ops.minimum(occupied_rows, occupied_cols)
        tau = 2.0 * (concordant - discordant) / (ops.square(n) * (m - 1.0) / m)
        return ops.cast(tau, self.dtype)
