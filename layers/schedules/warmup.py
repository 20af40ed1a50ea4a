"""WarmUp: a linear (or polynomial) ramp in front of any schedule."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("schedules")
class WarmUp(keras.optimizers.schedules.LearningRateSchedule):
    """Ramp from ``initial_learning_rate`` to the wrapped schedule's value at ``warmup_steps``.

    During warm-up ``lr = initial + (after(warmup_steps) - initial) * (step / warmup_steps) ** power``;
    afterwards ``after(step)`` unchanged (not shifted by ``warmup_steps``, as BERT and Model
    Garden's ``LinearWarmup``).

    Args:
        after: the schedule to warm up into, or a constant float.
        warmup_steps: length of the ramp in steps.
        initial_learning_rate: value at step 0. Defaults to ``0.0``.
        power: shape of the ramp; ``1`` is linear. Defaults to ``1.0``.
        name: schedule name. Defaults to ``"WarmUp"``.

    Example:

    >>> import keras
    >>> from kerazoo.schedules import WarmUp
    >>> decay = keras.optimizers.schedules.ExponentialDecay(1.0, 10, 0.5)
    >>> schedule = WarmUp(decay, warmup_steps=10)
    >>> [round(float(schedule(s)), 3) for s in (0, 5, 10, 20)]
    [0.0, 0.25, 0.5, 0.25]
    """

    def __init__(self, after: Any, warmup_steps: int, initial_learning_rate: float = 0.0,
                 power: float = 1.0, name: str = "WarmUp"):
        super().__init__()
        if int(warmup_steps) < 1:
            raise ConfigError(f"warmup_steps must be >= 1. Received: warmup_steps={warmup_steps}")
        self.after = after
        self.warmup_steps = int(warmup_steps)
        self.initial_learning_rate = initial_learning_rate
        self.power = power
        self.name = name

    def _after(self, step):
        if callable(self.after):
            return ops.cast(self.after(step), "float32")
        return ops.cast(self.after, "float32")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        target = self._after(ops.cast(self.warmup_steps, "float32"))
        fraction = ops.power(ops.minimum(step / self.warmup_steps, 1.0), self.power)
        ramp = self.initial_learning_rate + (target - self.initial_learning_rate) * fraction
        return ops.where(step < self.warmup_steps, ramp, self._after(step))

    def get_config(self):
        after = self.after
        if isinstance(after, keras.optimizers.schedules.LearningRateSchedule):
            after = keras.optimizers.schedules.serialize(after)
        return {"after": after, "warmup_steps": self.warmup_steps,
                "initial_learning_rate": self.initial_learning_rate, "power": self.power,
                "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config["after"], dict):
            config["after"] = keras.optimizers.schedules.deserialize(config["after"])
        return cls(**config)
