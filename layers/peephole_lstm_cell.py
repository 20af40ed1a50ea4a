"""PeepholeLSTMCell: an LSTM cell whose gates also see the cell state."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.rnn.PeepholeLSTMCell")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """LSTM cell with diagonal peephole connections from the cell state to the gates.

    ``i = σ(z_i + p_i * c_prev)``, ``f = σ(z_f + p_f * c_prev)``, ``c = f * c_prev + i * tanh(z_c)``,
    ``o = σ(z_o + p_o * c)``, ``h = o * tanh(c)``, where ``z = x @ W + h_prev @ U + b``. Same
    arguments, weights (``kernel``, ``recurrent_kernel``, ``bias``,
    ``input_gate_peephole_weights``, ``forget_gate_peephole_weights``,
    ``output_gate_peephole_weights``, initialised with ``kernel_initializer``) and outputs as
    ``tfa.rnn.PeepholeLSTMCell``. Use it inside ``keras.layers.RNN``.

    Args:
        units: size of the hidden and cell states.
        **kwargs: every ``keras.layers.LSTMCell`` argument (``activation``,
            ``recurrent_activation``, ``use_bias``, initializers, regularizers, constraints,
            ``dropout``, ``recurrent_dropout``, ``unit_forget_bias``, ``seed``, ...), with the same
            defaults.

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(PeepholeLSTMCell(4))
    >>> tuple(rnn(np.random.rand(3, 5, 2).astype("float32")).shape)
    (3, 4)

    Reference:
        Gers & Schmidhuber, "Recurrent Nets that Time and Count", IJCNN 2000.
    """

    def __init__(self, units: int, **kwargs):
        kwargs.pop("implementation", None)  # one fused implementation only
        super().__init__(units, **kwargs)
        self.implementation = 2
        self.dropout_mask_count = None

    def build(self, input_shape):
        super().build(input_shape)
        for gate in ("input", "forget", "output"):
            weight = self.add_weight(
                shape=(self.units,),
                name=f"{gate}_gate_peephole_weights",
                initializer=self.kernel_initializer,
            )
            setattr(self, f"{gate}_gate_peephole_weights", weight)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_tm1, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i + self.input_gate_peephole_weights * c_tm1)
        f = self.recurrent_activation(z_f + self.forget_gate_peephole_weights * c_tm1)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o + self.output_gate_peephole_weights * c)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.pop("implementation", None)
        return config
