"""DropPath: drop a residual branch for whole samples (stochastic depth, timm style)."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class DropPath(keras.layers.Layer):
    """Zeroes the whole input of a sample with probability ``rate`` while training.

    Put it on a residual branch, ``x + DropPath(rate)(branch(x))``: for each sample of the batch the
    branch is dropped with probability ``rate`` and otherwise scaled by ``1 / (1 - rate)``, so the
    expected output equals the input. In inference it is the identity. This is the per-sample form
    used by timm and most vision transformers; ``StochasticDepth`` (tfa's layer, which takes the
    shortcut and the branch together) is the other form.

    Args:
        rate: probability of dropping a sample's input, in ``[0, 1)``. Defaults to ``0.0``.
        seed: seed of the random drops. Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: a tensor of any rank >= 1; axis 0 is the batch.
        training: drop only when ``True``.

    Input shape: any. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = DropPath(rate=0.5, seed=1)
    >>> x = np.ones((4, 3), "float32")
    >>> y = keras.ops.convert_to_numpy(layer(x, training=True))
    >>> set(np.round(y[:, 0], 3).tolist()) <= {0.0, 2.0}  # dropped, or kept and scaled by 2
    True
    >>> bool(np.all(keras.ops.convert_to_numpy(layer(x)) == x))
    True

    Reference:
        Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016;
        Larsson et al., "FractalNet", ICLR 2017 (drop-path).
    """

    def __init__(self, rate: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        noise_shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        return keras.random.dropout(
            inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
