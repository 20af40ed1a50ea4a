"""RReLU: the randomized leaky rectified linear unit."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("activations")
def rrelu(x, lower: float = 0.125, upper: float = 1.0 / 3.0, training=None, seed=None):
    """Randomized leaky ReLU: ``x`` for ``x >= 0``, else ``alpha * x``.

    In training, ``alpha`` is drawn uniformly from ``[lower, upper)`` for every element; otherwise
    ``alpha = (lower + upper) / 2``. The same semantics and defaults as ``tfa.activations.rrelu``
    (whose random numbers differ, being TensorFlow's).

    Args:
        x: input tensor.
        lower: lower bound of the slope. Defaults to ``0.125``.
        upper: upper bound of the slope. Defaults to ``1/3``.
        training: draw random slopes when ``True``. Defaults to ``None`` (inference).
        seed: an int or a ``keras.random.SeedGenerator`` for the random slopes; pass a
            ``SeedGenerator`` inside a traced function (``jit_compile``) to get fresh slopes per
            step. Defaults to ``None``.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> np.round(keras.ops.convert_to_numpy(rrelu(np.array([-1.0, 2.0]))), 4).tolist()
    [-0.2292, 2.0]

    Reference:
        Xu et al., "Empirical Evaluation of Rectified Activations in Convolutional Network",
        2015 (arXiv:1505.00853).
    """
    x = ops.convert_to_tensor(x)
    if training:
        alpha = keras.random.uniform(
            ops.shape(x), minval=lower, maxval=upper, dtype=x.dtype, seed=seed
        )
    else:
        alpha = ops.cast((lower + upper) / 2.0, x.dtype)
    return ops.where(x >= 0, x, alpha * x)
