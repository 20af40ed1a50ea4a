"""Experiment configuration: typed dataclasses, a YAML file and ``--set a.b=c`` overrides.

A config has four sections, ``data``, ``model``, ``train`` and ``runtime``. A task may extend a
section with its own fields by subclassing it (text: ``text_column``; series: ``lookback``), and
supplies its defaults with :meth:`kerazoo.recipes.task.Task.default_config`. Every key read from a
file or an override is checked against the dataclass: an unknown key names the closest valid one,
a value of the wrong type names the expected type.

Example:

>>> from kerazoo.recipes.config import ExperimentConfig, apply_overrides
>>> config = apply_overrides(ExperimentConfig(task="demo"), ["train.epochs=3", "data.source=digits"])
>>> config.train.epochs, config.data.source
(3, 'digits')
>>> apply_overrides(config, ["train.epoch=3"])
Traceback (most recent call last):
...
kerazoo.errors.ConfigError: Unknown config key 'train.epoch' (did you mean 'train.epochs'?)
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kerazoo.errors import ConfigError

STRATEGIES = ("auto", "cpu", "one_device", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
ON_NONFINITE = ("stop", "skip_batch")


@dataclass
class DataConfig:
    """Where examples come from and how the input pipeline treats them.

    Args:
        source: ``digits`` (embedded), ``tfds:NAME`` or ``folder:PATH`` (tasks add others).
        data_dir: TFDS data directory. Defaults to ``None`` (TFDS's default).
        download: let TFDS download a missing dataset. Defaults to ``False`` (fail at once).
        validation_fraction: part of ``train`` held out when a source has no validation split.
        test_fraction: part held out for testing when a source has no test split (folders).
        shuffle_buffer: examples in the shuffle buffer.
        cache: cache decoded examples in memory (small datasets).
        augment: augmentation names, applied to training batches (the task lists them).
        seed: seed of shuffling, splitting and augmentation.
    """

    source: str = "digits"
    data_dir: str | None = None
    download: bool = False
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    shuffle_buffer: int = 10_000
    cache: bool = True
    augment: list[str] = field(default_factory=list)
    seed: int = 0


@dataclass
class ModelConfig:
    """Which zoo model, and how to initialise it.

    Args:
        name: a registered zoo model (``kerazoo list models``).
        init: ``preset:NAME`` or ``run:DIR`` to start from trained weights; the head is kept
            when the data's label set equals the init model's, else a new head is put on.
        weights: pretrained weights of the zoo backbone, e.g. ``imagenet`` (Keras's published
            ImageNet weights, for models whose ``zoo.model_config(name)["weights"]`` lists them); the preprocessing
            those weights were trained with is built into the model. Only tasks that declare it
            in ``uses`` read it (image classification). Defaults to ``None`` (random init).
        dropout: dropout before the classifier. Defaults to ``None`` (the model's own).
        freeze_backbone: train the head only (first fine-tuning phase). Defaults to ``None``:
            ``True`` with ``weights`` (and ``train.unfreeze_epoch`` then defaults to a fifth of
            the epochs, at least 1: frozen-then-unfrozen fine-tuning), else ``False``.
        batchnorm_momentum: momentum of every BatchNormalization layer's moving statistics.
            Defaults to ``None`` (the model's own, Keras's 0.99). Rarely needed: the trainer
            recomputes the statistics with the current weights (``train.precise_bn_batches``).
        options: extra keywords of the zoo builder (``drop_path_rate``, widths, ...), checked
            against its signature (``kerazoo info MODEL`` lists them). Defaults to ``{}``.
    """

    name: str = "simple_cnn"
    init: str | None = None
    weights: str | None = None
    dropout: float | None = None
    freeze_backbone: bool | None = None
    batchnorm_momentum: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainConfig:
    """Optimisation.

    Args:
        epochs: passes over the training split.
        batch_size: examples per replica; the global batch is this times the replicas.
        optimizer: a Keras or kerazoo optimizer name (``adam``, ``adamw``, ``sgd``, ...).
        learning_rate: peak learning rate (for the global batch, unless ``scale_learning_rate``).
        schedule: ``constant`` or ``cosine`` (with ``warmup_steps``), or a registered schedule.
        warmup_steps: linear warm-up steps of the cosine schedule.
        weight_decay: decoupled weight decay passed to optimizers that take it.
        loss: a Keras or kerazoo loss name.
        label_smoothing: label smoothing for cross-entropy losses.
        class_weight: ``None`` or ``"balanced"`` (weight each example by
            ``N / (K * count of its class)`` in the training split, as scikit-learn does).
        scale_learning_rate: multiply ``learning_rate`` by ``global_batch / 256`` (Goyal et al.).
        unfreeze_epoch: two-phase fine-tuning: with a frozen backbone, unfreeze it at this epoch.
        unfreeze_learning_rate_factor: learning-rate factor after unfreezing.
        checkpoint_seconds: save a checkpoint at the first epoch end at least this many
            seconds after the last one, and always at the end of training (a crash loses at
            most about this much training). ``0``: at every epoch end. Defaults to 60.
        checkpoint_every: also save every this many steps (within epochs). Defaults to
            ``None`` (time-based only; a checkpoint per epoch cost ~0.3 s on a 1-s epoch).
        steps_per_epoch: cap steps per epoch. Defaults to ``None`` (the whole split).
        precise_bn_batches: after each epoch's steps, before validation (so also before the
            final evaluation and export), set every BatchNormalization layer's moving statistics
            to their average over this many fixed training batches with the current weights
            ("precise BN"). Moving averages lag the weights: 2 epochs of digits trained to 0.91
            tested at 0.156 without it. On a short epoch at most a quarter of its steps are used
            (at least 4), so the extra forward passes cost ~1/12 of an epoch. ``0`` turns it
            off. Defaults to 16.
        early_stopping_patience: stop after this many epochs without a lower validation loss
            and restore the weights of the best epoch (kept in the checkpoint, so a crash does
            not lose them); ``epochs`` is then a maximum. Defaults to ``None`` (off; recipes
            set their own).
        early_stopping_start_epoch: the first this many epochs are neither candidates for the
            best epoch nor counted towards the patience (Keras's ``start_from_epoch``): with a
            decaying learning rate the early, high-rate epochs are far from converged, and on a
            small validation split one of them can have the lowest loss by luck. Defaults to 0.
        early_stopping_restore: ``best`` (default): the best epoch's weights are restored at the
            end; ``on_stop`` (Keras's rule): only when the patience ran out, so a run that
            reaches ``epochs`` keeps its last weights (under a schedule decaying to zero, the
            converged ones).
        on_nonfinite: what a training step whose loss or any gradient is NaN or infinite does.
            ``stop`` (default): training stops with one line naming the step and the last
            finite loss; nothing is evaluated, exported or published, and re-running with a
            lower ``learning_rate`` resumes from the last finite checkpoint. ``skip_batch``:
            the step applies no update (every replica agrees; the optimizer's step count and
            state do not move), the skipped batches are counted per epoch in ``metrics.csv``
            (``skipped_batches``) and in ``evaluation.json``; an epoch whose every step is
            skipped stops training as ``stop`` does.
    """

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "cosine"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    loss: str = "sparse_categorical_crossentropy"
    label_smoothing: float = 0.0
    class_weight: str | None = None
    scale_learning_rate: bool = False
    unfreeze_epoch: int | None = None
    unfreeze_learning_rate_factor: float = 0.1
    checkpoint_seconds: float = 60.0
    checkpoint_every: int | None = None
    steps_per_epoch: int | None = None
    precise_bn_batches: int = 16
    early_stopping_patience: int | None = None
    early_stopping_start_epoch: int = 0
    early_stopping_restore: str = "best"
    on_nonfinite: str = "stop"


@dataclass
class RuntimeConfig:
    """Devices, numerics and reproducibility.

    Args:
        strategy: one of ``auto``, ``cpu``, ``one_device``, ``mirrored``, ``multi_worker``,
            ``tpu``.
        tpu: TPU address or name for ``tpu`` (and ``auto``).
        precision: ``auto`` (fp16 on GPU, bf16 on TPU, fp32 on CPU), ``float32``,
            ``mixed_float16`` or ``mixed_bfloat16``.
        jit_compile: XLA-compile the training step. Defaults to ``None`` (on for GPU/TPU).
        deterministic: op determinism (bitwise-reproducible runs and resumes; slower on GPU).
        seed: seed of weight initialisation.
    """

    strategy: str = "auto"
    tpu: str | None = None
    precision: str = "auto"
    jit_compile: bool | None = None
    deterministic: bool = True
    seed: int = 0


@dataclass
class ExperimentConfig:
    """A whole experiment: the task name and its four sections."""

    task: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain nested dicts (what ``config.yaml`` holds)."""
    return dataclasses.asdict(config)


def to_yaml(config: Any) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError:
                continue
        raise _type_error(key, value, annotation)
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        if isinstance(value, str):
            value = [part for part in value.split(",") if part] if value else []
        if not isinstance(value, (list, tuple)):
            raise _type_error(key, value, annotation)
        return [_coerce(item, item_type, key) for item in value]
    if origin is dict:
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return dict(value)
        raise _type_error(key, value, annotation)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(key, value, annotation)
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _type_error(key, value, annotation)
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        # YAML 1.1 (PyYAML) reads "3e-3" as a string: it wants "3.0e-3". Accept what users type.
        if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
            return float(value)
        raise _type_error(key, value, annotation)
    if annotation is str:
        if isinstance(value, str):
            return value
        raise _type_error(key, value, annotation)
    return value


_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _type_error(key: str, value: Any, annotation: Any) -> ConfigError:
    return ConfigError(
        f"Config key '{key}' expects {_type_name(annotation)}. Received: {value!r} "
        f"({type(value).__name__})"
    )


def _unknown(key: str, valid: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (valid keys: {', '.join(valid)})"
    return ConfigError(f"Unknown config key '{key}'{hint}")


def all_keys(config: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a config (``["task", "data.source", ...]``); mappings are one key."""
    keys = []
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        if dataclasses.is_dataclass(value):
            keys.extend(all_keys(value, f"{prefix}{item.name}."))
        else:
            keys.append(f"{prefix}{item.name}")
    return keys


def get_key(config: Any, key: str) -> Any:
    """The value of a dotted key (``get_key(config, "train.epochs")``)."""
    for part in key.split("."):
        config = getattr(config, part)
    return config


def set_key(config: Any, key: str, value: Any) -> None:
    """Set a dotted key in place (``set_key(config, "train.epochs", 3)``); for task defaults."""
    *parents, last = key.split(".")
    for part in parents:
        config = getattr(config, part)
    if not hasattr(config, last):
        raise ConfigError(f"Unknown config key '{key}'")
    setattr(config, last, value)


def merge(config: Any, updates: dict[str, Any], prefix: str = "", root: Any = None) -> Any:
    """A copy of ``config`` with nested ``updates`` applied, every key and type checked."""
    root = config if root is None else root
    if not isinstance(updates, dict):
        raise ConfigError(f"Config section '{prefix.rstrip('.') or '<root>'}' must be a mapping.")
    hints = typing.get_type_hints(type(config))
    names = {item.name for item in dataclasses.fields(config)}
    changes = {}
    for name, value in updates.items():
        key = f"{prefix}{name}"
        if name not in names:
            raise _unknown(key, all_keys(root))
        current = getattr(config, name)
        if dataclasses.is_dataclass(current):
            changes[name] = merge(current, value, f"{key}.", root)
        elif isinstance(current, dict) and isinstance(value, dict):
            # model.options from a file and from --set combine, key by key.
            changes[name] = {**current, **_coerce(value, hints[name], key)}
        else:
            changes[name] = _coerce(value, hints[name], key)
    return dataclasses.replace(config, **changes)


def parse_override(text: str) -> dict[str, Any]:
    """``"a.b=c"`` -> ``{"a": {"b": c}}`` with ``c`` read as YAML (``3``, ``true``, ``[1, 2]``)."""
    if "=" not in text:
        raise ConfigError(f"An override must look like key=value. Received: {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    nested: dict[str, Any] = {}
    cursor = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return nested


def apply_overrides(config: Any, overrides: list[str]) -> Any:
    """Apply ``key=value`` overrides in order."""
    for text in overrides:
        config = merge(config, parse_override(text))
    return config


def load_yaml(config: Any, path: str | Path) -> Any:
    """``config`` updated from a YAML file (the ``task`` key, if present, must match)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"Config file not found: {path}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{_yaml_where(path, error)}: not valid YAML "
                          f"({getattr(error, 'problem', None) or str(error).splitlines()[0]})"
                          ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level.")
    task = data.get("task")
    if task and config.task and task != config.task:
        raise ConfigError(f"{path}: task is '{task}' but the command trains '{config.task}'.")
    try:
        return merge(config, data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def _yaml_where(path: Path, error: Exception) -> str:
    """``path:line:column`` of a YAML error (1-based, as editors count), or just ``path``."""
    mark = getattr(error, "problem_mark", None)
    return f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)


def validate(config: ExperimentConfig) -> None:
    """Value checks that types alone cannot express."""
    if config.runtime.strategy not in STRATEGIES:
        raise _choice("runtime.strategy", config.runtime.strategy, STRATEGIES)
    if config.runtime.precision not in PRECISIONS:
        raise _choice("runtime.precision", config.runtime.precision, PRECISIONS)
    for key, value in (("train.epochs", config.train.epochs),
                       ("train.batch_size", config.train.batch_size),
                       ("train.checkpoint_every", 1 if config.train.checkpoint_every is None
                        else config.train.checkpoint_every)):
        if value < 1:
            raise ConfigError(f"Config key '{key}' must be >= 1. Received: {value}")
    patience = config.train.early_stopping_patience
    if patience is not None and patience < 1:
        raise ConfigError("Config key 'train.early_stopping_patience' must be >= 1 or null "
                          f"(off). Received: {patience}")
    if config.train.early_stopping_restore not in ("best", "on_stop"):
        raise ConfigError("Config key 'train.early_stopping_restore' must be 'best' or "
                          f"'on_stop'. Received: {config.train.early_stopping_restore!r}")
    if config.train.early_stopping_start_epoch < 0:
        raise ConfigError("Config key 'train.early_stopping_start_epoch' must be >= 0. "
                          f"Received: {config.train.early_stopping_start_epoch}")
    if config.train.checkpoint_seconds < 0:
        raise ConfigError("Config key 'train.checkpoint_seconds' must be >= 0. Received: "
                          f"{config.train.checkpoint_seconds}")
    if config.train.precise_bn_batches < 0:
        raise ConfigError("Config key 'train.precise_bn_batches' must be >= 0 (0 = off). "
                          f"Received: {config.train.precise_bn_batches}")
    if config.train.on_nonfinite not in ON_NONFINITE:
        raise _choice("train.on_nonfinite", config.train.on_nonfinite, ON_NONFINITE)
    if config.train.class_weight not in (None, "balanced"):
        raise _choice("train.class_weight", config.train.class_weight, ("balanced",))
    if not 0 <= config.data.validation_fraction < 1 or not 0 <= config.data.test_fraction < 1:
        raise ConfigError("data.validation_fraction and data.test_fraction must be in [0, 1).")


def _choice(key: str, value: str, choices: tuple[str, ...]) -> ConfigError:
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"Config key '{key}' must be one of {', '.join(choices)}. "
                       f"Received: {value!r}{hint}")
