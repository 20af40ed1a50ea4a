"""ConditionalGradient: Frank-Wolfe steps inside a norm ball."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.ConditionalGradient")
class ConditionalGradient(keras.optimizers.Optimizer):
    """Conditional gradient (Frank-Wolfe) within a Frobenius or nuclear norm ball of radius ``lambda_``.

    ``var = lr * var - (1 - lr) * lambda_ * s`` where ``s`` is the normalized gradient
    (``ord="fro"``) or its top singular pair ``u v^T`` (``ord="nuclear"``). Same arguments and
    update as ``tfa.optimizers.ConditionalGradient``.

    Args:
        learning_rate: interpolation weight in [0, 1], float or schedule.
        lambda_: radius of the constraint ball. Defaults to ``0.01``.
        epsilon: added to the gradient norm. Defaults to ``1e-7``.
        ord: ``"fro"`` or ``"nuclear"``. Defaults to ``"fro"``.
        name: optimizer name. Defaults to ``"ConditionalGradient"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import ConditionalGradient
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> ConditionalGradient(0.5, lambda_=0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.4646, 0.4646]

    Reference: Frank & Wolfe, "An algorithm for quadratic programming", 1956; tfa's
    ConditionalGradient.
    """

    def __init__(self, learning_rate: Any, lambda_: float = 0.01, epsilon: float = 1e-7,
                 ord: str = "fro", name: str = "ConditionalGradient", **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if ord not in ("fro", "nuclear"):
            raise ConfigError(f"ord must be 'fro' or 'nuclear'. Received: ord={ord!r}")
        self.lambda_ = lambda_
        self.epsilon = epsilon
        self.ord = ord

    @staticmethod
    def _top_singular_vector(grad):
        shape = ops.shape(grad)
        matrix = ops.reshape(grad, (1, -1)) if len(shape) < 2 else grad
        u, _, vt = ops.svd(matrix, full_matrices=False)
        outer = ops.matmul(u[:, :1], vt[:1, :])
        return ops.reshape(outer, shape)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        lambda_ = ops.cast(self.lambda_, dtype)
        if self.ord == "fro":
            s = grad / (ops.sqrt(ops.sum(ops.square(grad))) + self.epsilon)
        else:
            s = self._top_singular_vector(grad)
        self.assign(variable, variable * lr - (1.0 - lr) * lambda_ * s)

    def get_config(self):
        config = super().get_config()
        config.update(lambda_=self.lambda_, epsilon=self.epsilon, ord=self.ord)
        return config
