"""Cyclical learning rates (Smith, 2017) with tfa's four schedules and arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from kerazoo.errors import ConfigError
from kerazoo.registry import register


@register("schedules", tfa="tfa.optimizers.CyclicalLearningRate")
class CyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate cycling between two bounds, its amplitude scaled by ``scale_fn``.

    ``cycle = floor(1 + step / (2 step_size))``, ``x = |step / step_size - 2 cycle + 1|`` and
    ``lr = initial + (maximal - initial) * max(0, 1 - x) * scale_fn(cycle or step)``, as
    ``tfa.optimizers.CyclicalLearningRate``.

    ``scale_fn`` must be serializable for the schedule (and any optimizer or model holding it) to
    save: decorate a named function with ``@keras.saving.register_keras_serializable()``. A lambda
    is stored as bytecode and only loads with ``safe_mode=False``. The subclasses fix ``scale_fn``
    and need nothing of the kind.

    Args:
        initial_learning_rate: lower bound of the cycle.
        maximal_learning_rate: upper bound of the cycle.
        step_size: steps in half a cycle.
        scale_fn: ``f(x) -> float`` scaling the amplitude.
        scale_mode: ``"cycle"`` (``x`` is the cycle number) or ``"iterations"`` (the step).
            Defaults to ``"cycle"``.
        name: schedule name. Defaults to ``"CyclicalLearningRate"``.

    Example:

    >>> from kerazoo.schedules import CyclicalLearningRate
    >>> schedule = CyclicalLearningRate(0.1, 1.0, step_size=10, scale_fn=lambda x: 1.0)
    >>> [round(float(schedule(s)), 3) for s in (0, 5, 10, 20)]
    [0.1, 0.55, 1.0, 0.1]

    Reference: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
    https://arxiv.org/abs/1506.01186
    """

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, scale_fn: Callable[[Any], Any], scale_mode: str = "cycle",
                 name: str = "CyclicalLearningRate"):
        super().__init__()
        if scale_mode not in ("cycle", "iterations"):
            raise ConfigError(
                f"scale_mode must be 'cycle' or 'iterations'. Received: scale_mode={scale_mode!r}"
            )
        if step_size <= 0:
            raise ConfigError(f"step_size must be > 0. Received: step_size={step_size}")
        self.initial_learning_rate = initial_learning_rate
        self.maximal_learning_rate = maximal_learning_rate
        self.step_size = step_size
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        step_size = ops.cast(self.step_size, "float32")
        cycle = ops.floor(1.0 + step / (2.0 * step_size))
        x = ops.abs(step / step_size - 2.0 * cycle + 1.0)
        mode_step = cycle if self.scale_mode == "cycle" else step
        initial = ops.cast(self.initial_learning_rate, "float32")
        amplitude = ops.cast(self.maximal_learning_rate, "float32") - initial
        scale = ops.cast(self.scale_fn(mode_step), "float32")
        return initial + amplitude * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_fn": keras.saving.serialize_keras_object(self.scale_fn),
            "scale_mode": self.scale_mode,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "scale_fn" in config:
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


class _FixedScaleCyclical(CyclicalLearningRate):
    """A cyclical schedule whose ``scale_fn`` is part of the class (nothing to serialize)."""

    def get_config(self):
        config = super().get_config()
        config.pop("scale_fn")
        config.pop("scale_mode")
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register("schedules", tfa="tfa.optimizers.TriangularCyclicalLearningRate")
class TriangularCyclicalLearningRate(_FixedScaleCyclical):
    """Triangular cycles of constant amplitude (tfa's ``TriangularCyclicalLearningRate``).

    Args:
        initial_learning_rate: lower bound of the cycle.
        maximal_learning_rate: upper bound of the cycle.
        step_size: steps in half a cycle.
        name: schedule name. Defaults to ``"TriangularCyclicalLearningRate"``.

    Example:

    >>> from kerazoo.schedules import TriangularCyclicalLearningRate
    >>> schedule = TriangularCyclicalLearningRate(0.1, 1.0, step_size=10)
    >>> [round(float(schedule(s)), 3) for s in (0, 10, 30)]
    [0.1, 1.0, 1.0]
    """

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, name: str = "TriangularCyclicalLearningRate"):
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size,
                         scale_fn=_constant_scale, scale_mode="cycle", name=name)


@register("schedules", tfa="tfa.optimizers.Triangular2CyclicalLearningRate")
class Triangular2CyclicalLearningRate(_FixedScaleCyclical):
    """Triangular cycles whose amplitude halves every cycle (tfa's ``Triangular2...``).

    Args:
        initial_learning_rate: lower bound of the cycle.
        maximal_learning_rate: upper bound of the first cycle.
        step_size: steps in half a cycle.
        name: schedule name. Defaults to ``"Triangular2CyclicalLearningRate"``.

    Example:

    >>> from kerazoo.schedules import Triangular2CyclicalLearningRate
    >>> schedule = Triangular2CyclicalLearningRate(0.0, 1.0, step_size=10)
    >>> [round(float(schedule(s)), 3) for s in (10, 30, 50)]
    [1.0, 0.5, 0.25]
    """

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, name: str = "Triangular2CyclicalLearningRate"):
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size,
                         scale_fn=_halving_scale, scale_mode="cycle", name=name)


@register("schedules", tfa="tfa.optimizers.ExponentialCyclicalLearningRate")
class ExponentialCyclicalLearningRate(_FixedScaleCyclical):
    """Triangular cycles whose amplitude decays as ``gamma ** step`` (tfa's ``Exponential...``).

    Args:
        initial_learning_rate: lower bound of the cycle.
        maximal_learning_rate: upper bound before decay.
        step_size: steps in half a cycle.
        scale_mode: ``"iterations"`` or ``"cycle"``. Defaults to ``"iterations"``.
        gamma: decay per step (or per cycle). Defaults to ``1.0``.
        name: schedule name. Defaults to ``"ExponentialCyclicalLearningRate"``.

    Example:

    >>> from kerazoo.schedules import ExponentialCyclicalLearningRate
    >>> schedule = ExponentialCyclicalLearningRate(0.0, 1.0, step_size=10, gamma=0.9)
    >>> round(float(schedule(10)), 4)
    0.3487
    """

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, scale_mode: str = "iterations", gamma: float = 1.0,
                 name: str = "ExponentialCyclicalLearningRate"):
        self.gamma = gamma
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size,
                         scale_fn=self._exponential_scale, scale_mode=scale_mode, name=name)

    def _exponential_scale(self, x):
        return ops.power(ops.cast(self.gamma, "float32"), x)

    def get_config(self):
        config = super().get_config()
        config.update(scale_mode=self.scale_mode, gamma=self.gamma)
        return config


def _constant_scale(x):
    return ops.ones_like(x)


def _halving_scale(x):
    return 1.0 / ops.power(2.0, x - 1.0)
