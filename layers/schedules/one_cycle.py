"""OneCycle: warm up to a peak learning rate, then anneal far below the start."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("schedules")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The 1cycle policy: ``max / div_factor`` up to ``max`` then down to ``start / final_div_factor``.

    The rise takes ``pct_start`` of ``total_steps``; both phases anneal with a half cosine
    (``anneal_strategy="cos"``) or linearly. With ``three_phase=True`` the second phase returns
    to the start value symmetrically and a third anneals to the minimum. Steps past
    ``total_steps`` keep the final value. Matches PyTorch's ``OneCycleLR`` learning rate (momentum
    cycling is not part of a Keras schedule).

    Args:
        max_learning_rate: the peak.
        total_steps: length of the policy in optimizer steps.
        pct_start: share of steps spent rising. Defaults to ``0.3``.
        div_factor: start value is ``max_learning_rate / div_factor``. Defaults to ``25.0``.
        final_div_factor: end value is ``start / final_div_factor``. Defaults to ``1e4``.
        anneal_strategy: ``"cos"`` or ``"linear"``. Defaults to ``"cos"``.
        three_phase: use the three-phase variant. Defaults to ``False``.
        name: schedule name. Defaults to ``"OneCycle"``.

    Example:

    >>> from kerazoo.schedules import OneCycle
    >>> schedule = OneCycle(1.0, total_steps=100, pct_start=0.5, div_factor=10.0)
    >>> [round(float(schedule(s)), 4) for s in (0, 49, 99)]
    [0.1, 1.0, 0.0]

    Reference: Smith & Topin, "Super-Convergence", 2017, https://arxiv.org/abs/1708.07120
    """

    def __init__(self, max_learning_rate: float, total_steps: int, pct_start: float = 0.3,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 anneal_strategy: str = "cos", three_phase: bool = False,
                 name: str = "OneCycle"):
        super().__init__()
        if int(total_steps) < 2:
            raise ConfigError(f"total_steps must be >= 2. Received: total_steps={total_steps}")
        if not 0.0 < pct_start < 1.0:
            raise ConfigError(f"pct_start must be in (0, 1). Received: pct_start={pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ConfigError(
                f"anneal_strategy must be 'cos' or 'linear'. Received: {anneal_strategy!r}"
            )
        self.max_learning_rate = max_learning_rate
        self.total_steps = int(total_steps)
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.anneal_strategy = anneal_strategy
        self.three_phase = three_phase
        self.name = name

    def _phases(self):
        start = self.max_learning_rate / self.div_factor
        low = start / self.final_div_factor
        rise_end = float(self.pct_start * self.total_steps) - 1.0
        last = float(self.total_steps - 1)
        if self.three_phase:
            return [(rise_end, start, self.max_learning_rate),
                    (2.0 * rise_end, self.max_learning_rate, start), (last, start, low)]
        return [(rise_end, start, self.max_learning_rate), (last, self.max_learning_rate, low)]

    def _anneal(self, begin, end, fraction):
        if self.anneal_strategy == "cos":
            return end + (begin - end) / 2.0 * (1.0 + ops.cos(math.pi * fraction))
        return begin + (end - begin) * fraction

    def __call__(self, step):
        step = ops.minimum(ops.cast(step, "float32"), float(self.total_steps - 1))
        phase_start = 0.0
        result = None
        for phase_end, begin, end in self._phases():
            fraction = ops.clip((step - phase_start) / max(phase_end - phase_start, 1e-12),
                                0.0, 1.0)
            value = self._anneal(begin, end, fraction)
            result = value if result is None else ops.where(step > phase_start, value, result)
            phase_start = phase_end
        return result

    def get_config(self):
        return {
            "max_learning_rate": self.max_learning_rate, "total_steps": self.total_steps,
            "pct_start": self.pct_start, "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor, "anneal_strategy": self.anneal_strategy,
            "three_phase": self.three_phase, "name": self.name,
        }
