"""Snake: the snake activation with a learned frequency."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.activations.snake import snake
from kerazoo.registry import register


@register("layers", tfa="tfa.layers.Snake")
class Snake(keras.layers.Layer):
    """Applies ``snake(x, frequency)`` with one trainable scalar ``frequency``.

    ``snake(x, a) = x + sin(a * x)**2 / a``. Same arguments and weights as ``tfa.layers.Snake``
    (one scalar weight ``frequency``), plus the usual regularizer/constraint arguments.

    Args:
        frequency_initializer: initializer of the frequency. Defaults to ``"ones"``.
        frequency_regularizer: optional regularizer of the frequency. Defaults to ``None``.
        frequency_constraint: optional constraint of the frequency. Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = Snake()
    >>> y = keras.ops.convert_to_numpy(layer(np.array([[-1.0, 0.0, 2.0]])))
    >>> np.round(y.astype("float64"), 4).tolist()
    [[-0.2919, 0.0, 2.8268]]

    Reference:
        Ziyin et al., "Neural Networks Fail to Learn Periodic Functions and How to Fix It",
        NeurIPS 2020.
    """

    def __init__(
        self,
        frequency_initializer="ones",
        frequency_regularizer=None,
        frequency_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.frequency_initializer = keras.initializers.get(frequency_initializer)
        self.frequency_regularizer = keras.regularizers.get(frequency_regularizer)
        self.frequency_constraint = keras.constraints.get(frequency_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        self.frequency = self.add_weight(
            shape=(),
            name="frequency",
            initializer=self.frequency_initializer,
            regularizer=self.frequency_regularizer,
            constraint=self.frequency_constraint,
        )

    def call(self, inputs):
        return snake(inputs, ops.cast(self.frequency, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "frequency_initializer": keras.initializers.serialize(self.frequency_initializer),
                "frequency_regularizer": keras.regularizers.serialize(self.frequency_regularizer),
                "frequency_constraint": keras.constraints.serialize(self.frequency_constraint),
            }
        )
        return config
