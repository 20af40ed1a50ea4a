"""StochasticDepth: randomly drop a whole residual branch (tfa's two-input form)."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.StochasticDepth")
class StochasticDepth(keras.layers.Layer):
    """Adds a residual branch to its shortcut, keeping the branch with a survival probability.

    Takes ``[shortcut, residual]``. In training it returns ``shortcut + b * residual`` with one
    Bernoulli draw ``b ~ B(survival_probability)`` per call (the whole batch keeps or drops the
    branch together, as in the paper and in tfa); in inference it returns
    ``shortcut + survival_probability * residual``, so the expected output is the same in both modes.
    Same arguments and semantics as ``tfa.layers.StochasticDepth``; ``DropPath`` is the per-sample
    variant.

    Args:
        survival_probability: probability of keeping the residual branch, in ``[0, 1]``.
            Defaults to ``0.5``.
        seed: seed of the Bernoulli draws (kerazoo addition). Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: a list ``[shortcut, residual]`` of two tensors of the same shape.
        training: drop the branch at random only when ``True``.

    Input shape: two tensors of equal shape. Output shape: that shape.

    Example:

    >>> import numpy as np
    >>> layer = StochasticDepth(survival_probability=0.8)
    >>> shortcut, residual = np.ones((1, 2), "float32"), np.full((1, 2), 10.0, "float32")
    >>> keras.ops.convert_to_numpy(layer([shortcut, residual])).tolist()
    [[9.0, 9.0]]

    Reference:
        Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016.
    """

    def __init__(self, survival_probability: float = 0.5, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= survival_probability <= 1.0:
            raise ValueError(
                "`survival_probability` must be in [0, 1]. "
                f"Received: survival_probability={survival_probability}"
            )
        self.survival_probability = survival_probability
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError(
                f"StochasticDepth expects a list [shortcut, residual]. Received: inputs={inputs}"
            )
        shortcut, residual = inputs
        if training:
            draw = keras.random.uniform((), seed=self.seed_generator)
            # A branch instead of `shortcut + keep * residual`: a kept branch (the common case)
            # costs no full-size multiply, forward or backward. The dropped branch still
            # multiplies by zero so that the residual's gradient is zeros, not missing, when only
            # that branch runs (eager TensorFlow, PyTorch).
            return ops.cond(draw < self.survival_probability,
                            lambda: ops.add(shortcut, residual),
                            lambda: shortcut + ops.zeros((), residual.dtype) * residual)
        return shortcut + ops.cast(self.survival_probability, residual.dtype) * residual

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, list | tuple) else mask

    def get_config(self):
        config = super().get_config()
        config.update({"survival_probability": self.survival_probability, "seed": self.seed})
        return config
