"""LayerNormSimpleRNNCell: a simple RNN cell with layer normalization before the activation."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.rnn.LayerNormSimpleRNNCell")
class LayerNormSimpleRNNCell(keras.layers.SimpleRNNCell):
    """``h = activation(LN(x @ W + h_prev @ U) + b)``, LN with a gain and no shift.

    Same arguments, weights (``kernel``, ``recurrent_kernel``, ``bias``, and the gain ``gamma`` of
    the ``layernorm`` sublayer) and outputs as ``tfa.rnn.LayerNormSimpleRNNCell``. Use it inside
    ``keras.layers.RNN``.

    Args:
        units: size of the state.
        activation: activation of the output. Defaults to ``"tanh"``.
        use_bias: learn a bias (added after the normalization). Defaults to ``True``.
        layernorm_epsilon: epsilon of the normalization. Defaults to ``1e-5``.
        kernel_initializer: initializer of ``kernel``. Defaults to ``"glorot_uniform"``.
        recurrent_initializer: initializer of ``recurrent_kernel``. Defaults to ``"orthogonal"``.
        bias_initializer: initializer of ``bias``. Defaults to ``"zeros"``.
        gamma_initializer: initializer of the normalization's gain. Defaults to ``"ones"``.
        kernel_regularizer: optional regularizer of ``kernel``. Defaults to ``None``.
        recurrent_regularizer: optional regularizer of ``recurrent_kernel``. Defaults to ``None``.
        bias_regularizer: optional regularizer of ``bias``. Defaults to ``None``.
        gamma_regularizer: optional regularizer of the gain. Defaults to ``None``.
        kernel_constraint: optional constraint of ``kernel``. Defaults to ``None``.
        recurrent_constraint: optional constraint of ``recurrent_kernel``. Defaults to ``None``.
        bias_constraint: optional constraint of ``bias``. Defaults to ``None``.
        gamma_constraint: optional constraint of the gain. Defaults to ``None``.
        dropout: dropout rate of the inputs. Defaults to ``0.0``.
        recurrent_dropout: dropout rate of the previous state. Defaults to ``0.0``.
        **kwargs: other ``keras.layers.SimpleRNNCell`` arguments (``seed``, ``name``, ...).

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(LayerNormSimpleRNNCell(4), return_sequences=True)
    >>> tuple(rnn(np.random.rand(3, 5, 2).astype("float32")).shape)
    (3, 5, 4)

    Reference:
        Ba et al., "Layer Normalization", 2016.
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        layernorm_epsilon: float = 1e-5,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        gamma_initializer="ones",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        gamma_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        gamma_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            **kwargs,
        )
        self.layernorm_epsilon = layernorm_epsilon
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.layernorm = keras.layers.LayerNormalization(
            axis=-1,
            epsilon=layernorm_epsilon,
            center=False,
            scale=True,
            gamma_initializer=self.gamma_initializer,
            gamma_regularizer=self.gamma_regularizer,
            gamma_constraint=self.gamma_constraint,
            dtype=self.dtype_policy,
            name="layernorm",
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.layernorm.build((None, self.units))

    def call(self, sequence, states, training=False):
        prev_output = states[0] if isinstance(states, list | tuple) else states
        if training and 0.0 < self.dropout < 1.0:
            sequence = sequence * self.get_dropout_mask(sequence)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            prev_output = prev_output * self.get_recurrent_dropout_mask(prev_output)
        output = ops.matmul(sequence, self.kernel) + ops.matmul(prev_output, self.recurrent_kernel)
        output = self.layernorm(output)
        if self.bias is not None:
            output = output + self.bias
        if self.activation is not None:
            output = self.activation(output)
        new_state = [output] if isinstance(states, list | tuple) else output
        return output, new_state

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layernorm_epsilon": self.layernorm_epsilon,
                "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
                "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
                "gamma_constraint": keras.constraints.serialize(self.gamma_constraint),
            }
        )
        return config
