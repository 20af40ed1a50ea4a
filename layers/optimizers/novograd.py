"""NovoGrad: layer-wise second moments with normalized, momentum-accumulated gradients."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.optimizers._adam_family import AdamFamily
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.NovoGrad")
class NovoGrad(AdamFamily):
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
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, weight_decay=weight_decay, amsgrad=amsgrad, name=name,
                         **kwargs)
        self.grad_averaging = grad_averaging

    def _second_moment_variables(self, var_list, name):
        # One scalar per variable: the running mean of its squared gradient norm.
        return [self.add_variable((), initializer="zeros", dtype=var.dtype, name=name)
                for var in var_list]

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        first = self.per_step("first", variable, lambda: ops.equal(self.iterations, 0))
        v = self._v[index]
        g_2 = ops.sum(ops.square(grad))
        self.assign(v, ops.where(first, g_2, v * beta_2 + g_2 * (1.0 - beta_2)))
        grad = self._with_weight_decay(grad / (ops.sqrt(self._amsgrad(index, v)) + self.epsilon),
                                       variable)
        if self.grad_averaging:
            grad = ops.where(first, grad, grad * (1.0 - beta_1))
        m = self._m[index]
        self.assign(m, m * beta_1 - lr * grad)
        self.assign_add(variable, m)

    def get_config(self):
        config = super().get_config()
        config["grad_averaging"] = self.grad_averaging
        return config
