"""Streaming joint histogram of (y_true, y_pred), the state of the rank-correlation metrics.

Rank statistics need every pair of samples, so an exact streaming version would have to keep all
data. Like TensorFlow Addons (after Xiao, "A streaming algorithm for rank correlation",
arXiv:1712.01521), the metrics keep a fixed ``(actual_cutpoints - 1, preds_cutpoints - 1)`` joint
histogram instead: values falling in the same bin count as tied. The statistic is therefore EXACT
whenever no two distinct values share a bin (e.g. integer ratings with one bin per value) and an
approximation otherwise, whose error shrinks with the bin width. The histogram is a sum, so
replicas merge exactly.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerazoo.metrics._utils import flat_weights, weighted_counts


def _cuts(low: float, high: float, cutpoints: int) -> np.ndarray:
    # Same grid as tfa: float32 end points, the top edge nudged up so `high` lands in the last bin.
    cuts = np.linspace(np.float32(low), np.float32(high), cutpoints)
    cuts[-1] += 1e-7
    return cuts.astype("float32")


class JointHistogram(keras.metrics.Metric):
    """Base class: bins ``y_true`` and ``y_pred`` and counts the pairs; ``result`` is abstract."""

    def __init__(
        self,
        actual_min: float = 0.0,
        actual_max: float = 1.0,
        preds_min: float = 0.0,
        preds_max: float = 1.0,
        actual_cutpoints: int = 100,
        preds_cutpoints: int = 100,
        name: str | None = None,
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        ranges = (("actual", actual_min, actual_max), ("preds", preds_min, preds_max))
        for label, low, high in ranges:
            if not high > low:
                raise ValueError(
                    f"`{label}_max` must exceed `{label}_min`. "
                    f"Received: {label}_min={low}, {label}_max={high}"
                )
        for label, cutpoints in (("actual", actual_cutpoints), ("preds", preds_cutpoints)):
            if int(cutpoints) != cutpoints or cutpoints < 2:
                raise ValueError(
                    f"`{label}_cutpoints` must be an integer >= 2. "
                    f"Received: {label}_cutpoints={cutpoints}"
                )
        self.actual_min = actual_min
        self.actual_max = actual_max
        self.preds_min = preds_min
        self.preds_max = preds_max
        self.actual_cutpoints = int(actual_cutpoints)
        self.preds_cutpoints = int(preds_cutpoints)
        self._actual_cuts = _cuts(actual_min, actual_max, self.actual_cutpoints)
        self._preds_cuts = _cuts(preds_min, preds_max, self.preds_cutpoints)
        self.joint = self.add_variable(
            shape=(self.actual_cutpoints - 1, self.preds_cutpoints - 1),
            initializer="zeros",
            dtype="float32",
            name="joint",
        )

    @staticmethod
    def _bin(values, low, high, cuts):
        values = ops.clip(ops.reshape(ops.cast(values, "float32"), (-1,)), low, high)
        index = ops.searchsorted(ops.convert_to_tensor(cuts), values, side="right") - 1
        return ops.clip(ops.cast(index, "int32"), 0, cuts.shape[0] - 2)

    def update_state(self, y_true, y_pred, sample_weight=None):
        rows = self._bin(y_true, self.actual_min, self.actual_max, self._actual_cuts)
        cols = self._bin(y_pred, self.preds_min, self.preds_max, self._preds_cuts)
        num_cols = self.preds_cutpoints - 1
        weights = flat_weights(sample_weight, rows)
        counts = weighted_counts(rows * num_cols + cols, self.joint.shape[0] * num_cols, weights)
        self.joint.assign_add(ops.reshape(counts, self.joint.shape))

    def _pair_counts(self):
        """Concordant, discordant, tied-only-in-true and tied-only-in-pred pair counts, and n."""
        joint = ops.convert_to_tensor(self.joint)
        # cumulative[i, j]: samples strictly below row i and strictly left of column j.
        cumulative = ops.cumsum(ops.cumsum(joint, axis=0), axis=1)
        concordant = ops.sum(cumulative[:-1, :-1] * joint[1:, 1:])
        squares = ops.sum(ops.square(joint))
        tied_true = (ops.sum(ops.square(ops.sum(joint, axis=1))) - squares) / 2.0
        tied_pred = (ops.sum(ops.square(ops.sum(joint, axis=0))) - squares) / 2.0
        tied_both = ops.sum(joint * (joint - 1.0)) / 2.0
        n = ops.sum(joint)
        discordant = n * (n - 1.0) / 2.0 - concordant - tied_true - tied_pred - tied_both
        return concordant, discordant, tied_true, tied_pred, n

    def reset_state(self):
        self.joint.assign(ops.zeros(self.joint.shape, self.joint.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "actual_min": self.actual_min,
                "actual_max": self.actual_max,
                "preds_min": self.preds_min,
                "preds_max": self.preds_max,
                "actual_cutpoints": self.actual_cutpoints,
                "preds_cutpoints": self.preds_cutpoints,
            }
        )
        return config
