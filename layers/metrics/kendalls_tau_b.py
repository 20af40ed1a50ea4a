"""Kendall's tau-b rank correlation, streamed through a joint histogram."""

from __future__ import annotations

from keras import ops

from kerazoo.metrics._joint_histogram import JointHistogram
from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.KendallsTauB")
class KendallsTauB(JointHistogram):
    """Kendall's tau-b between ``y_true`` and ``y_pred``, with ties corrected.

    With ``P`` concordant and ``Q`` discordant pairs, ``T`` pairs tied only in ``y_true`` and
    ``U`` tied only in ``y_pred``:

        tau_b = (P - Q) / sqrt((P + Q + T) * (P + Q + U))

    Values are clipped to ``[min, max]`` and binned on ``cutpoints`` evenly spaced edges (the grid
    of TensorFlow Addons); values sharing a bin count as tied, so the result equals
    ``scipy.stats.kendalltau(variant="b")`` exactly when distinct values never share a bin, and
    approximates it otherwise. ``sample_weight`` (tfa ignored it) weights each pair by the
    product of its samples' weights. The state is the joint histogram, summed across replicas.

    Args:
        actual_min: lower bound of ``y_true`` (inclusive). Defaults to ``0.0``.
        actual_max: upper bound of ``y_true``. Defaults to ``1.0``.
        preds_min: lower bound of ``y_pred`` (inclusive). Defaults to ``0.0``.
        preds_max: upper bound of ``y_pred``. Defaults to ``1.0``.
        actual_cutpoints: number of bin edges over ``y_true``'s range. Defaults to ``100``.
        preds_cutpoints: number of bin edges over ``y_pred``'s range. Defaults to ``100``.
        name: metric name. Defaults to ``None`` (``"kendalls_tau_b"``).
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = KendallsTauB(0, 13, 0, 8)
    >>> metric.update_state([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    >>> round(float(metric.result()), 4)
    -0.4714

    Reference:
        Kendall, "The treatment of ties in ranking problems", Biometrika, 1945; Xiao, "A streaming
        algorithm for rank correlation", arXiv:1712.01521.
    """

    def result(self):
        concordant, discordant, tied_true, tied_pred, _ = self._pair_counts()
        tau = (concordant - discordant) / ops.sqrt(
            (concordant + discordant + tied_true) * (concordant + discordant + tied_pred)
        )
        return ops.cast(tau, self.dtype)
