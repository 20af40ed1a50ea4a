"""Cohen's kappa: agreement between two raters beyond chance, optionally weighted."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.metrics._utils import check_num_classes, class_ids, confusion_counts
from kerazoo.registry import register

_WEIGHTAGES = (None, "linear", "quadratic")


@register("metrics", tfa="tfa.metrics.CohenKappa")
class CohenKappa(keras.metrics.Metric):
    """Cohen's kappa between labels and predictions, streamed through a confusion matrix.

    With ``O`` the normalized confusion matrix (rows: true class), ``E`` the normalized outer
    product of its marginals (agreement expected by chance) and a disagreement weight matrix
    ``W`` (``W_ij = 1 - [i = j]`` for ``weightage=None``, ``|i - j|`` for ``"linear"``,
    ``(i - j)^2`` for ``"quadratic"``):

        kappa = 1 - sum(W * O) / sum(W * E)

    An undefined kappa (``0 / 0``, e.g. before any update) is reported as 0, as in TensorFlow
    Addons. The state is the ``(num_classes, num_classes)`` confusion matrix, summed across
    replicas.

    Inputs follow ``tfa.metrics.CohenKappa``:

    * ``num_classes == 2``: ``y_true`` holds class ids, ``y_pred`` scores; a score above 0.5
      predicts class 1.
    * ``num_classes > 2``: ``y_true`` is one-hot (``(batch, num_classes)``) or, with
      ``sparse_labels=True``, class ids. ``y_pred`` of rank > 1 is reduced by ``argmax`` (or, with
      ``regression=True``, rounded ``|y_pred|``); a rank-1 ``y_pred`` holds class ids.

    Args:
        num_classes: number of classes (>= 2).
        name: metric name. Defaults to ``"cohen_kappa"``.
        weightage: ``None``, ``"linear"`` or ``"quadratic"``. Defaults to ``None``.
        sparse_labels: ``y_true`` holds class ids instead of one-hot rows (``num_classes > 2``).
            Defaults to ``False``.
        regression: ``y_pred`` holds real-valued ratings, rounded to the nearest class.
            Defaults to ``False``.
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = CohenKappa(num_classes=5, sparse_labels=True, weightage="quadratic")
    >>> metric.update_state([4, 4, 3, 4, 2, 4, 1, 1], [4, 4, 3, 4, 4, 2, 1, 1])
    >>> round(float(metric.result()), 4)
    0.6893

    Reference:
        Cohen, "A Coefficient of Agreement for Nominal Scales", Educational and Psychological
        Measurement, 1960; Cohen, "Weighted kappa", Psychological Bulletin, 1968.
    """

    def __init__(
        self,
        num_classes: int,
        name: str = "cohen_kappa",
        weightage: str | None = None,
        sparse_labels: bool = False,
        regression: bool = False,
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        if weightage not in _WEIGHTAGES:
            raise ValueError(
                f"`weightage` must be one of {_WEIGHTAGES}. Received: weightage={weightage!r}"
            )
        self.num_classes = check_num_classes(num_classes)
        self.weightage = weightage
        self.sparse_labels = sparse_labels
        self.regression = regression
        self.conf_mtx = self.add_variable(
            shape=(self.num_classes, self.num_classes),
            initializer="zeros",
            dtype="float32",
            name="conf_mtx",
        )

    def _class_ids(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if self.num_classes == 2:
            return y_true, ops.cast(ops.cast(y_pred, "float32") > 0.5, "int32")
        if not self.sparse_labels:
            y_true = class_ids(y_true)
        if len(y_pred.shape) > 1:
            if self.regression:
                y_pred = ops.round(ops.abs(ops.cast(y_pred, "float32")))
            else:
                y_pred = class_ids(y_pred)
        return y_true, y_pred

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, predictions = self._class_ids(y_true, y_pred)
        self.conf_mtx.assign_add(
            confusion_counts(labels, predictions, self.num_classes, sample_weight)
        )

    def result(self):
        conf = ops.cast(self.conf_mtx, "float32")
        index = ops.cast(ops.arange(self.num_classes), "float32")
        distance = index[:, None] - index[None, :]
        if self.weightage is None:
            weights = 1.0 - ops.eye(self.num_classes, dtype="float32")
        elif self.weightage == "linear":
            weights = ops.abs(distance)
        else:
            weights = ops.square(distance)
        expected = ops.sum(conf, axis=1)[:, None] * ops.sum(conf, axis=0)[None, :]
        observed = ops.sum(weights * conf) / ops.sum(conf)
        chance = ops.sum(weights * expected) / ops.sum(expected)
        kappa = 1.0 - observed / chance
        return ops.cast(ops.where(ops.isnan(kappa), 0.0, kappa), self.dtype)

    def reset_state(self):
        self.conf_mtx.assign(ops.zeros(self.conf_mtx.shape, self.conf_mtx.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "weightage": self.weightage,
                "sparse_labels": self.sparse_labels,
                "regression": self.regression,
            }
        )
        return config
