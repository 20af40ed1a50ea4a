"""FilterResponseNormalization: per-sample, per-channel normalization by the mean square."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.FilterResponseNormalization")
class FilterResponseNormalization(keras.layers.Layer):
    """Divides each channel of each sample by the root mean square over its spatial axes.

    ``y = gamma * x / sqrt(mean(x**2, axis) + |epsilon|) + beta``; with ``learned_epsilon=True`` a
    trainable ``|eps_learned|`` (initialised to ``1e-4``) is added to ``epsilon``. No batch
    statistics, so it behaves identically in training and inference and for any batch size. Pair it
    with ``TLU``. Same arguments and weights (``gamma``, ``beta`` of shape ``(1, 1, 1, C)``) as
    ``tfa.layers.FilterResponseNormalization``; inputs are 4-D, channels last.

    Args:
        epsilon: small constant added to the mean square. Defaults to ``1e-6``.
        axis: the spatial axes; must be ``[1, 2]``. Defaults to ``[1, 2]``.
        beta_initializer: initializer of ``beta``. Defaults to ``"zeros"``.
        gamma_initializer: initializer of ``gamma``. Defaults to ``"ones"``.
        beta_regularizer: optional regularizer of ``beta``. Defaults to ``None``.
        gamma_regularizer: optional regularizer of ``gamma``. Defaults to ``None``.
        beta_constraint: optional constraint of ``beta``. Defaults to ``None``.
        gamma_constraint: optional constraint of ``gamma``. Defaults to ``None``.
        learned_epsilon: learn an extra epsilon. Defaults to ``False``.
        learned_epsilon_constraint: optional constraint of the learned epsilon.
            Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, height, width, channels)``. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = FilterResponseNormalization()
    >>> x = np.full((1, 2, 2, 1), 3.0, "float32")
    >>> np.round(keras.ops.convert_to_numpy(layer(x))[0, :, :, 0], 4).tolist()
    [[1.0, 1.0], [1.0, 1.0]]

    Reference:
        Singh & Krishnan, "Filter Response Normalization Layer: Eliminating Batch Dependence in the
        Training of Deep Neural Networks", CVPR 2020.
    """

    def __init__(
        self,
        epsilon: float = 1e-6,
        axis: list[int] | None = None,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        learned_epsilon: bool = False,
        learned_epsilon_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        axis = [1, 2] if axis is None else list(axis)
        if axis != [1, 2]:
            raise ValueError(
                "FilterResponseNormalization normalizes each channel over the spatial axes of "
                f"channels-last 4-D inputs; `axis` must be [1, 2]. Received: axis={axis}"
            )
        self.epsilon = epsilon
        self.axis = axis
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)
        self.learned_epsilon = learned_epsilon
        self.learned_epsilon_constraint = keras.constraints.get(learned_epsilon_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"FilterResponseNormalization takes 4-D inputs. Received: input_shape={input_shape}"
            )
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"The channel axis must be known. Received: input_shape={input_shape}")
        self.gamma = self.add_weight(
            shape=(1, 1, 1, channels),
            name="gamma",
            initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer,
            constraint=self.gamma_constraint,
        )
        self.beta = self.add_weight(
            shape=(1, 1, 1, channels),
            name="beta",
            initializer=self.beta_initializer,
            regularizer=self.beta_regularizer,
            constraint=self.beta_constraint,
        )
        if self.learned_epsilon:
            self.eps_learned = self.add_weight(
                shape=(1,),
                name="learned_epsilon",
                initializer=keras.initializers.Constant(1e-4),
                constraint=self.learned_epsilon_constraint,
            )
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        # The mean square is taken in float32 at least: in float16 it overflows for |x| > 256.
        x = ops.cast(inputs, "float32") if inputs.dtype in ("float16", "bfloat16") else inputs
        epsilon = abs(self.epsilon)
        if self.learned_epsilon:
            epsilon = epsilon + ops.abs(ops.cast(self.eps_learned, x.dtype))
        nu2 = ops.mean(ops.square(x), axis=(1, 2), keepdims=True)
        # gamma joins the per-channel scale first: one full-size multiply instead of two.
        scale = ops.rsqrt(nu2 + epsilon) * ops.cast(self.gamma, x.dtype)
        outputs = x * scale + ops.cast(self.beta, x.dtype)
        return ops.cast(outputs, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "epsilon": self.epsilon,
                "axis": self.axis,
                "beta_initializer": keras.initializers.serialize(self.beta_initializer),
                "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
                "beta_regularizer": keras.regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": keras.constraints.serialize(self.beta_constraint),
                "gamma_constraint": keras.constraints.serialize(self.gamma_constraint),
                "learned_epsilon": self.learned_epsilon,
                "learned_epsilon_constraint": keras.constraints.serialize(
                    self.learned_epsilon_constraint
                ),
            }
        )
        return config
