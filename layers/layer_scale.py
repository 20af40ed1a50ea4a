"""LayerScale: a learned per-channel scale on a residual branch (CaiT)."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class LayerScale(keras.layers.Layer):
    """Multiplies the input by a learned per-channel vector initialised to a small constant.

    Used on the residual branches of deep transformers (CaiT, ConvNeXt, DeiT III): each branch starts
    close to zero, which makes very deep stacks trainable.

    Args:
        init_values: initial value of every scale. Defaults to ``1e-5``.
        axis: the channel axis. Defaults to ``-1``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any rank >= 2. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = LayerScale(init_values=0.1)
    >>> y = layer(np.ones((2, 3, 4), "float32"))
    >>> print(keras.ops.convert_to_numpy(y)[0, 0])
    [0.1 0.1 0.1 0.1]

    Reference:
        Touvron et al., "Going deeper with Image Transformers", ICCV 2021.
    """

    def __init__(self, init_values: float = 1e-5, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.init_values = float(init_values)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(
                f"LayerScale needs a known channel axis. Received: input_shape={input_shape}"
            )
        self.gamma = self.add_weight(
            shape=(channels,),
            initializer=keras.initializers.Constant(self.init_values),
            name="gamma",
        )

    def call(self, inputs):
        axis = self.axis % len(inputs.shape)
        shape = [1] * len(inputs.shape)
        shape[axis] = -1
        return inputs * ops.reshape(ops.cast(self.gamma, inputs.dtype), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values, "axis": self.axis})
        return config
