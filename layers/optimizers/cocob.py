"""COCOB-Backprop: a learning-rate-free optimizer based on coin betting."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.COCOB")
class COCOB(keras.optimizers.Optimizer):
    """COCOB-Backprop: each weight bets on its gradient's sign; there is no learning rate.

    Same arguments and update as ``tfa.optimizers.COCOB``. The Keras ``learning_rate`` is
    accepted for API symmetry and ignored.

    Args:
        alpha: caps the growth of the bet in the first steps. Defaults to ``100``.
        name: optimizer name. Defaults to ``"COCOB"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import COCOB
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> COCOB().apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.99, 0.99]

    Reference: Orabona & Tommasi, "Training Deep Networks without Learning Rates Through Coin
    Betting", NeurIPS 2017, https://arxiv.org/abs/1705.07795
    """

    def __init__(self, alpha: float = 100.0, name: str = "COCOB", **kwargs: Any):
        kwargs.setdefault("learning_rate", 1.0)
        super().__init__(name=name, **kwargs)
        if alpha < 1:
            raise ConfigError(f"alpha must be >= 1. Received: alpha={alpha}")
        self.alpha = float(alpha)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._lr = [self.add_variable_from_reference(
            var, "lr", initializer=keras.initializers.Constant(1e-8)) for var in var_list]
        self._grad_norm_sum = self.add_optimizer_variables(var_list, "grad_norm_sum")
        self._gradients_sum = self.add_optimizer_variables(var_list, "gradients_sum")
        self._tilde_w = self.add_optimizer_variables(var_list, "tilde_w")
        self._reward = self.add_optimizer_variables(var_list, "reward")

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        grad = ops.cast(gradient, variable.dtype)
        lr, tilde_w, reward = self._lr[index], self._tilde_w[index], self._reward[index]
        gradients_sum, grad_norm_sum = self._gradients_sum[index], self._grad_norm_sum[index]
        new_lr = ops.maximum(lr, ops.abs(grad))
        new_gradients_sum = gradients_sum + grad
        new_grad_norm_sum = grad_norm_sum + ops.abs(grad)
        new_reward = ops.maximum(reward - grad * tilde_w, 0.0)
        grad_max = ops.maximum(new_grad_norm_sum + new_lr, self.alpha * new_lr)
        new_w = -new_gradients_sum / (new_lr * grad_max) * (new_reward + new_lr)
        self.assign(variable, variable - tilde_w + new_w)
        self.assign(tilde_w, new_w)
        self.assign(gradients_sum, new_gradients_sum)
        self.assign(grad_norm_sum, new_grad_norm_sum)
        self.assign(lr, new_lr)
        self.assign(reward, new_reward)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
