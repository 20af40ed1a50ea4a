"""Lookahead: k fast steps forward with any optimizer, then one step back towards slow weights."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.optimizers._wrapper import (
    OptimizerWrapper,
    for_each_variable,
    start_slots_at_weights,
)
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.Lookahead")
class Lookahead(OptimizerWrapper):
    """Lookahead wrapper: every ``sync_period`` steps pull the weights back towards slow copies.

    The wrapped optimizer updates the "fast" weights. After every ``sync_period``-th update the slow
    weights move ``slow_step_size`` of the way towards the fast ones and the fast weights are reset to
    them. Same update and arguments as ``tfa.optimizers.Lookahead``.

    Args:
        optimizer: the inner optimizer (instance, name or config).
        sync_period: fast steps between synchronizations. Defaults to ``6``.
        slow_step_size: interpolation factor of the slow weights. Defaults to ``0.5``.
        name: optimizer name. Defaults to ``"Lookahead"``.
        **kwargs: base optimizer arguments (``clipnorm``, ``gradient_accumulation_steps`` ...).

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import Lookahead
    >>> var = keras.Variable(np.ones(2, "float32"))
    >>> opt = Lookahead(keras.optimizers.SGD(0.1), sync_period=2)
    >>> for _ in range(2):
    ...     opt.apply([keras.ops.ones(2)], [var])
    >>> [round(float(x), 4) for x in var.numpy()]
    [0.9, 0.9]

    Reference: Zhang et al., "Lookahead Optimizer: k steps forward, 1 step back", 2019,
    https://arxiv.org/abs/1907.08610
    """

    def __init__(self, optimizer: Any, sync_period: int = 6, slow_step_size: float = 0.5,
                 name: str = "Lookahead", **kwargs: Any):
        super().__init__(optimizer, name=name, **kwargs)
        if int(sync_period) < 1:
            raise ConfigError(f"sync_period must be >= 1. Received: sync_period={sync_period}")
        self.sync_period = int(sync_period)
        self.slow_step_size = slow_step_size

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._slow = [self.add_variable_from_reference(var, name="slow") for var in var_list]

    def _before_inner_step(self, trainable_variables):
        # Slow weights start at the initial weights, as in tfa.
        first = ops.equal(self.inner_optimizer._iterations, 0)
        start_slots_at_weights(self, self._slow, trainable_variables, first)

    def _after_inner_step(self, trainable_variables):
        step = self.inner_optimizer._iterations
        sync = ops.equal(ops.mod(step, self.sync_period), 0)

        def look_back(var):
            slow_var = self.slot(self._slow, var)
            # Read values explicitly: jnp.where refuses Keras variables.
            slow, fast = ops.convert_to_tensor(slow_var), ops.convert_to_tensor(var)
            step_back = slow + ops.cast(self.slow_step_size, fast.dtype) * (fast - slow)
            self.assign(slow_var, ops.where(sync, step_back, slow))
            self.assign(var, ops.where(sync, step_back, fast))

        for_each_variable(self, look_back, trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update(sync_period=self.sync_period, slow_step_size=self.slow_step_size)
        return config
