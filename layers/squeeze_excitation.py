"""SqueezeExcitation: channel attention from globally pooled features."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class SqueezeExcitation(keras.layers.Layer):
    """Rescales each channel by a gate computed from the globally averaged input.

    ``gate = gate_activation(W2 · activation(W1 · mean(x) + b1) + b2)`` and the output is
    ``x * gate``, broadcast over the spatial axes. Works on 1D, 2D and 3D feature maps.

    Args:
        ratio: hidden width as a fraction of the input channels (at least 1 unit).
            Defaults to ``0.25``.
        activation: activation of the hidden layer. Defaults to ``"relu"``.
        gate_activation: activation of the gate. Defaults to ``"sigmoid"``.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            ``keras.config.image_data_format()``.
        kernel_initializer: initializer of both kernels. Defaults to ``"glorot_uniform"``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, *spatial, channels)`` (channels_last) with 1 to 3 spatial axes.
    Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = SqueezeExcitation(ratio=0.5)
    >>> tuple(layer(np.ones((2, 8, 8, 16), "float32")).shape)
    (2, 8, 8, 16)

    Reference:
        Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018.
    """

    def __init__(
        self,
        ratio: float = 0.25,
        activation="relu",
        gate_activation="sigmoid",
        data_format: str | None = None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not ratio > 0:
            raise ValueError(f"`ratio` must be positive. Received: ratio={ratio}")
        data_format = data_format or keras.config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "`data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format}"
            )
        self.ratio = ratio
        self.activation = keras.activations.get(activation)
        self.gate_activation = keras.activations.get(gate_activation)
        self.data_format = data_format
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                "SqueezeExcitation expects (batch, *spatial, channels) with at least one spatial "
                f"axis. Received: input_shape={input_shape}"
            )
        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        hidden = max(1, int(channels * self.ratio))
        self.reduce_kernel = self.add_weight(
            shape=(channels, hidden), initializer=self.kernel_initializer, name="reduce_kernel"
        )
        self.reduce_bias = self.add_weight(shape=(hidden,), initializer="zeros", name="reduce_bias")
        self.expand_kernel = self.add_weight(
            shape=(hidden, channels), initializer=self.kernel_initializer, name="expand_kernel"
        )
        self.expand_bias = self.add_weight(shape=(channels,), initializer="zeros", name="expand_bias")

    def call(self, inputs):
        rank = len(inputs.shape)
        if self.data_format == "channels_last":
            spatial, channel_axis = tuple(range(1, rank - 1)), rank - 1
        else:
            spatial, channel_axis = tuple(range(2, rank)), 1
        squeezed = ops.mean(inputs, axis=spatial)
        hidden = self.activation(ops.matmul(squeezed, self.reduce_kernel) + self.reduce_bias)
        gate = self.gate_activation(ops.matmul(hidden, self.expand_kernel) + self.expand_bias)
        shape = [1] * rank
        shape[0], shape[channel_axis] = -1, inputs.shape[channel_axis]
        return inputs * ops.reshape(gate, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "activation": keras.activations.serialize(self.activation),
                "gate_activation": keras.activations.serialize(self.gate_activation),
                "data_format": self.data_format,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
