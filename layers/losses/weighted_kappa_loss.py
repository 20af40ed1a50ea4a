"""Weighted kappa loss for ordinal multi-class classification."""

from __future__ import annotations

from typing import Any

import numpy as np
from keras import ops

from kerazoo.losses._common import KerazooLoss, to_float32
from kerazoo.registry import register

_WEIGHTAGES = ("linear", "quadratic")


@register("losses", tfa="tfa.losses.WeightedKappaLoss")
class WeightedKappaLoss(KerazooLoss):
    r"""Weighted kappa loss: ``log`` of the batch's weighted disagreement ratio (de la Torre et al.).

    With one-hot labels ``Y`` and predicted probabilities ``P`` (``[batch, C]``), class index
    vector ``c = 0..C-1`` and weights ``w_ij = |i - j|`` (linear) or ``(i - j)^2`` (quadratic):

    .. code-block:: text

        numerator   = sum_{n,j} w(label_n, j) * P_nj
        denominator = (colsum(Y) @ W @ colsum(P)^T) / batch
        loss        = log(numerator / denominator + epsilon)

    ``log(1 - kappa)`` up to ``epsilon``: minimising it maximises Cohen's kappa. It is a batch
    statistic, so the loss is one scalar per batch (as in tfa): ``reduction`` and
    ``sample_weight`` apply to that scalar (a ``[batch]`` weight scales it by its mean under
    ``"sum_over_batch_size"``). A zero denominator gives ``log(epsilon)``. Computed in float32.

    Args:
        num_classes: number of classes (> 1).
        weightage: ``"linear"`` or ``"quadratic"``. Defaults to ``"quadratic"``.
        name: name of the loss. Defaults to ``"cohen_kappa_loss"``.
        epsilon: added inside the log. Defaults to ``1e-6``.
        reduction: a Keras reduction. Defaults to ``"none"`` (tfa's default).
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` one-hot ``[batch, num_classes]``; ``y_pred`` probabilities,
    same shape.

    Example:

    >>> import numpy as np
    >>> loss = WeightedKappaLoss(num_classes=3)
    >>> y_true = np.eye(3)[[0, 1, 2, 2]]
    >>> y_pred = np.array([[.8, .1, .1], [.2, .6, .2], [.1, .2, .7], [.1, .5, .4]])
    >>> print(round(float(loss(y_true, y_pred)), 4))
    -0.8293

    Reference:
        de la Torre, Puig & Valls, "Weighted kappa loss function for multi-class classification
        of ordinal data in deep learning", Pattern Recognition Letters 2018.
        ``tfa.losses.WeightedKappaLoss``.
    """

    def __init__(self, num_classes: int, weightage: str = "quadratic",
                 name: str = "cohen_kappa_loss", epsilon: float = 1e-6,
                 reduction: str | None = "none", dtype: Any = None):
        if weightage not in _WEIGHTAGES:
            raise ValueError(
                f"weightage must be one of {_WEIGHTAGES}. Received: weightage={weightage!r}"
            )
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be at least 2. Received: num_classes={num_classes}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.num_classes = int(num_classes)
        self.weightage = weightage
        self.epsilon = epsilon

    def _weights(self, diff):
        if self.weightage == "linear":
            return ops.abs(diff) if not isinstance(diff, np.ndarray) else np.abs(diff)
        return diff * diff

    def call(self, y_true, y_pred):
        y_true32, y_pred32 = to_float32(y_true), to_float32(y_pred)
        # The label-independent pieces are numpy constants, built once per trace.
        classes = np.arange(self.num_classes, dtype="float32")
        weight_mat = self._weights(classes[:, None] - classes[None, :])
        # As tfa: the label is y_true's expected class, so soft labels give tfa's value too.
        true_class = ops.matmul(y_true32, classes[:, None])  # [batch, 1]
        numerator = ops.sum(self._weights(true_class - classes) * y_pred32)
        label_dist = ops.sum(y_true32, axis=0)
        pred_dist = ops.sum(y_pred32, axis=0)
        batch = ops.cast(ops.shape(y_true32)[0], "float32")
        denominator = ops.sum(label_dist * ops.matmul(weight_mat, pred_dist)) / batch
        ratio = ops.where(denominator == 0.0, 0.0,
                          numerator / ops.where(denominator == 0.0, 1.0, denominator))
        return ops.cast(ops.log(ratio + self.epsilon), y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "weightage": self.weightage,
                       "epsilon": self.epsilon})
        return config
