"""ArcMarginHead: cosine-similarity classification head for ArcFace-style margin losses."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.registry import register


def _l2_normalize(x, axis):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12))


@register("layers")
class ArcMarginHead(keras.layers.Layer):
    """Cosines between L2-normalised embeddings and L2-normalised class centres.

    ``out[..., j] = <x / |x|, W_j / |W_j|>`` in ``[-1, 1]``, one per class. Train it with
    :class:`kerazoo.losses.ArcFaceLoss`, which adds the angular margin and the scale to the target
    logit; at inference the output is a plain cosine score (argmax for the class, or the
    normalised embedding before it for retrieval). The normalisations and the product run in
    float32, the result is cast to the layer's compute dtype.

    Args:
        num_classes: number of classes (columns of ``W``).
        kernel_initializer: initializer of the class centres ``W`` ``[dim, num_classes]``.
            Defaults to ``"glorot_uniform"``.
        kernel_regularizer: optional regularizer of ``W``. Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(..., dim)``. Output shape: ``(..., num_classes)``.

    Example:

    >>> import numpy as np
    >>> head = ArcMarginHead(num_classes=3)
    >>> cosines = head(np.random.default_rng(0).normal(size=(2, 8)).astype("float32"))
    >>> tuple(cosines.shape)
    (2, 3)
    >>> bool(keras.ops.all(keras.ops.abs(cosines) <= 1.0))
    True

    Reference:
        Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face Recognition",
        CVPR 2019.
    """

    def __init__(self, num_classes: int, kernel_initializer: Any = "glorot_uniform",
                 kernel_regularizer: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be positive. Received: num_classes={num_classes}")
        self.num_classes = int(num_classes)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.num_classes),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
        )

    def call(self, inputs):
        x = _l2_normalize(ops.cast(inputs, "float32"), axis=-1)
        w = _l2_normalize(ops.cast(self.kernel, "float32"), axis=0)
        return ops.cast(ops.matmul(x, w), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.num_classes)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_classes": self.num_classes,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        })
        return config
