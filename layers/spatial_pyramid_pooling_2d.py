"""SpatialPyramidPooling2D: fixed-length features from images of any size."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


def _pair(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(pair) != 2 or min(pair) <= 0:
        raise ValueError(f"Each bin must be a positive int or a pair of them. Received: {name}={value}")
    return pair


@register("layers", tfa="tfa.layers.SpatialPyramidPooling2D")
class SpatialPyramidPooling2D(keras.layers.Layer):
    """Average-pools the feature map into each grid of ``bins`` and concatenates the cells.

    For a bin ``(bh, bw)`` the map is cropped to the largest size divisible by the bin (the last
    ``H % bh`` rows and ``W % bw`` columns are dropped) and averaged over ``bh x bw`` equal cells.
    The output has ``sum(bh * bw)`` cells whatever the input size. Same arguments and outputs as
    ``tfa.layers.SpatialPyramidPooling2D`` (average pooling, row-major cells, bins in order).

    Args:
        bins: a list of ints or ``(bh, bw)`` pairs, e.g. ``[1, 2, 4]``.
        data_format: ``"channels_last"`` or ``"channels_first"``. Defaults to
            ``keras.config.image_data_format()``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: ``(batch, H, W, C)`` (channels last) or ``(batch, C, H, W)``.
    Output shape: ``(batch, cells, C)`` (channels last) or ``(batch, C, cells)``.

    Example:

    >>> import numpy as np
    >>> layer = SpatialPyramidPooling2D([1, 2])
    >>> tuple(layer(np.ones((2, 5, 6, 3), "float32")).shape)
    (2, 5, 3)

    Reference:
        He et al., "Spatial Pyramid Pooling in Deep Convolutional Networks for Visual
        Recognition", ECCV 2014.
    """

    def __init__(self, bins, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.bins = [_pair(b, "bins") for b in bins]
        data_format = data_format or keras.config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "`data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format}"
            )
        self.data_format = data_format
        self.built = True

    def call(self, inputs):
        x = inputs if self.data_format == "channels_last" else ops.transpose(inputs, (0, 2, 3, 1))
        dynamic = ops.shape(x)
        height = x.shape[1] if x.shape[1] is not None else dynamic[1]
        width = x.shape[2] if x.shape[2] is not None else dynamic[2]
        channels = x.shape[3]
        outputs = []
        for bh, bw in self.bins:
            cell_h, cell_w = height // bh, width // bw
            cropped = x[:, : cell_h * bh, : cell_w * bw, :]
            grid = ops.reshape(cropped, (-1, bh, cell_h, bw, cell_w, channels))
            pooled = ops.mean(grid, axis=(2, 4))
            outputs.append(ops.reshape(pooled, (-1, bh * bw, channels)))
        pooled = ops.concatenate(outputs, axis=1)
        return pooled if self.data_format == "channels_last" else ops.transpose(pooled, (0, 2, 1))

    def compute_output_shape(self, input_shape):
        cells = sum(bh * bw for bh, bw in self.bins)
        if self.data_format == "channels_last":
            return (input_shape[0], cells, input_shape[-1])
        return (input_shape[0], input_shape[1], cells)

    def get_config(self):
        config = super().get_config()
        config.update({"bins": [list(b) for b in self.bins], "data_format": self.data_format})
        return config
