"""LayerNormLSTMCell: an LSTM cell with layer normalization of its gates and cell state."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.rnn.LayerNormLSTMCell")
class LayerNormLSTMCell(keras.layers.LSTMCell):
    """LSTM cell that layer-normalizes the input and recurrent projections and the cell state.

    ``z = LN_k(x @ W) + LN_r(h @ U) + b``; gates ``i, f, g, o`` from ``z`` as in an LSTM;
    ``c = LN_c(f * c_prev + i * g)``; ``h = o * tanh(c)``. Same arguments, weights (``kernel``,
    ``recurrent_kernel``, ``bias`` and the ``kernel_norm``, ``recurrent_norm``, ``state_norm``
    layer normalizations) and outputs as ``tfa.rnn.LayerNormLSTMCell``. Use it inside
    ``keras.layers.RNN``. Dropout masks are shared by the four gates.

    Args:
        units: size of the hidden and cell states.
        activation: activation of the cell input and output. Defaults to ``"tanh"``.
        recurrent_activation: activation of the gates. Defaults to ``"sigmoid"``.
        use_bias: learn a bias. Defaults to ``True``.
        kernel_initializer: initializer of ``kernel``. Defaults to ``"glorot_uniform"``.
        recurrent_initializer: initializer of ``recurrent_kernel``. Defaults to ``"orthogonal"``.
        bias_initializer: initializer of ``bias``. Defaults to ``"zeros"``.
        unit_forget_bias: add 1 to the forget-gate bias at initialisation. Defaults to ``True``.
        kernel_regularizer: optional regularizer of ``kernel``. Defaults to ``None``.
        recurrent_regularizer: optional regularizer of ``recurrent_kernel``. Defaults to ``None``.
        bias_regularizer: optional regularizer of ``bias``. Defaults to ``None``.
        kernel_constraint: optional constraint of ``kernel``. Defaults to ``None``.
        recurrent_constraint: optional constraint of ``recurrent_kernel``. Defaults to ``None``.
        bias_constraint: optional constraint of ``bias``. Defaults to ``None``.
        dropout: dropout rate of the inputs. Defaults to ``0.0``.
        recurrent_dropout: dropout rate of the previous hidden state. Defaults to ``0.0``.
        norm_gamma_initializer: initializer of the normalizations' gains. Defaults to ``"ones"``.
        norm_beta_initializer: initializer of the normalizations' shifts. Defaults to ``"zeros"``.
        norm_epsilon: epsilon of the normalizations. Defaults to ``1e-3``.
        **kwargs: other ``keras.layers.LSTMCell`` arguments (``seed``, ``name``, ``dtype``...).

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(LayerNormLSTMCell(4), return_sequences=True, return_state=True)
    >>> outputs, h, c = rnn(np.random.rand(3, 5, 2).astype("float32"))
    >>> tuple(outputs.shape), tuple(h.shape), tuple(c.shape)
    ((3, 5, 4), (3, 4), (3, 4))

    Reference:
        Ba et al., "Layer Normalization", 2016; Semeniuta et al., "Recurrent Dropout without
        Memory Loss", COLING 2016.
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        norm_gamma_initializer="ones",
        norm_beta_initializer="zeros",
        norm_epsilon: float = 1e-3,
        **kwargs,
    ):
        kwargs.pop("implementation", None)  # one fused implementation only
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
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
        self.implementation = 2
        self.dropout_mask_count = None
        self.norm_gamma_initializer = keras.initializers.get(norm_gamma_initializer)
        self.norm_beta_initializer = keras.initializers.get(norm_beta_initializer)
        self.norm_epsilon = norm_epsilon
        self.kernel_norm = self._norm("kernel_norm")
        self.recurrent_norm = self._norm("recurrent_norm")
        self.state_norm = self._norm("state_norm")

    def _norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.norm_epsilon,
            beta_initializer=self.norm_beta_initializer,
            gamma_initializer=self.norm_gamma_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel_norm.build((None, 4 * self.units))
        self.recurrent_norm.build((None, 4 * self.units))
        self.state_norm.build((None, self.units))

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        z = self.kernel_norm(ops.matmul(inputs, self.kernel))
        z = z + self.recurrent_norm(ops.matmul(h_tm1, self.recurrent_kernel))
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = self.state_norm(f * c_tm1 + i * self.activation(z_c))
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.pop("implementation", None)
        config.update(
            {
                "norm_gamma_initializer": keras.initializers.serialize(
                    self.norm_gamma_initializer
                ),
                "norm_beta_initializer": keras.initializers.serialize(self.norm_beta_initializer),
                "norm_epsilon": self.norm_epsilon,
            }
        )
        return config
