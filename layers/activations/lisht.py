"""LiSHT: the linearly scaled hyperbolic tangent activation."""

from __future__ import annotations

from keras import ops

from kerazoo.registry import register


@register("activations")
def lisht(x):
    """LiSHT activation, ``x * tanh(x)``: non-negative, unbounded and symmetric.

    Same as ``tfa.activations.lisht``.

    Args:
        x: input tensor.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> np.round(keras.ops.convert_to_numpy(lisht(np.array([-1.0, 0.0, 2.0]))), 4).tolist()
    [0.7616, 0.0, 1.9281]

    Reference:
        Roy et al., "LiSHT: Non-Parametric Linearly Scaled Hyperbolic Tangent Activation Function
        for Neural Networks", 2019 (arXiv:1901.05894).
    """
    x = ops.convert_to_tensor(x)
    return x * ops.tanh(x)
