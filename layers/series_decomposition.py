"""SeriesDecomposition: split a series into a moving-average trend and the seasonal rest."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers")
class SeriesDecomposition(keras.layers.Layer):
    """Returns ``(seasonal, trend)`` with ``trend`` a moving average and ``seasonal = x - trend``.

    The moving average runs over the steps of ``(batch, steps, features)`` with stride 1; the ends
    are padded by repeating the first and last step so ``trend`` keeps the input length (as in
    Autoformer and DLinear). ``seasonal + trend`` equals the input. The order of the outputs follows
    Autoformer's ``series_decomp``.

    Args:
        kernel_size: length of the moving-average window. Defaults to ``25``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, steps, features)``.
    Output: a tuple ``(seasonal, trend)``, each the shape of the input.

    Example:

    >>> import numpy as np
    >>> x = np.linspace(0.0, 1.0, 12, dtype="float32").reshape(1, 12, 1)
    >>> seasonal, trend = SeriesDecomposition(kernel_size=3)(x)
    >>> bool(np.allclose(keras.ops.convert_to_numpy(seasonal + trend), x, atol=1e-6))
    True

    Reference:
        Wu et al., "Autoformer: Decomposition Transformers with Auto-Correlation for Long-Term
        Series Forecasting", NeurIPS 2021; Zeng et al., "Are Transformers Effective for Time Series
        Forecasting?", AAAI 2023 (DLinear).
    """

    def __init__(self, kernel_size: int = 25, **kwargs):
        super().__init__(**kwargs)
        if int(kernel_size) < 1:
            raise ValueError(f"`kernel_size` must be >= 1. Received: kernel_size={kernel_size}")
        self.kernel_size = int(kernel_size)
        self.built = True

    def call(self, inputs):
        front = (self.kernel_size - 1) // 2
        back = self.kernel_size - 1 - front
        padded = ops.concatenate(
            [ops.repeat(inputs[:, :1], front, axis=1), inputs,
             ops.repeat(inputs[:, -1:], back, axis=1)],
            axis=1,
        )
        trend = ops.average_pool(
            padded, pool_size=self.kernel_size, strides=1, padding="valid",
            data_format="channels_last",
        )
        return inputs - trend, trend

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape), tuple(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size})
        return config
