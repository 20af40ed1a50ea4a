"""ESN: an echo state network layer (``keras.layers.RNN`` over an ``ESNCell``)."""

from __future__ import annotations

import keras

from kerazoo.layers.esn_cell import ESNCell
from kerazoo.registry import register

_CELL_ARGS = (
    "units",
    "connectivity",
    "leaky",
    "spectral_radius",
    "use_norm2",
    "use_bias",
    "activation",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "seed",
)


@register("layers", tfa="tfa.layers.ESN")
class ESN(keras.layers.RNN):
    """Echo state network: runs an :class:`ESNCell` reservoir over a sequence.

    Same arguments and outputs as ``tfa.layers.ESN``: the cell's arguments plus the usual RNN
    ones. Its weights are fixed; train a readout (e.g. a ``Dense``) on its outputs. Masking is
    supported as in any ``keras.layers.RNN``.

    Args:
        units: size of the reservoir.
        connectivity: fraction of non-zero reservoir weights. Defaults to ``0.1``.
        leaky: leaking rate in ``(0, 1]``. Defaults to ``1``.
        spectral_radius: target spectral radius of the reservoir. Defaults to ``0.9``.
        use_norm2: scale by the Frobenius norm instead. Defaults to ``False``.
        use_bias: add a bias. Defaults to ``True``.
        activation: the nonlinearity. Defaults to ``"tanh"``.
        kernel_initializer: initializer of the input weights. Defaults to ``"glorot_uniform"``.
        recurrent_initializer: initializer of the reservoir. Defaults to ``"glorot_uniform"``.
        bias_initializer: initializer of the bias. Defaults to ``"zeros"``.
        seed: seed of the reservoir's sparsity pattern. Defaults to ``None``.
        return_sequences: return every step's output. Defaults to ``False``.
        go_backwards: process the sequence in reverse. Defaults to ``False``.
        unroll: unroll the loop. Defaults to ``False``.
        **kwargs: other ``keras.layers.RNN`` arguments (``return_state``, ``stateful``, ...).

    Example:

    >>> import numpy as np
    >>> layer = ESN(8, return_sequences=True, seed=0)
    >>> tuple(layer(np.random.rand(2, 5, 3).astype("float32")).shape)
    (2, 5, 8)

    Reference:
        Jaeger, "The 'echo state' approach to analysing and training recurrent neural networks",
        GMD Report 148, 2001.
    """

    def __init__(
        self,
        units: int,
        connectivity: float = 0.1,
        leaky: float = 1,
        spectral_radius: float = 0.9,
        use_norm2: bool = False,
        use_bias: bool = True,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed: int | None = None,
        return_sequences: bool = False,
        go_backwards: bool = False,
        unroll: bool = False,
        **kwargs,
    ):
        kwargs.pop("cell", None)
        cell = ESNCell(
            units,
            connectivity=connectivity,
            leaky=leaky,
            spectral_radius=spectral_radius,
            use_norm2=use_norm2,
            use_bias=use_bias,
            activation=activation,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            seed=seed,
            dtype=kwargs.get("dtype"),
            name="esn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            go_backwards=go_backwards,
            unroll=unroll,
            **kwargs,
        )

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({key: cell_config[key] for key in _CELL_ARGS})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
