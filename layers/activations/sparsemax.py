"""Sparsemax: the Euclidean projection of logits onto the probability simplex."""

from __future__ import annotations

from keras import ops

from kerazoo.registry import register


@register("activations")
def sparsemax(logits, axis: int = -1):
    """Sparsemax: like softmax but with exact zeros, ``max(z - tau, 0)`` summing to 1 along ``axis``.

    ``tau`` is found by sorting: with ``z`` sorted descending and ``k(z)`` the largest ``k`` such
    that ``1 + k * z_(k) > sum_{j<=k} z_(j)``, ``tau = (sum_{j<=k(z)} z_(j) - 1) / k(z)``.
    Keras 3.15.1's ``keras.activations.sparsemax`` is wrong on all three backends whenever more than
    one logit is in the support (it sums the cumulative sums over the support instead of taking the
    ``k(z)``-th); this one matches ``tfa.activations.sparsemax``. Computed in float32 for float16 and
    bfloat16 inputs; logits are centred first for stability; rows with an infinite logit give NaN.

    Args:
        logits: input tensor of rank >= 1.
        axis: the axis to normalise. Defaults to ``-1``.

    Returns:
        A tensor of the same shape and dtype as ``logits``.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> out = sparsemax(np.array([[-0.325, -0.531, 1.336, 0.741]], "float32"))
    >>> print(np.round(keras.ops.convert_to_numpy(out), 4))
    [[0.     0.     0.7975 0.2025]]

    Reference:
        Martins & Astudillo, "From Softmax to Sparsemax: A Sparse Model of Attention and
        Multi-Label Classification", ICML 2016.
    """
    logits = ops.convert_to_tensor(logits)
    dtype = logits.dtype
    z = ops.moveaxis(ops.cast(logits, "float32"), axis, -1)
    z = z - ops.mean(z, axis=-1, keepdims=True)
    z_sorted = ops.flip(ops.sort(z, axis=-1), axis=-1)
    cumulative = ops.cumsum(z_sorted, axis=-1)
    k = ops.cast(ops.arange(1, z.shape[-1] + 1), "float32")
    support = ops.cast(1.0 + k * z_sorted > cumulative, "int32")
    # An infinite logit leaves no valid support; k=1 keeps the gather in range and the row is
    # set to NaN below, as tfa does.
    k_z = ops.maximum(ops.sum(support, axis=-1, keepdims=True), 1)
    tau_sum = ops.take_along_axis(cumulative, k_z - 1, axis=-1)
    tau = (tau_sum - 1.0) / ops.cast(k_z, "float32")
    out = ops.maximum(z - tau, 0.0)
    bad = ops.any(ops.isinf(z), axis=-1, keepdims=True) | ops.isnan(tau)
    out = ops.where(bad, float("nan"), out)
    return ops.cast(ops.moveaxis(out, -1, axis), dtype)
