"""NoisyDense: a dense layer with learned, factorised Gaussian weight noise (NoisyNet)."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.NoisyDense")
class NoisyDense(keras.layers.Layer):
    """Dense layer whose weights are ``mu + sigma * eps``, with learned ``mu`` and ``sigma``.

    ``eps`` (non-trainable weights ``eps_kernel``, ``eps_bias``) is drawn at build time and again
    whenever :meth:`reset_noise` is called, as in ``tfa.layers.NoisyDense`` (same arguments,
    weights and initialisation); :meth:`remove_noise` sets it to zero for a deterministic policy.
    With ``use_factorised=True`` the noise is ``f(eps_in) f(eps_out)^T`` with
    ``f(x) = sign(x) sqrt(|x|)``; otherwise independent normal noise per weight.

    Args:
        units: output size.
        sigma: initial noise scale (factorised: ``sigma / sqrt(fan_in)``). Defaults to ``0.5``.
        use_factorised: factorised Gaussian noise. Defaults to ``True``.
        activation: activation of the output. Defaults to ``None``.
        use_bias: learn a noisy bias. Defaults to ``True``.
        kernel_regularizer: optional regularizer of ``mu_kernel``/``sigma_kernel``.
            Defaults to ``None``.
        bias_regularizer: optional regularizer of ``mu_bias``/``sigma_bias``. Defaults to ``None``.
        activity_regularizer: optional regularizer of the output. Defaults to ``None``.
        kernel_constraint: optional constraint of the kernels. Defaults to ``None``.
        bias_constraint: optional constraint of the biases. Defaults to ``None``.
        seed: seed of the noise (kerazoo addition). Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(..., fan_in)``. Output shape: ``(..., units)``.

    Example:

    >>> import numpy as np
    >>> layer = NoisyDense(3, seed=0)
    >>> tuple(layer(np.ones((2, 4), "float32")).shape)
    (2, 3)
    >>> layer.remove_noise()  # deterministic: y = x @ mu_kernel + mu_bias

    Reference:
        Fortunato et al., "Noisy Networks for Exploration", ICLR 2018.
    """

    def __init__(
        self,
        units: int,
        sigma: float = 0.5,
        use_factorised: bool = True,
        activation=None,
        use_bias: bool = True,
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if units <= 0:
            raise ValueError(f"`units` must be positive. Received: units={units}")
        self.units = units
        self.sigma = sigma
        self.use_factorised = use_factorised
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        fan_in = input_shape[-1]
        if fan_in is None:
            raise ValueError(f"The last input axis must be known. Received: {input_shape}")
        self.fan_in = fan_in
        if self.use_factorised:
            mu_range, sigma_init = 1.0 / math.sqrt(fan_in), self.sigma / math.sqrt(fan_in)
        else:
            mu_range, sigma_init = math.sqrt(3.0 / fan_in), 0.017
        mu_init = keras.initializers.RandomUniform(-mu_range, mu_range)
        sigma_init = keras.initializers.Constant(sigma_init)
        kernel_args = {"regularizer": self.kernel_regularizer, "constraint": self.kernel_constraint}
        shape = (fan_in, self.units)
        self.sigma_kernel = self.add_weight(
            shape=shape, name="sigma_kernel", initializer=sigma_init, **kernel_args
        )
        self.mu_kernel = self.add_weight(
            shape=shape, name="mu_kernel", initializer=mu_init, **kernel_args
        )
        self.eps_kernel = self.add_weight(
            shape=shape, name="eps_kernel", initializer="zeros", trainable=False
        )
        if self.use_bias:
            bias_args = {"regularizer": self.bias_regularizer, "constraint": self.bias_constraint}
            self.sigma_bias = self.add_weight(
                shape=(self.units,), name="sigma_bias", initializer=sigma_init, **bias_args
            )
            self.mu_bias = self.add_weight(
                shape=(self.units,), name="mu_bias", initializer=mu_init, **bias_args
            )
            self.eps_bias = self.add_weight(
                shape=(self.units,), name="eps_bias", initializer="zeros", trainable=False
            )
        self.built = True
        self.reset_noise()

    def _scaled_noise(self, shape):
        x = keras.random.normal(shape, dtype=self.variable_dtype, seed=self.seed_generator)
        return ops.sign(x) * ops.sqrt(ops.abs(x))

    def reset_noise(self) -> None:
        """Draws new noise ``eps`` (call it between episodes or updates)."""
        if self.use_factorised:
            in_eps = self._scaled_noise((self.fan_in, 1))
            out_eps = self._scaled_noise((1, self.units))
            self.eps_kernel.assign(ops.matmul(in_eps, out_eps))
            if self.use_bias:
                self.eps_bias.assign(out_eps[0])
        else:
            self.eps_kernel.assign(
                keras.random.normal(
                    (self.fan_in, self.units), dtype=self.variable_dtype, seed=self.seed_generator
                )
            )
            if self.use_bias:
                self.eps_bias.assign(
                    keras.random.normal(
                        (self.units,), dtype=self.variable_dtype, seed=self.seed_generator
                    )
                )

    def remove_noise(self) -> None:
        """Sets the noise to zero: the layer becomes ``activation(x @ mu_kernel + mu_bias)``."""
        self.eps_kernel.assign(ops.zeros(self.eps_kernel.shape, self.eps_kernel.dtype))
        if self.use_bias:
            self.eps_bias.assign(ops.zeros(self.eps_bias.shape, self.eps_bias.dtype))

    @property
    def kernel(self):
        return self.mu_kernel + self.sigma_kernel * self.eps_kernel

    @property
    def bias(self):
        return self.mu_bias + self.sigma_bias * self.eps_bias if self.use_bias else None

    def call(self, inputs):
        outputs = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "sigma": self.sigma,
                "use_factorised": self.use_factorised,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "seed": self.seed,
            }
        )
        return config
