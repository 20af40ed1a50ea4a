"""The optimizer a run trains with: Keras or kerazoo names, the learning-rate schedule (constant,
cosine with warm-up, or a registered one) and the two-phase factor of frozen-then-unfrozen
fine-tuning.
"""

from __future__ import annotations

from typing import Any

from kerazoo import compat
from kerazoo.errors import ConfigError, KerazooError
from kerazoo.recipes import config as config_lib


def resolve_named(kind: str, name: str):
    """A Keras or kerazoo object by name: ``kind`` is ``optimizers``, ``losses`` or ``schedules``."""
    import keras

    from kerazoo.registry import registry

    getter = {"optimizers": keras.optimizers.get, "losses": keras.losses.get}.get(kind)
    if getter is not None:
        try:
            found = getter(name)
            return type(found) if kind == "optimizers" else found
        except (ValueError, TypeError):
            pass
    try:
        return registry(kind).get(name).obj
    except KerazooError as error:
        key = {"optimizers": "optimizer", "losses": "loss", "schedules": "schedule"}[kind]
        raise ConfigError(f"Config key 'train.{key}': {error}") from None


def build_optimizer(train: config_lib.TrainConfig, *, total_steps: int, unfreeze_step: int | None,
                    lr_scale: float = 1.0):
    import inspect

    import keras

    peak = train.learning_rate * lr_scale
    if train.schedule == "constant":
        schedule: Any = peak
    elif train.schedule == "cosine":
        warmup = min(train.warmup_steps, max(total_steps - 1, 0))
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else peak, decay_steps=max(total_steps - warmup, 1),
            warmup_target=peak if warmup else None, warmup_steps=warmup,
        )
    else:
        schedule_class = resolve_named("schedules", train.schedule)
        schedule = schedule_class(peak, max(total_steps, 1))
    if unfreeze_step is not None:
        schedule = _PhaseSchedule(schedule, unfreeze_step, train.unfreeze_learning_rate_factor)
    optimizer_class = resolve_named("optimizers", train.optimizer)
    kwargs: dict[str, Any] = {"learning_rate": schedule}
    if train.weight_decay and "weight_decay" in inspect.signature(optimizer_class).parameters:
        kwargs["weight_decay"] = train.weight_decay
    return optimizer_class(**kwargs)


def _phase_schedule_class():
    import keras

    class PhaseSchedule(keras.optimizers.schedules.LearningRateSchedule):
        """``base(step)``, times ``factor`` from ``boundary`` on (the unfrozen phase)."""

        def __init__(self, base, boundary, factor):
            self.base, self.boundary, self.factor = base, boundary, factor

        def __call__(self, step):
            rate = self.base(step) if callable(self.base) else self.base
            rate = keras.ops.convert_to_tensor(rate, "float32")
            return keras.ops.where(step >= self.boundary, rate * self.factor, rate)

        def get_config(self):
            return {"boundary": self.boundary, "factor": self.factor}

    return PhaseSchedule


def _PhaseSchedule(base, boundary, factor):  # noqa: N802  (built lazily: keras import)
    return _phase_schedule_class()(base, boundary, factor)


def set_batchnorm_momentum(model, momentum: float) -> int:
    """Set the moving-statistics momentum of every BatchNormalization layer; returns how many."""
    import keras

    layers = [layer for layer in compat.flatten_layers(model)
              if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.momentum = float(momentum)
    return len(layers)


def current_lr(optimizer, step: int) -> float:
    """The rate the last of ``step`` steps used (``optimizer.learning_rate`` is the next one's:
    at a two-phase boundary it would report the unfrozen rate for the frozen epoch)."""
    schedule = getattr(getattr(optimizer, "inner_optimizer", optimizer), "_learning_rate", None)
    if callable(schedule):
        return float(schedule(max(step - 1, 0)))
    rate = optimizer.learning_rate
    return float(rate.numpy() if hasattr(rate, "numpy") else rate)
