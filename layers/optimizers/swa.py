"""SWA: stochastic weight averaging around any optimizer."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.optimizers._averaging import AveragedOptimizerWrapper
from kerazoo.optimizers._wrapper import for_each_variable
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.SWA")
class SWA(AveragedOptimizerWrapper):
    """Stochastic Weight Averaging: an equal-weight average of snapshots taken every few steps.

    From update ``start_averaging`` on, every ``average_period``-th set of weights is folded into
    a running mean (as ``tfa.optimizers.SWA``). Swap the mean in with :meth:`swap_weights` or
    :meth:`assign_average_vars`, then call :func:`recompute_batch_norm_statistics`.

    Args:
        optimizer: the inner optimizer (instance, name or config).
        start_averaging: number of updates before the first snapshot. Defaults to ``0``.
        average_period: updates between snapshots. Defaults to ``10``.
        name: optimizer name. Defaults to ``"SWA"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import SWA
    >>> var = keras.Variable(np.zeros(1, "float32"))
    >>> opt = SWA(keras.optimizers.SGD(1.0), average_period=1)
    >>> for _ in range(2):
    ...     opt.apply([-keras.ops.ones(1)], [var])
    >>> float(opt.average_variables[0].numpy()[0])
    1.5

    Reference: Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
    Generalization", 2018, https://arxiv.org/abs/1803.05407
    """

    def __init__(self, optimizer: Any, start_averaging: int = 0, average_period: int = 10,
                 name: str = "SWA", **kwargs: Any):
        super().__init__(optimizer, name=name, **kwargs)
        if int(average_period) < 1:
            raise ConfigError(f"average_period must be >= 1. Received: average_period={average_period}")
        if int(start_averaging) < 0:
            raise ConfigError(
                f"start_averaging must be >= 0. Received: start_averaging={start_averaging}"
            )
        self.start_averaging = int(start_averaging)
        self.average_period = int(average_period)

    def _after_inner_step(self, trainable_variables):
        step = self.inner_optimizer._iterations - 1
        since = step - self.start_averaging
        snapshots = ops.maximum(since // self.average_period, 0)
        take = ops.logical_and(since >= 0, ops.equal(ops.mod(since, self.average_period), 0))

        def average(var):
            avg = self.slot(self._average, var)
            # Read values explicitly: jnp.where refuses Keras variables.
            a, v = ops.convert_to_tensor(avg), ops.convert_to_tensor(var)
            n = ops.cast(snapshots, v.dtype)
            self.assign(avg, ops.where(take, (a * n + v) / (n + 1.0), a))

        for_each_variable(self, average, trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update(start_averaging=self.start_averaging, average_period=self.average_period)
        return config
