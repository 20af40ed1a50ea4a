"""ESNCell: the reservoir cell of an echo state network."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.rnn.ESNCell")
class ESNCell(keras.layers.Layer):
    """Echo state network cell: a fixed random reservoir with leaky integration.

    ``h = (1 - leaky) * h_prev + leaky * activation(x @ W_in + h_prev @ W + b)``. All weights are
    non-trainable: ``W`` is a sparse random matrix (each entry kept with probability
    ``connectivity``) rescaled so that its spectral radius (or, with ``use_norm2``, its Frobenius
    norm, a cheaper upper bound) equals ``spectral_radius``, which gives the echo state property
    for ``spectral_radius < 1``. Train only a readout on its states. Same arguments, weights and
    outputs as ``tfa.rnn.ESNCell``; the reservoir's random draws differ from tfa's (TensorFlow's
    generator).

    Args:
        units: size of the reservoir.
        connectivity: fraction of non-zero reservoir weights. Defaults to ``0.1``.
        leaky: leaking rate in ``(0, 1]``. Defaults to ``1``.
        spectral_radius: target spectral radius of the reservoir. Defaults to ``0.9``.
        use_norm2: scale by the Frobenius norm instead of the spectral radius.
            Defaults to ``False``.
        use_bias: add a bias. Defaults to ``True``.
        activation: the nonlinearity. Defaults to ``"tanh"``.
        kernel_initializer: initializer of the input weights. Defaults to ``"glorot_uniform"``.
        recurrent_initializer: initializer of the reservoir before sparsification and scaling.
            Defaults to ``"glorot_uniform"``.
        bias_initializer: initializer of the bias. Defaults to ``"zeros"``.
        seed: seed of the reservoir's sparsity pattern (kerazoo addition). Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(ESNCell(8, seed=0), return_sequences=True)
    >>> tuple(rnn(np.random.rand(2, 5, 3).astype("float32")).shape)
    (2, 5, 8)

    Reference:
        Jaeger, "The 'echo state' approach to analysing and training recurrent neural networks",
        GMD Report 148, 2001; Lukoševičius, "A Practical Guide to Applying Echo State Networks",
        2012.
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units <= 0:
            raise ValueError(f"`units` must be positive. Received: units={units}")
        if not 0.0 < connectivity <= 1.0:
            raise ValueError(f"`connectivity` must be in (0, 1]. Received: connectivity={connectivity}")
        if not 0.0 < leaky <= 1.0:
            raise ValueError(f"`leaky` must be in (0, 1]. Received: leaky={leaky}")
        self.units = units
        self.connectivity = connectivity
        self.leaky = leaky
        self.spectral_radius = spectral_radius
        self.use_norm2 = use_norm2
        self.use_bias = use_bias
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.state_size = units
        self.output_size = units

    def _reservoir(self, shape, dtype=None):
        # Built once, eagerly, in NumPy: a general (non-symmetric) eigen-solver is not available
        # on every backend, and the reservoir never changes after initialisation.
        weights = keras.ops.convert_to_numpy(self.recurrent_initializer(shape, dtype="float32"))
        rng = np.random.default_rng(self.seed)
        weights = weights * (rng.uniform(size=shape) <= self.connectivity)
        if self.use_norm2:
            norm = float(np.sqrt(np.sum(np.square(weights))))
        else:
            norm = float(np.max(np.abs(np.linalg.eigvals(weights)))) if weights.any() else 0.0
        scale = self.spectral_radius / norm if norm > 0 else 0.0
        return ops.convert_to_tensor(weights * scale, dtype=dtype or "float32")

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last input axis must be known. Received: {input_shape}")
        self.kernel = self.add_weight(
            shape=(input_dim, self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            trainable=False,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            name="recurrent_kernel",
            initializer=self._reservoir,
            trainable=False,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), name="bias", initializer=self.bias_initializer, trainable=False
            )

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, list | tuple) else states
        output = ops.matmul(inputs, self.kernel) + ops.matmul(previous, self.recurrent_kernel)
        if self.use_bias:
            output = output + self.bias
        output = self.activation(output)
        output = (1.0 - self.leaky) * previous + self.leaky * output
        return output, [output] if isinstance(states, list | tuple) else output

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "connectivity": self.connectivity,
                "leaky": self.leaky,
                "spectral_radius": self.spectral_radius,
                "use_norm2": self.use_norm2,
                "use_bias": self.use_bias,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "seed": self.seed,
            }
        )
        return config
