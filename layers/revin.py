"""RevIN: reversible instance normalization for time-series forecasting."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register

_MODES = ("normalize", "denormalize")


@register("layers")
class RevIN(keras.layers.Layer):
    """Normalizes each series by its own statistics and restores them on the forecast.

    Call the SAME layer twice in a model: ``revin(x)`` normalizes the lookback window ``x``
    (``batch, steps, features``) per sample and feature over the steps, then applies a learned
    affine map; ``revin([y, x], mode="denormalize")`` undoes both on the model's output ``y`` using
    the statistics of the reference ``x``. The statistics are recomputed from ``x`` instead of being
    stored on the layer, so the layer is stateless between calls and works in functional models,
    under ``jit_compile`` and in ``tf.distribute``. ``y`` may have another number of steps than
    ``x`` (a forecast horizon) but the same features. Statistics are computed in float32.

    Args:
        affine: learn a per-feature scale and shift. Defaults to ``True``.
        epsilon: added to the variance. Defaults to ``1e-5``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``x`` for ``mode="normalize"``; the list ``[y, x]`` for ``mode="denormalize"``.
        mode: ``"normalize"`` or ``"denormalize"``. Defaults to ``"normalize"``.

    Output shape: the shape of ``x`` (normalize) or of ``y`` (denormalize).

    Example:

    >>> import numpy as np
    >>> inputs = keras.Input((24, 3))
    >>> revin = RevIN()
    >>> hidden = keras.layers.Permute((2, 1))(revin(inputs))
    >>> forecast = keras.layers.Permute((2, 1))(keras.layers.Dense(6)(hidden))
    >>> outputs = revin([forecast, inputs], mode="denormalize")
    >>> model = keras.Model(inputs, outputs)
    >>> tuple(model(np.random.default_rng(0).normal(size=(2, 24, 3))).shape)
    (2, 6, 3)

    Reference:
        Kim et al., "Reversible Instance Normalization for Accurate Time-Series Forecasting against
        Distribution Shift", ICLR 2022.
    """

    def __init__(self, affine: bool = True, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive. Received: epsilon={epsilon}")
        self.affine = affine
        self.epsilon = epsilon

    def build(self, input_shape):
        if isinstance(input_shape, list | tuple) and isinstance(input_shape[0], list | tuple):
            input_shape = input_shape[1]
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "RevIN expects (batch, steps, features) with known features. "
                f"Received: input_shape={input_shape}"
            )
        if self.affine:
            features = input_shape[-1]
            self.gamma = self.add_weight(shape=(features,), initializer="ones", name="gamma")
            self.beta = self.add_weight(shape=(features,), initializer="zeros", name="beta")

    def _statistics(self, x):
        x = ops.cast(x, "float32")
        mean = ops.mean(x, axis=1, keepdims=True)
        std = ops.sqrt(ops.var(x, axis=1, keepdims=True) + self.epsilon)
        return ops.stop_gradient(mean), ops.stop_gradient(std)

    def call(self, inputs, mode: str = "normalize"):
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}. Received: mode={mode!r}")
        if mode == "normalize":
            mean, std = self._statistics(inputs)
            out = (ops.cast(inputs, "float32") - mean) / std
            if self.affine:
                out = out * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32")
            return ops.cast(out, self.compute_dtype)
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError("mode='denormalize' expects inputs=[y, x_reference].")
        y, reference = inputs
        mean, std = self._statistics(reference)
        out = ops.cast(y, "float32")
        if self.affine:
            # The epsilon**2 guard keeps a scale that training pushed to 0 invertible.
            gamma = ops.cast(self.gamma, "float32")
            out = (out - ops.cast(self.beta, "float32")) / (gamma + self.epsilon**2)
        return ops.cast(out * std + mean, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        # A pair of shapes is the denormalize call [y, x]: the output is shaped like y.
        if isinstance(input_shape, list | tuple) and isinstance(input_shape[0], list | tuple):
            return tuple(input_shape[0])
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"affine": self.affine, "epsilon": self.epsilon})
        return config
