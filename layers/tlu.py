"""TLU: the thresholded linear unit."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.TLU")
class TLU(keras.layers.Layer):
    """Thresholded linear unit, ``max(x, tau)`` or, with ``affine=True``, ``max(x, alpha*x + tau)``.

    ``tau`` (and ``alpha``) are learned per element of a sample (shape ``input_shape[1:]``), as in
    ``tfa.layers.TLU``; it is the activation that pairs with ``FilterResponseNormalization``.

    Args:
        affine: learn ``alpha`` too. Defaults to ``False``.
        tau_initializer: initializer of ``tau``. Defaults to ``"zeros"``.
        tau_regularizer: optional regularizer of ``tau``. Defaults to ``None``.
        tau_constraint: optional constraint of ``tau``. Defaults to ``None``.
        alpha_initializer: initializer of ``alpha``. Defaults to ``"zeros"``.
        alpha_regularizer: optional regularizer of ``alpha``. Defaults to ``None``.
        alpha_constraint: optional constraint of ``alpha``. Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any, with known non-batch dimensions. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = TLU()
    >>> keras.ops.convert_to_numpy(layer(np.array([[-1.0, 2.0]]))).tolist()
    [[0.0, 2.0]]

    Reference:
        Singh & Krishnan, "Filter Response Normalization Layer: Eliminating Batch Dependence in the
        Training of Deep Neural Networks", CVPR 2020.
    """

    def __init__(
        self,
        affine: bool = False,
        tau_initializer="zeros",
        tau_regularizer=None,
        tau_constraint=None,
        alpha_initializer="zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.affine = affine
        self.tau_initializer = keras.initializers.get(tau_initializer)
        self.tau_regularizer = keras.regularizers.get(tau_regularizer)
        self.tau_constraint = keras.constraints.get(tau_constraint)
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        param_shape = tuple(input_shape[1:])
        if None in param_shape:
            raise ValueError(f"TLU needs known non-batch dimensions. Received: {input_shape}")
        self.tau = self.add_weight(
            shape=param_shape,
            name="tau",
            initializer=self.tau_initializer,
            regularizer=self.tau_regularizer,
            constraint=self.tau_constraint,
        )
        if self.affine:
            self.alpha = self.add_weight(
                shape=param_shape,
                name="alpha",
                initializer=self.alpha_initializer,
                regularizer=self.alpha_regularizer,
                constraint=self.alpha_constraint,
            )
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={i: d for i, d in enumerate(input_shape) if i}
        )

    def call(self, inputs):
        tau = ops.cast(self.tau, inputs.dtype)
        if self.affine:
            # max(x, alpha x + tau) written as x + relu((alpha - 1) x + tau): the same function,
            # but relu's gradient is one fused op where maximum's needs masks and selects.
            slope = ops.cast(self.alpha, inputs.dtype) - 1.0
            return inputs + ops.relu(slope * inputs + tau)
        return ops.maximum(inputs, tau)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "affine": self.affine,
                "tau_initializer": keras.initializers.serialize(self.tau_initializer),
                "tau_regularizer": keras.regularizers.serialize(self.tau_regularizer),
                "tau_constraint": keras.constraints.serialize(self.tau_constraint),
                "alpha_initializer": keras.initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": keras.regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": keras.constraints.serialize(self.alpha_constraint),
            }
        )
        return config
