"""SGDW: SGD with momentum and tfa's decoupled weight decay."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.optimizers._fused import fused_kernel_applies, handle
from kerazoo.optimizers.decoupled_weight_decay import decay_value
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.SGDW")
class SGDW(keras.optimizers.Optimizer):
    """SGD (with optional momentum / Nesterov) and decoupled weight decay ``var -= wd * var``.

    As ``tfa.optimizers.SGDW``: the decay is applied before the momentum step and is **not**
    scaled by the learning rate (Keras's ``SGD(weight_decay=...)`` scales it).

    Args:
        weight_decay: decay per step, float or ``LearningRateSchedule``.
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``0.001``.
        momentum: momentum factor >= 0. Defaults to ``0.0``.
        nesterov: Nesterov momentum. Defaults to ``False``.
        exclude_from_weight_decay: variable-name regexes never decayed. Defaults to ``None``.
        name: optimizer name. Defaults to ``"SGDW"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import SGDW
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> SGDW(weight_decay=0.01, learning_rate=0.1).apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.89, 0.89]

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
    https://arxiv.org/abs/1711.05101
    """

    def __init__(self, weight_decay: Any, learning_rate: Any = 0.001, momentum: float = 0.0,
                 nesterov: bool = False, exclude_from_weight_decay: list[str] | None = None,
                 name: str = "SGDW", **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.decoupled_weight_decay = weight_decay
        self.momentum = momentum
        self.nesterov = nesterov
        self.exclude_from_weight_decay_names = list(exclude_from_weight_decay or [])
        if self.exclude_from_weight_decay_names:
            self.exclude_from_weight_decay(var_names=self.exclude_from_weight_decay_names)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        if self.momentum != 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        if self._use_weight_decay(variable):
            wd = decay_value(self.decoupled_weight_decay, self.iterations)
            self.assign_sub(variable, ops.cast(wd, dtype) * variable)
        if self.momentum == 0:
            self.assign_sub(variable, lr * grad)
            return
        momentum = ops.cast(self.momentum, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        if fused_kernel_applies(gradient):
            import tensorflow as tf

            tf.raw_ops.ResourceApplyKerasMomentum(var=handle(variable), accum=handle(m), lr=lr,
                                                  grad=grad, momentum=momentum,
                                                  use_nesterov=self.nesterov)
            return
        self.assign(m, m * momentum - lr * grad)
        if self.nesterov:
            self.assign_add(variable, m * momentum - lr * grad)
        else:
            self.assign_add(variable, m)

    def get_config(self):
        from keras.optimizers.schedules import serialize

        config = super().get_config()
        wd = self.decoupled_weight_decay
        config.update(weight_decay=serialize(wd) if callable(wd) else wd, momentum=self.momentum,
                      nesterov=self.nesterov,
                      exclude_from_weight_decay=self.exclude_from_weight_decay_names or None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras.optimizers.schedules import deserialize

        config = dict(config)
        if isinstance(config.get("weight_decay"), dict):
            config["weight_decay"] = deserialize(config["weight_decay"], custom_objects)
        return super().from_config(config, custom_objects)
