"""Yogi: Adam with an additive, sign-controlled second-moment update."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.optimizers._per_step import PerStepValues
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.Yogi")
class Yogi(PerStepValues, keras.optimizers.Optimizer):
    """Yogi: ``v += (1 - beta2) * sign(g^2 - v) * g^2`` keeps the effective step from exploding.

    Same arguments (note tfa's ``beta1``/``beta2`` spelling) and update as ``tfa.optimizers.Yogi``,
    including its proximal L1/L2 regularization.

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.01``.
        beta1: first-moment decay; ``0`` disables momentum. Defaults to ``0.9``.
        beta2: second-moment decay. Defaults to ``0.999``.
        epsilon: denominator constant. Defaults to ``1e-3``.
        l1_regularization_strength: proximal L1 strength. Defaults to ``0.0``.
        l2_regularization_strength: proximal L2 strength. Defaults to ``0.0``.
        initial_accumulator_value: starting value of ``v``. Defaults to ``1e-6``.
        activation: ``"sign"`` or ``"tanh"`` (a smooth sign). Defaults to ``"sign"``.
        name: optimizer name. Defaults to ``"Yogi"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import Yogi
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> Yogi(0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 3) for x in var.numpy()]
    [0.903, 0.903]

    Reference: Zaheer et al., "Adaptive Methods for Nonconvex Optimization", NeurIPS 2018.
    """

    def __init__(self, learning_rate: Any = 0.01, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-3, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, initial_accumulator_value: float = 1e-6,
                 activation: str = "sign", name: str = "Yogi", **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if activation not in ("sign", "tanh"):
            raise ConfigError(f"activation must be 'sign' or 'tanh'. Received: activation={activation!r}")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.initial_accumulator_value = initial_accumulator_value
        self.activation = activation

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._v = [
            self.add_variable_from_reference(
                var, "v", initializer=keras.initializers.Constant(self.initial_accumulator_value)
            )
            for var in var_list
        ]
        if self.beta1 != 0.0:
            self._m = self.add_optimizer_variables(var_list, "m")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        grad = ops.cast(gradient, dtype)
        beta1 = ops.cast(self.beta1, dtype)
        beta2 = ops.cast(self.beta2, dtype)

        def bias_corrected_lr():
            step = ops.cast(self.iterations + 1, dtype)
            return (ops.cast(learning_rate, dtype) * ops.sqrt(1.0 - ops.power(beta2, step))
                    / (1.0 - ops.power(beta1, step)))

        lr = self.per_step("lr", variable, bias_corrected_lr)
        v = self._v[index]
        grad2 = grad * grad
        if self.activation == "sign":
            sign = ops.sign(grad2 - v)
        else:
            sign = ops.tanh(10.0 * (grad2 - v))
        self.assign_add(v, (1.0 - beta2) * sign * grad2)
        per_coord_lr = lr / (ops.sqrt(v) + self.epsilon)
        if self.beta1 != 0.0:
            m = self._m[index]
            self.assign(m, m * beta1 + grad * (1.0 - beta1))
            new_var = variable - per_coord_lr * m
        else:
            new_var = variable - per_coord_lr * grad
        l1 = ops.cast(self.l1_regularization_strength, dtype)
        l2 = ops.cast(self.l2_regularization_strength, dtype)
        if self.l1_regularization_strength > 0:
            # argmin_w 1/2 a w^2 + b w + c |w| with a = 1 + l2 lr, b = -new_var, c = l1 lr.
            a, b, c = 1.0 + l2 * per_coord_lr, -new_var, l1 * per_coord_lr
            new_var = ops.where(ops.abs(b) > c, -(b - ops.sign(b) * c) / a, ops.zeros_like(b))
        elif self.l2_regularization_strength > 0:
            new_var = new_var / (1.0 + l2 * per_coord_lr)
        self.assign(variable, new_var)

    def get_config(self):
        config = super().get_config()
        config.update(
            beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
            l1_regularization_strength=self.l1_regularization_strength,
            l2_regularization_strength=self.l2_regularization_strength,
            initial_accumulator_value=self.initial_accumulator_value, activation=self.activation,
        )
        return config
