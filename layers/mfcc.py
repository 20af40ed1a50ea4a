"""MFCC: mel-frequency cepstral coefficients from a log-mel spectrogram."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kerazoo.registry import register


def dct_matrix(length: int, num_coefficients: int, norm: str | None = "ortho") -> np.ndarray:
    """The ``(length, num_coefficients)`` DCT-II matrix: ``x @ M`` is ``scipy.fft.dct(x)[:n]``."""
    n = np.arange(length)[:, None]
    k = np.arange(num_coefficients)[None, :]
    matrix = 2.0 * np.cos(math.pi * k * (2 * n + 1) / (2 * length))
    if norm == "ortho":
        matrix *= np.where(k == 0, math.sqrt(1.0 / (4 * length)), math.sqrt(1.0 / (2 * length)))
    return matrix


@register("layers")
class MFCC(keras.layers.Layer):
    """Takes the DCT-II of a log-mel spectrogram along its mel axis and keeps the first coefficients.

    Put it after ``keras.layers.MelSpectrogram`` (whose default ``power_to_db=True`` output is a
    log-mel spectrogram of shape ``(batch, num_mel_bins, time)``, hence ``axis=-2`` by default), or
    give ``axis=-1`` for ``(batch, time, num_mel_bins)`` log-mel features. With ``norm="ortho"`` the
    result equals ``scipy.fft.dct(x, type=2, norm="ortho")[:num_mfcc]`` and librosa's MFCC;
    ``tf.signal.mfccs_from_log_mel_spectrograms`` differs from it only in coefficient 0 (scaled by
    ``sqrt(2)``). The DCT matrix is a constant, not a weight.

    Args:
        num_mfcc: coefficients to keep. Defaults to ``13``.
        axis: the mel axis of the input. Defaults to ``-2``.
        norm: ``"ortho"`` or ``None`` (the unnormalised DCT-II, ``2 * sum``). Defaults to
            ``"ortho"``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any rank >= 2 with a known mel axis of at least ``num_mfcc`` bins.
    Output shape: the input shape with the mel axis replaced by ``num_mfcc``.

    Example:

    >>> import numpy as np
    >>> audio = np.random.default_rng(0).normal(size=(2, 4000)).astype("float32")
    >>> log_mel = keras.layers.MelSpectrogram(num_mel_bins=40, sampling_rate=8000)(audio)
    >>> tuple(log_mel.shape), tuple(MFCC(num_mfcc=13)(log_mel).shape)
    ((2, 40, 8), (2, 13, 8))

    Reference:
        Davis & Mermelstein, "Comparison of parametric representations for monosyllabic word
        recognition in continuously spoken sentences", IEEE TASSP 1980.
    """

    def __init__(self, num_mfcc: int = 13, axis: int = -2, norm: str | None = "ortho", **kwargs):
        super().__init__(**kwargs)
        if int(num_mfcc) < 1:
            raise ValueError(f"`num_mfcc` must be >= 1. Received: num_mfcc={num_mfcc}")
        if norm not in ("ortho", None):
            raise ValueError(f"`norm` must be 'ortho' or None. Received: norm={norm!r}")
        self.num_mfcc = int(num_mfcc)
        self.axis = axis
        self.norm = norm

    def build(self, input_shape):
        bins = input_shape[self.axis]
        if bins is None or bins < self.num_mfcc:
            raise ValueError(
                f"MFCC needs a known mel axis (axis={self.axis}) of at least num_mfcc="
                f"{self.num_mfcc} bins. Received: input_shape={input_shape}"
            )
        self._dct = dct_matrix(bins, self.num_mfcc, self.norm).astype("float32")

    def call(self, inputs):
        matrix = ops.convert_to_tensor(self._dct, dtype=inputs.dtype)
        moved = ops.moveaxis(inputs, self.axis, -1)
        return ops.moveaxis(ops.matmul(moved, matrix), -1, self.axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self.axis] = self.num_mfcc
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"num_mfcc": self.num_mfcc, "axis": self.axis, "norm": self.norm})
        return config
