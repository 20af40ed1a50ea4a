"""Matthews correlation coefficient (multi-class R_K statistic) from a streamed confusion matrix."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.metrics._utils import check_num_classes, class_ids, confusion_counts
from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.MatthewsCorrelationCoefficient")
class MatthewsCorrelationCoefficient(keras.metrics.Metric):
    """Matthews correlation coefficient of one-hot labels and class scores.

    With ``C`` the confusion matrix, ``t_k`` the true and ``p_k`` the predicted count of class
    ``k``, ``c = trace(C)`` correct predictions out of ``s`` samples (Gorodkin's multi-class form,
    identical to the two-class MCC for ``num_classes=2``):

        MCC = (c * s - t . p) / sqrt((s^2 - p . p) * (s^2 - t . t))

    An undefined value (a constant labelling or prediction) is reported as 0, as in TensorFlow
    Addons and scikit-learn.

    Inputs: ``y_true`` one-hot ``(batch, num_classes)``, ``y_pred`` scores of the same shape; both
    are reduced by ``argmax`` over axis 1. The state is the confusion matrix, summed across
    replicas.

    Args:
        num_classes: number of classes (>= 2).
        name: metric name. Defaults to ``"MatthewsCorrelationCoefficient"`` (the tfa name).
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> import numpy as np
    >>> metric = MatthewsCorrelationCoefficient(num_classes=2)
    >>> y_true = np.eye(2)[[1, 1, 1, 0]]
    >>> y_pred = np.eye(2)[[1, 0, 1, 1]]
    >>> metric.update_state(y_true, y_pred)
    >>> round(float(metric.result()), 4)
    -0.3333

    Reference:
        Matthews, "Comparison of the predicted and observed secondary structure of T4 phage
        lysozyme", Biochimica et Biophysica Acta, 1975; Gorodkin, "Comparing two K-category
        assignments by a K-category correlation coefficient", Comput. Biol. Chem., 2004.
    """

    def __init__(
        self,
        num_classes: int,
        name: str = "MatthewsCorrelationCoefficient",
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_num_classes(num_classes)
        self.conf_mtx = self.add_variable(
            shape=(self.num_classes, self.num_classes),
            initializer="zeros",
            dtype="float32",
            name="conf_mtx",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = class_ids(y_true)
        predictions = class_ids(y_pred)
        self.conf_mtx.assign_add(
            confusion_counts(labels, predictions, self.num_classes, sample_weight)
        )

    def result(self):
        conf = ops.cast(self.conf_mtx, "float32")
        true_sum = ops.sum(conf, axis=1)
        pred_sum = ops.sum(conf, axis=0)
        correct = ops.trace(conf)
        samples = ops.sum(conf)
        cov_true_pred = correct * samples - ops.sum(true_sum * pred_sum)
        cov_pred = samples**2 - ops.sum(pred_sum * pred_sum)
        cov_true = samples**2 - ops.sum(true_sum * true_sum)
        mcc = cov_true_pred / ops.sqrt(cov_true * cov_pred)
        return ops.cast(ops.where(ops.isnan(mcc), 0.0, mcc), self.dtype)

    def reset_state(self):
        self.conf_mtx.assign(ops.zeros(self.conf_mtx.shape, self.conf_mtx.dtype))

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
