"""SinusoidalPositionEncoding: the fixed sine/cosine position signal of the Transformer."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position encoding to ``(batch, steps, features)`` inputs.

    ``PE[t, 2i] = sin(t / max_wavelength^(2i/d))`` and ``PE[t, 2i+1] = cos(...)`` (interleaved, as
    in the paper), computed in float32 and cast to the input dtype. No weights; any length.

    Args:
        max_wavelength: the longest wavelength of the encoding. Defaults to ``10000.0``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, steps, features)``. Output shape: same as the input. A mask passes
    through unchanged.

    Example:

    >>> import numpy as np
    >>> y = SinusoidalPositionEncoding()(np.zeros((1, 4, 6), "float32"))
    >>> print(np.round(keras.ops.convert_to_numpy(y)[0, 1, :2], 4))  # sin(1), cos(1)
    [0.8415 0.5403]

    Reference:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5.
    """

    def __init__(self, max_wavelength: float = 10000.0, **kwargs):
        super().__init__(**kwargs)
        if not max_wavelength > 0:
            raise ValueError(
                f"`max_wavelength` must be positive. Received: max_wavelength={max_wavelength}"
            )
        self.max_wavelength = float(max_wavelength)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        steps, features = ops.shape(inputs)[1], inputs.shape[-1]
        positions = ops.cast(ops.arange(steps), "float32")[:, None]
        # Channel c uses the frequency of its pair 2 * (c // 2); odd channels are the cosines.
        channel = ops.arange(features)
        pair = ops.cast(channel - channel % 2, "float32")
        inv_freq = ops.exp(-math.log(self.max_wavelength) * pair / float(features))
        angles = positions * inv_freq[None, :]
        encoding = ops.where(channel % 2 == 0, ops.sin(angles), ops.cos(angles))
        return inputs + ops.cast(encoding, inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
