"""LARS: layer-wise adaptive rate scaling for large-batch SGD."""

from __future__ import annotations

import re
from typing import Any

import keras
from keras import ops

from kerazoo.registry import register


@register("optimizers")
class LARS(keras.optimizers.Optimizer):
    """LARS: momentum SGD whose step per variable is scaled by ``eeta * ||w|| / ||g + wd w||``.

    Variables whose names match ``exclude_from_layer_adaptation`` (e.g. biases, norms) take the
    plain step; those matching ``exclude_from_weight_decay`` are not decayed. The decay is added
    to the gradient before the trust ratio, as in the paper and TF Model Garden's LARS.

    Args:
        learning_rate: float or ``LearningRateSchedule``. Defaults to ``1.0``.
        momentum: momentum factor. Defaults to ``0.9``.
        weight_decay_rate: L2 decay added to the gradient. Defaults to ``0.0``.
        eeta: trust coefficient. Defaults to ``0.001``.
        nesterov: Nesterov momentum. Defaults to ``False``.
        exclude_from_weight_decay: name regexes not decayed. Defaults to ``None``.
        exclude_from_layer_adaptation: name regexes without trust ratio. Defaults to
            ``exclude_from_weight_decay``.
        name: optimizer name. Defaults to ``"LARS"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import LARS
    >>> var = keras.Variable(np.ones(4, "float32"))
    >>> LARS(1.0, eeta=0.01).apply([keras.ops.ones(4)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.99, 0.99, 0.99, 0.99]

    Reference: You et al., "Large Batch Training of Convolutional Networks", 2017,
    https://arxiv.org/abs/1708.03888
    """

    def __init__(self, learning_rate: Any = 1.0, momentum: float = 0.9,
                 weight_decay_rate: float = 0.0, eeta: float = 0.001, nesterov: bool = False,
                 exclude_from_weight_decay: list[str] | None = None,
                 exclude_from_layer_adaptation: list[str] | None = None, name: str = "LARS",
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = momentum
        self.weight_decay_rate = weight_decay_rate
        self.eeta = eeta
        self.nesterov = nesterov
        self.exclude_from_weight_decay_names = list(exclude_from_weight_decay or [])
        self.exclude_from_layer_adaptation = (
            list(exclude_from_layer_adaptation) if exclude_from_layer_adaptation is not None
            else list(self.exclude_from_weight_decay_names)
        )

    @staticmethod
    def _matches(name: str, patterns: list[str]) -> bool:
        return any(re.search(pattern, name) for pattern in patterns)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype)
        name = variable.name
        if self.weight_decay_rate and not self._matches(name, self.exclude_from_weight_decay_names):
            grad = grad + ops.cast(self.weight_decay_rate, dtype) * variable
        if not self._matches(name, self.exclude_from_layer_adaptation):
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            g_norm = ops.sqrt(ops.sum(ops.square(grad)))
            ratio = ops.where(
                ops.logical_and(w_norm > 0, g_norm > 0),
                self.eeta * w_norm / ops.where(g_norm > 0, g_norm, 1.0),
                ops.ones_like(w_norm),
            )
            lr = lr * ratio
        momentum = ops.cast(self.momentum, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        self.assign(m, m * momentum + lr * grad)
        if self.nesterov:
            self.assign_sub(variable, m * momentum + lr * grad)
        else:
            self.assign_sub(variable, m)

    def get_config(self):
        config = super().get_config()
        config.update(
            momentum=self.momentum, weight_decay_rate=self.weight_decay_rate, eeta=self.eeta,
            nesterov=self.nesterov,
            exclude_from_weight_decay=self.exclude_from_weight_decay_names or None,
            exclude_from_layer_adaptation=self.exclude_from_layer_adaptation or None,
        )
        return config
