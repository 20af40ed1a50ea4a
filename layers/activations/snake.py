"""Snake: a periodic activation with a monotone trend."""

from __future__ import annotations

from keras import ops

from kerazoo.registry import register


@register("activations")
def snake(x, frequency: float = 1.0):
    """Snake activation, ``x + (1 - cos(2 * frequency * x)) / (2 * frequency)``.

    Equal to ``x + sin(frequency * x)**2 / frequency``; learns periodic functions and extrapolates
    them. Same as ``tfa.activations.snake``; ``kerazoo.layers.Snake`` learns the frequency.

    Args:
        x: input tensor.
        frequency: a positive scalar (or tensor broadcastable to ``x``). Defaults to ``1.0``.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> np.round(keras.ops.convert_to_numpy(snake(np.array([-1.0, 0.0, 2.0]))), 4).tolist()
    [-0.2919, 0.0, 2.8268]

    Reference:
        Ziyin et al., "Neural Networks Fail to Learn Periodic Functions and How to Fix It",
        NeurIPS 2020.
    """
    x = ops.convert_to_tensor(x)
    frequency = ops.cast(frequency, x.dtype)
    return x + (1.0 - ops.cos(2.0 * frequency * x)) / (2.0 * frequency)
