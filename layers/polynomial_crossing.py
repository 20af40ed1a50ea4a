"""PolynomialCrossing: one cross layer of a Deep & Cross Network."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.registry import register


@register("layers", tfa="tfa.layers.PolynomialCrossing")
class PolynomialCrossing(keras.layers.Layer):
    """Explicit feature crossing, ``y = x0 * (x @ W + diag_scale * x) + x + b`` (DCN-v2).

    Takes ``[x0, x]``: the stack's first input and the previous cross layer's output. With
    ``projection_dim`` the ``d x d`` matrix is factorised as ``U @ V`` (``d x r`` and ``r x d``).
    Same arguments, weights (``kernel`` or ``kernel_u``/``kernel_v``, ``bias``) and output as
    ``tfa.layers.PolynomialCrossing``.

    Args:
        projection_dim: rank ``r`` of the factorised kernel, at most ``d / 2``; ``None`` for a
            full ``d x d`` kernel. Defaults to ``None``.
        diag_scale: added to the diagonal of the kernel (``x @ W + diag_scale * x``).
            Defaults to ``0.0``.
        use_bias: add a bias. Defaults to ``True``.
        kernel_initializer: initializer of the kernel(s). Defaults to ``"truncated_normal"``.
        bias_initializer: initializer of the bias. Defaults to ``"zeros"``.
        kernel_regularizer: optional regularizer of the kernel(s). Defaults to ``None``.
        bias_regularizer: optional regularizer of the bias. Defaults to ``None``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Input shape: two tensors ``(batch, d)``. Output shape: ``(batch, d)``.

    Example:

    >>> import numpy as np
    >>> x0 = np.ones((2, 4), "float32")
    >>> layer = PolynomialCrossing(projection_dim=None, kernel_initializer="zeros")
    >>> keras.ops.convert_to_numpy(layer([x0, x0])).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]

    Reference:
        Wang et al., "DCN V2: Improved Deep & Cross Network and Practical Lessons for Web-scale
        Learning to Rank Systems", WWW 2021.
    """

    def __init__(
        self,
        projection_dim: int | None = None,
        diag_scale: float = 0.0,
        use_bias: bool = True,
        kernel_initializer="truncated_normal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.projection_dim = projection_dim
        self.diag_scale = diag_scale
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, list | tuple) or len(input_shape) != 2:
            raise ValueError(f"PolynomialCrossing takes [x0, x]. Received: input_shape={input_shape}")
        last_dim = input_shape[-1][-1]
        kernel_args = {
            "initializer": self.kernel_initializer,
            "regularizer": self.kernel_regularizer,
        }
        if self.projection_dim is None:
            self.kernel = self.add_weight(shape=(last_dim, last_dim), name="kernel", **kernel_args)
        else:
            if not 0 < self.projection_dim <= last_dim / 2:
                raise ValueError(
                    f"`projection_dim` must be in (0, d/2] with d={last_dim}. "
                    f"Received: projection_dim={self.projection_dim}"
                )
            self.kernel_u = self.add_weight(
                shape=(last_dim, self.projection_dim), name="kernel_u", **kernel_args
            )
            self.kernel_v = self.add_weight(
                shape=(self.projection_dim, last_dim), name="kernel_v", **kernel_args
            )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(last_dim,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def call(self, inputs):
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError(f"PolynomialCrossing takes [x0, x]. Received: inputs={inputs}")
        x0, x = inputs
        if self.projection_dim is None:
            product = ops.matmul(x, self.kernel)
        else:
            product = ops.matmul(ops.matmul(x, self.kernel_u), self.kernel_v)
        if self.diag_scale:
            product = product + self.diag_scale * x
        outputs = x0 * product + x
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, list | tuple) else mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "projection_dim": self.projection_dim,
                "diag_scale": self.diag_scale,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            }
        )
        return config
