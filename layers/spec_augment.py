"""SpecAugment: random time and frequency masks on spectrograms, while training."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class SpecAugment(keras.layers.Layer):
    """Masks random bands of frequencies and spans of time steps of each spectrogram.

    In training, each sample gets ``num_freq_masks`` bands of width drawn uniformly from
    ``[0, freq_mask_param]`` and ``num_time_masks`` spans of width drawn uniformly from
    ``[0, time_mask_param]`` (at most ``max_time_ratio`` of the steps), each at a uniform position
    that keeps it inside the spectrogram; masked values become ``mask_value``. In inference the layer
    is the identity. Time warping, the paper's third policy, is left out (its own ablation found it
    the least useful and the most costly).

    Args:
        freq_mask_param: largest width of a frequency mask (``F`` in the paper). Defaults to ``10``.
        time_mask_param: largest width of a time mask (``T`` in the paper). Defaults to ``20``.
        num_freq_masks: frequency masks per sample. Defaults to ``1``.
        num_time_masks: time masks per sample. Defaults to ``1``.
        max_time_ratio: cap on a time mask's width as a fraction of the steps (``p`` in the paper).
            Defaults to ``1.0``.
        mask_value: value written into masked cells; ``0.0`` is the mean of normalised log-mel
            features. Defaults to ``0.0``.
        seed: seed of the random masks. Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, time, freq)`` or ``(batch, time, freq, channels)`` (all channels share a
    mask). Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = SpecAugment(freq_mask_param=4, time_mask_param=5, seed=0)
    >>> x = np.ones((2, 50, 16), "float32")
    >>> y = keras.ops.convert_to_numpy(layer(x, training=True))
    >>> y.shape, bool((y == 0).any()), bool(np.all(keras.ops.convert_to_numpy(layer(x)) == x))
    ((2, 50, 16), True, True)

    Reference:
        Park et al., "SpecAugment: A Simple Data Augmentation Method for Automatic Speech
        Recognition", Interspeech 2019.
    """

    def __init__(
        self,
        freq_mask_param: int = 10,
        time_mask_param: int = 20,
        num_freq_masks: int = 1,
        num_time_masks: int = 1,
        max_time_ratio: float = 1.0,
        mask_value: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("freq_mask_param", freq_mask_param), ("time_mask_param", time_mask_param),
            ("num_freq_masks", num_freq_masks), ("num_time_masks", num_time_masks),
        ):
            if int(value) < 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={value}")
        if not 0.0 < max_time_ratio <= 1.0:
            raise ValueError(
                f"`max_time_ratio` must be in (0, 1]. Received: max_time_ratio={max_time_ratio}"
            )
        self.freq_mask_param = int(freq_mask_param)
        self.time_mask_param = int(time_mask_param)
        self.num_freq_masks = int(num_freq_masks)
        self.num_time_masks = int(num_time_masks)
        self.max_time_ratio = float(max_time_ratio)
        self.mask_value = float(mask_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def _band_mask(self, batch, size, num_masks, max_width):
        """Boolean ``(batch, size)``: True inside any of ``num_masks`` random bands."""
        size_f = ops.cast(size, "float32")
        max_width = ops.minimum(ops.cast(max_width, "float32"), size_f)
        shape = (batch, num_masks)
        # floor(u * (max + 1)) is uniform on {0, ..., max}; the start keeps the band inside.
        width = ops.floor(
            keras.random.uniform(shape, seed=self.seed_generator) * (max_width + 1.0)
        )
        width = ops.minimum(width, max_width)
        start = ops.floor(
            keras.random.uniform(shape, seed=self.seed_generator) * (size_f - width + 1.0)
        )
        start = ops.minimum(start, size_f - width)
        index = ops.cast(ops.arange(size), "float32")[None, None, :]
        inside = (index >= start[..., None]) & (index < (start + width)[..., None])
        return ops.any(inside, axis=1)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        shape = ops.shape(inputs)
        batch, steps, freqs = shape[0], shape[1], shape[2]
        masked = ops.zeros((batch, steps, freqs), dtype="bool")
        if self.num_freq_masks and self.freq_mask_param:
            bands = self._band_mask(batch, freqs, self.num_freq_masks, self.freq_mask_param)
            masked = masked | bands[:, None, :]
        if self.num_time_masks and self.time_mask_param:
            cap = ops.minimum(
                ops.cast(self.time_mask_param, "float32"),
                ops.floor(self.max_time_ratio * ops.cast(steps, "float32")),
            )
            spans = self._band_mask(batch, steps, self.num_time_masks, cap)
            masked = masked | spans[:, :, None]
        if len(inputs.shape) == 4:
            masked = masked[..., None]
        fill = ops.cast(self.mask_value, inputs.dtype)
        return ops.where(masked, fill, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "freq_mask_param": self.freq_mask_param,
                "time_mask_param": self.time_mask_param,
                "num_freq_masks": self.num_freq_masks,
                "num_time_masks": self.num_time_masks,
                "max_time_ratio": self.max_time_ratio,
                "mask_value": self.mask_value,
                "seed": self.seed,
            }
        )
        return config
