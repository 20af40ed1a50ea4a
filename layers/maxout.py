"""Maxout: the maximum over groups of features."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.Maxout")
class Maxout(keras.layers.Layer):
    """Reduces ``axis`` from ``C`` features to ``num_units`` by a max over ``C // num_units`` pieces.

    Feature ``c`` belongs to unit ``c % num_units`` (the axis is viewed as
    ``(C // num_units, num_units)`` and the max is taken over the first), exactly as
    ``tfa.layers.Maxout``.

    Args:
        num_units: number of outputs along ``axis``; must divide the axis size.
        axis: the feature axis. Defaults to ``-1``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any, with ``axis`` a multiple of ``num_units``.
    Output shape: the input shape with ``axis`` equal to ``num_units``.

    Example:

    >>> import numpy as np
    >>> layer = Maxout(num_units=2)
    >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, 5.0, 3.0, 2.0]]))).tolist()
    [[3.0, 5.0]]

    Reference:
        Goodfellow et al., "Maxout Networks", ICML 2013.
    """

    def __init__(self, num_units: int, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if int(num_units) <= 0:
            raise ValueError(f"`num_units` must be positive. Received: num_units={num_units}")
        self.num_units = int(num_units)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        channels = input_shape[self.axis]
        if channels is not None and channels % self.num_units:
            raise ValueError(
                f"Maxout: the size of axis {self.axis} ({channels}) is not a multiple of "
                f"num_units. Received: num_units={self.num_units}"
            )

    def call(self, inputs):
        rank = len(inputs.shape)
        axis = self.axis % rank
        dynamic = ops.shape(inputs)
        shape = [dim if dim is not None else dynamic[i] for i, dim in enumerate(inputs.shape)]
        grouped = shape[:axis] + [-1, self.num_units] + shape[axis + 1 :]
        if any(not isinstance(dim, int) for dim in shape[:axis] + shape[axis + 1 :]):
            grouped[axis] = shape[axis] // self.num_units
        return ops.max(ops.reshape(inputs, grouped), axis=axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self.axis] = self.num_units
        return tuple(shape)

    def compute_mask(self, inputs, mask=None):
        return mask if self.axis % len(inputs.shape) != 1 else None

    def get_config(self):
        config = super().get_config()
        config.update({"num_units": self.num_units, "axis": self.axis})
        return config
