"""NovoGrad: layer-wise second moments with normalized, momentum-accumulated gradients."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.NovoGrad")
class NovoGrad(keras.optimizers.Optimizer):
    """NovoGrad: one second-moment scalar per variable; momentum on the normalized gradient.

    Same arguments and update as ``tfa.optimizers.NovoGrad`` (``weight_decay`` is added to the
    normalized gradient, i.e. scaled by the learning rate).

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.001``.
        beta_1: momentum. Defaults to ``0.9``.
        beta_2: decay of the per-variable squared gradient norm. Defaults to ``0.999``.
        epsilon: denominator constant. Defaults to ``1e-7``.
        weight_decay: decay added to the normalized gradient. Defaults to ``0.0``.
        grad_averaging: scale the normalized gradient by ``1 - beta_1`` after the first step.
            Defaults to ``False``.
        amsgrad: use the running maximum of the second moment. Defaults to ``False``.
        name: optimizer name. Defaults to ``"NovoGrad"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import NovoGrad
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> NovoGrad(0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.9293, 0.9293]

    Reference: Ginsburg et al., "Stochastic Gradient Methods with Layer-wise Adaptive Moments",
    2019, https://arxiv.org/abs/1905.11286
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float = 0.0, grad_averaging: bool = False,
                 amsgrad: bool = False, name: str = "NovoGrad", **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay or None
        self.grad_averaging = grad_averaging
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m = self.add_optimizer_variables(var_list, "m")
        self._v = [self.add_variable((), initializer="zeros", dtype=var.dtype, name="v")
                   for var in var_list]
        if self.amsgrad:
            self._vhat = [self.add_variable((), initializer="zeros", dtype=var.dtype, name="vhat")
                          for var in var_list]

    def _apply_weight_decay(self, variables):
        # Added to the normalized gradient in update_step, as tfa did.
        return

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        first = ops.equal(self.iterations, 0)
        v = self._v[index]
        g_2 = ops.sum(ops.square(grad))
        self.assign(v, ops.where(first, g_2, v * beta_2 + g_2 * (1.0 - beta_2)))
        second = v
        if self.amsgrad:
            vhat = self._vhat[index]
            self.assign(vhat, ops.maximum(vhat, v))
            second = vhat
        grad = grad / (ops.sqrt(second) + self.epsilon)
        if self.weight_decay and self._use_weight_decay(variable):
            grad = grad + ops.cast(self.weight_decay, dtype) * variable
        if self.grad_averaging:
            grad = ops.where(first, grad, grad * (1.0 - beta_1))
        m = self._m[index]
        self.assign(m, m * beta_1 - lr * grad)
        self.assign_add(variable, m)

    def get_config(self):
        config = super().get_config()
        config.update(
            beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
            weight_decay=self.weight_decay or 0.0, grad_averaging=self.grad_averaging,
            amsgrad=self.amsgrad,
        )
        return config
