"""ProximalAdagrad: Adagrad followed by a proximal L1/L2 step (FOBOS)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.optimizers._fused import fused_kernel_applies, handle
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.ProximalAdagrad")
class ProximalAdagrad(keras.optimizers.Optimizer):
    """Proximal Adagrad: ``accum += g^2``; Adagrad step; then shrink by the L1/L2 proximal map.

    Same arguments and update as ``tfa.optimizers.ProximalAdagrad``.

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.001``.
        initial_accumulator_value: starting value of the accumulators. Defaults to ``0.1``.
        l1_regularization_strength: L1 strength (>= 0). Defaults to ``0.0``.
        l2_regularization_strength: L2 strength (>= 0). Defaults to ``0.0``.
        name: optimizer name. Defaults to ``"ProximalAdagrad"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import ProximalAdagrad
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> ProximalAdagrad(0.1, l1_regularization_strength=0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.8951, 0.8951]

    Reference: Duchi & Singer, "Efficient Online and Batch Learning Using Forward Backward
    Splitting", JMLR 2009.
    """

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 name: str = "ProximalAdagrad", **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        init = keras.initializers.Constant(self.initial_accumulator_value)
        self._accumulators = [
            self.add_variable_from_reference(var, "accumulator", initializer=init)
            for var in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        l1 = ops.cast(self.l1_regularization_strength, dtype)
        l2 = ops.cast(self.l2_regularization_strength, dtype)
        if fused_kernel_applies(gradient):
            import tensorflow as tf

            tf.raw_ops.ResourceApplyProximalAdagrad(var=handle(variable), accum=handle(accumulator),
                                                    lr=lr, l1=l1, l2=l2, grad=grad)
            return
        self.assign_add(accumulator, ops.square(grad))
        # The proximal step uses the per-coordinate Adagrad rate, as TF's ApplyProximalAdagrad.
        rate = lr / ops.sqrt(accumulator)
        prox = variable - rate * grad
        shrunk = ops.sign(prox) * ops.maximum(ops.abs(prox) - rate * l1, 0.0)
        self.assign(variable, shrunk / (1.0 + rate * l2))

    def get_config(self):
        config = super().get_config()
        config.update(
            initial_accumulator_value=self.initial_accumulator_value,
            l1_regularization_strength=self.l1_regularization_strength,
            l2_regularization_strength=self.l2_regularization_strength,
        )
        return config
