"""Sparsemax layer: the sparsemax activation along one axis."""

from __future__ import annotations

import keras

from kerazoo.activations.sparsemax import sparsemax
from kerazoo.registry import register


@register("layers")
class Sparsemax(keras.layers.Layer):
    """Applies :func:`kerazoo.activations.sparsemax` along ``axis``; same as ``tfa.layers.Sparsemax``.

    Args:
        axis: the axis to normalise. Defaults to ``-1``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> out = Sparsemax()(np.array([[-0.325, -0.531, 1.336, 0.741]], "float32"))
    >>> print(np.round(keras.ops.convert_to_numpy(out), 4))
    [[0.     0.     0.7975 0.2025]]

    Reference:
        Martins & Astudillo, "From Softmax to Sparsemax", ICML 2016.
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return sparsemax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis})
        return config
