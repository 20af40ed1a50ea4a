"""InverseSquareRootWarmup: the Transformer schedule, linear warm-up then ``1 / sqrt(step)``."""

from __future__ import annotations

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("schedules")
class InverseSquareRootWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """``lr = peak * min(s / warmup_steps, sqrt(warmup_steps / s))`` with ``s = step + 1``.

    Rises linearly to ``peak_learning_rate`` at ``warmup_steps`` and then decays with the inverse
    square root of the step ("Attention Is All You Need", fairseq's ``inverse_sqrt``). Counting
    from ``s = step + 1`` gives a non-zero rate on Keras's first step (``iterations == 0``).

    Args:
        peak_learning_rate: value at the end of warm-up.
        warmup_steps: warm-up length in steps.
        name: schedule name. Defaults to ``"InverseSquareRootWarmup"``.

    Example:

    >>> from kerazoo.schedules import InverseSquareRootWarmup
    >>> schedule = InverseSquareRootWarmup(1.0, warmup_steps=4)
    >>> [round(float(schedule(s)), 3) for s in (0, 3, 15)]
    [0.25, 1.0, 0.5]

    Reference: Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762
    """

    def __init__(self, peak_learning_rate: float, warmup_steps: int,
                 name: str = "InverseSquareRootWarmup"):
        super().__init__()
        if int(warmup_steps) < 1:
            raise ConfigError(f"warmup_steps must be >= 1. Received: warmup_steps={warmup_steps}")
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = int(warmup_steps)
        self.name = name

    def __call__(self, step):
        s = ops.cast(step, "float32") + 1.0
        warmup = float(self.warmup_steps)
        return self.peak_learning_rate * ops.minimum(s / warmup, ops.sqrt(warmup / s))

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps,
                "name": self.name}
