"""PoincareNormalize: project vectors into the open unit ball."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.PoincareNormalize")
class PoincareNormalize(keras.layers.Layer):
    """Scales every vector with norm ``>= 1 - epsilon`` back to norm ``1 - epsilon``.

    ``y = x * min((1 - epsilon) / ||x||, 1)`` along ``axis``: vectors already inside the ball of
    radius ``1 - epsilon`` are unchanged, the others are put on its border. Same arguments and
    output as ``tfa.layers.PoincareNormalize``.

    Args:
        axis: an int or list of ints, the axes of the vectors. Defaults to ``1``.
        epsilon: gap kept to the unit sphere. Defaults to ``1e-5``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: any. Output shape: same as the input.

    Example:

    >>> import numpy as np
    >>> layer = PoincareNormalize(axis=1, epsilon=0.1)
    >>> y = keras.ops.convert_to_numpy(layer(np.array([[3.0, 4.0], [0.3, 0.4]])))
    >>> np.round(y.astype("float64"), 3).tolist()
    [[0.54, 0.72], [0.3, 0.4]]

    Reference:
        Nickel & Kiela, "Poincaré Embeddings for Learning Hierarchical Representations",
        NeurIPS 2017.
    """

    def __init__(self, axis: int | list[int] = 1, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, list | tuple) else axis
        self.epsilon = epsilon
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = ops.sum(ops.square(inputs), axis=axis, keepdims=True)
        inverse_norm = ops.rsqrt(square_sum)
        scale = ops.minimum((1.0 - self.epsilon) * inverse_norm, 1.0)
        return inputs * ops.cast(scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config
