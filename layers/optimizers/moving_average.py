"""MovingAverage: an exponential moving average of the weights kept beside any optimizer."""

from __future__ import annotations

from typing import Any

from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.optimizers._averaging import AveragedOptimizerWrapper
from kerazoo.optimizers._wrapper import for_each_variable
from kerazoo.registry import register


@register("optimizers", tfa="tfa.optimizers.MovingAverage")
class MovingAverage(AveragedOptimizerWrapper):
    """Keeps an exponential moving average (EMA) of the weights that ``optimizer`` trains.

    After each update ``average -= (average - var) * (1 - decay)``. The averages start at the
    initial weights. Swap them in for evaluation with :meth:`swap_weights` or copy them with
    :meth:`assign_average_vars`; :func:`recompute_batch_norm_statistics` refreshes BatchNorm
    statistics afterwards. Arguments and update follow ``tfa.optimizers.MovingAverage``.
    Keras's ``use_ema=True`` is the built-in alternative; it differs in that its average starts at
    the first updated weights and it can overwrite the model weights periodically.

    Args:
        optimizer: the inner optimizer (instance, name or config).
        average_decay: decay of the average. Defaults to ``0.99``.
        num_updates: if set, caps the decay at ``(1 + num_updates) / (10 + num_updates)``.
            Defaults to ``None``.
        start_step: updates before this step copy the weights (decay 0). Defaults to ``0``.
        dynamic_decay: cap the decay at ``(1 + n) / (10 + n)``, ``n`` steps after ``start_step``.
            Defaults to ``False``.
        name: optimizer name. Defaults to ``"MovingAverage"``.
        **kwargs: base optimizer arguments.

    Example:

    >>> import keras, numpy as np
    >>> from kerazoo.optimizers import MovingAverage
    >>> var = keras.Variable(np.zeros(1, "float32"))
    >>> opt = MovingAverage(keras.optimizers.SGD(1.0), average_decay=0.5)
    >>> opt.apply([-keras.ops.ones(1)], [var])
    >>> float(var.numpy()[0]), float(opt.average_variables[0].numpy()[0])
    (1.0, 0.5)

    Reference: Polyak & Juditsky, "Acceleration of stochastic approximation by averaging", 1992.
    """

    _average_starts_at_weights = True

    def __init__(self, optimizer: Any, average_decay: float = 0.99, num_updates: int | None = None,
                 start_step: int = 0, dynamic_decay: bool = False, name: str = "MovingAverage",
                 **kwargs: Any):
        super().__init__(optimizer, name=name, **kwargs)
        if not 0.0 <= float(average_decay) <= 1.0:
            raise ConfigError(
                f"average_decay must be in [0, 1]. Received: average_decay={average_decay}"
            )
        self.average_decay = float(average_decay)
        self.num_updates = None if num_updates is None else int(num_updates)
        self.start_step = int(start_step)
        self.dynamic_decay = bool(dynamic_decay)

    def _decay(self, step):
        decay = self.average_decay
        if self.num_updates is not None:
            decay = min(decay, (1.0 + self.num_updates) / (10.0 + self.num_updates))
        step = ops.cast(step, "float32")
        decay = ops.convert_to_tensor(decay, "float32")
        if self.dynamic_decay:
            count = step - self.start_step
            decay = ops.minimum(decay, (1.0 + count) / (10.0 + count))
        return ops.where(step < self.start_step, ops.zeros_like(decay), decay)

    def _after_inner_step(self, trainable_variables):
        decay = self._decay(self.inner_optimizer._iterations - 1)

        def average(var):
            avg = self.slot(self._average, var)
            self.assign_sub(avg, (avg - var) * (1.0 - ops.cast(decay, var.dtype)))

        for_each_variable(self, average, trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update(average_decay=self.average_decay, num_updates=self.num_updates,
                      start_step=self.start_step, dynamic_decay=self.dynamic_decay)
        return config
