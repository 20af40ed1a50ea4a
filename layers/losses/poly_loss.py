"""Poly-1 loss: cross-entropy plus a first-order polynomial correction."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.losses._common import KerazooLoss, flat_labels, to_float32
from kerazoo.registry import register


@register("losses")
class PolyLoss(KerazooLoss):
    r"""Poly-1 loss: softmax cross-entropy plus ``epsilon * (1 - p_t)``.

    .. code-block:: text

        p_t  = sum_c y_c * p_c             (y: the target, label-smoothed if asked)
        loss = CE(y, p) + epsilon * (1 - p_t)

    The first term of the cross-entropy's Taylor expansion in ``(1 - p_t)`` reweighted;
    ``epsilon = 0`` is plain cross-entropy, the paper's default is ``1``. Computed in float32.

    Args:
        epsilon: weight of the Poly-1 term. Defaults to ``1.0``.
        from_logits: whether ``y_pred`` are logits (else probabilities). Defaults to ``False``.
        label_smoothing: in ``[0, 1]``; smooths the target of both terms. Defaults to ``0.0``.
        sparse: ``y_true`` holds integer class ids (``[batch]``) instead of one-hot rows.
            Defaults to ``False``.
        reduction: a Keras reduction. Defaults to ``"sum_over_batch_size"``.
        name: name of the loss. Defaults to ``"poly_loss"``.
        dtype: dtype of the loss. Defaults to ``None`` (floatx).

    Call arguments: ``y_true`` one-hot ``[batch, C]`` (or ids with ``sparse=True``);
    ``y_pred`` ``[batch, C]`` probabilities or logits.

    Example:

    >>> import numpy as np
    >>> loss = PolyLoss(epsilon=1.0)
    >>> print(round(float(loss(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))), 4))
    0.4231

    Reference:
        Leng et al., "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
        Functions", ICLR 2022.
    """

    def __init__(self, epsilon: float = 1.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, sparse: bool = False,
                 reduction: str | None = "sum_over_batch_size", name: str = "poly_loss",
                 dtype: Any = None):
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1]. Received: label_smoothing={label_smoothing}"
            )
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.epsilon = epsilon
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.sparse = sparse

    def call(self, y_true, y_pred):
        pred = to_float32(y_pred)
        num_classes = pred.shape[-1]
        if self.sparse:
            target = ops.one_hot(ops.cast(flat_labels(y_true), "int32"), num_classes)
            target = ops.reshape(target, ops.shape(pred))
        else:
            target = to_float32(y_true)
        if self.label_smoothing:
            target = target * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        if self.from_logits:
            log_probs = ops.log_softmax(pred, axis=-1)
            probs = ops.exp(log_probs)
            cross_entropy = -ops.sum(target * log_probs, axis=-1)
        else:
            probs = pred / ops.sum(pred, axis=-1, keepdims=True)
            cross_entropy = keras.losses.categorical_crossentropy(target, probs)
        p_t = ops.sum(target * probs, axis=-1)
        return ops.cast(cross_entropy + self.epsilon * (1.0 - p_t), y_pred.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"epsilon": self.epsilon, "from_logits": self.from_logits,
                       "label_smoothing": self.label_smoothing, "sparse": self.sparse})
        return config
