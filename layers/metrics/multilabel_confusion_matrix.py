"""One 2x2 confusion matrix per label, for multi-label classification."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.metrics._utils import check_num_classes
from kerazoo.registry import register


@register("metrics", tfa="tfa.metrics.MultiLabelConfusionMatrix")
class MultiLabelConfusionMatrix(keras.metrics.Metric):
    """Per-label confusion matrices ``[[TN, FP], [FN, TP]]`` of 0/1 labels and predictions.

    For label ``k``, with ``y`` and ``p`` cast to integers (so predictions must already be 0/1,
    as in TensorFlow Addons: a score of 0.7 counts as 0)::

        TP_k = sum(w * [y_k = 1 and p_k = 1])      FP_k = sum(w * [y_k != 1 and p_k = 1])
        FN_k = sum(w * [y_k = 1 and p_k != 1])     TN_k = sum(w * [y_k != 1 and p_k != 1])

    The result has shape ``(num_classes, 2, 2)``, the layout of scikit-learn's
    ``multilabel_confusion_matrix``. Unlike tfa (which warned and ignored it), ``sample_weight``
    (one weight per sample) weights the counts. The four count vectors are the state, summed across
    replicas.

    Args:
        num_classes: number of labels.
        name: metric name. Defaults to ``"Multilabel_confusion_matrix"`` (the tfa name).
        dtype: dtype of the result. Defaults to ``None`` (floatx).

    Example:

    >>> metric = MultiLabelConfusionMatrix(num_classes=3)
    >>> metric.update_state([[1, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 1, 1]])
    >>> keras.ops.convert_to_numpy(metric.result()).astype(int).tolist()
    [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[0, 1], [1, 0]]]

    Reference:
        ``tfa.metrics.MultiLabelConfusionMatrix``; scikit-learn
        ``sklearn.metrics.multilabel_confusion_matrix``.
    """

    def __init__(
        self,
        num_classes: int,
        name: str = "Multilabel_confusion_matrix",
        dtype: str | None = None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_num_classes(num_classes, minimum=1)
        shape = (self.num_classes,)
        self.true_positives = self.add_variable(shape, "zeros", "float32", name="true_positives")
        self.false_positives = self.add_variable(
            shape, "zeros", "float32", name="false_positives"
        )
        self.false_negatives = self.add_variable(
            shape, "zeros", "float32", name="false_negatives"
        )
        self.true_negatives = self.add_variable(shape, "zeros", "float32", name="true_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        positive_true = ops.cast(ops.cast(y_true, "int32") == 1, "float32")
        positive_pred = ops.cast(ops.cast(y_pred, "int32") == 1, "float32")
        positive_true = ops.reshape(positive_true, (-1, self.num_classes))
        positive_pred = ops.reshape(positive_pred, (-1, self.num_classes))
        if sample_weight is None:
            weight = ops.ones_like(positive_true[:, :1])
        else:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
        negative_true = 1.0 - positive_true
        negative_pred = 1.0 - positive_pred
        self.true_positives.assign_add(ops.sum(weight * positive_true * positive_pred, axis=0))
        self.false_positives.assign_add(ops.sum(weight * negative_true * positive_pred, axis=0))
        self.false_negatives.assign_add(ops.sum(weight * positive_true * negative_pred, axis=0))
        self.true_negatives.assign_add(ops.sum(weight * negative_true * negative_pred, axis=0))

    def result(self):
        flat = ops.stack(
            [self.true_negatives, self.false_positives, self.false_negatives, self.true_positives],
            axis=-1,
        )
        return ops.cast(ops.reshape(flat, (self.num_classes, 2, 2)), self.dtype)

    def reset_state(self):
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, variable.dtype))

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
