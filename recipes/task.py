"""The ``Task`` base class: what a recipe supplies to the shared runtime.

A task turns a config into data, a model, a loss and serving signatures; the trainer, evaluator,
exporter and CLI are shared and know nothing of any one task. A task's life:

1. ``check_config()`` — keys and values, before anything is read (``api.resolve_config`` runs it).
2. ``prepare_data() -> PreparedData`` — reads the source named by ``data.source`` through the
   task's ``sources`` table and validates it. Everything learned from the data (class names,
   vocabulary, normalization statistics, window geometry) is in the returned object; the task
   itself is never changed. Every data error is raised here, before the run directory is written.
3. ``build_inputs(data, split, ...)``, ``build_model(data)``, ``build_loss(data)`` — each takes
   the prepared data as an argument.
4. ``evaluate(model, data, split) -> report`` and ``predict(model, features) -> array`` speak
   arrays; ``predict_inputs(model, inputs, ...) -> records`` reads user files, and the CLI formats
   the records. ``headline_keys(report)`` and ``card_sections(data)`` name what the trainer prints
   and the model card holds.

Example:

>>> from kerazoo.recipes.api import get_task
>>> task = get_task("image_classification")
>>> sorted(task.sources)
['digits', 'folder', 'tfds']
>>> task.source_forms()
['digits', 'tfds:NAME', 'folder:PATH']
"""

from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from kerazoo.errors import ConfigError
from kerazoo.recipes.config import (
    DataConfig,
    ExperimentConfig,
    TrainConfig,
    all_keys,
    get_key,
    set_key,
)


@dataclass
class PreparedData:
    """A source read and validated: unbatched split datasets and what they hold.

    Args:
        splits: ``{"train"|"validation"|"test": tf.data.Dataset}`` of ``(features, label)``.
        sizes: examples per split.
        class_names: label names, index = class id (empty for regression tasks).
        feature_spec: shape and dtype of one example's features, e.g. ``((8, 8, 1), "uint8")``.
        info: what the model card and report quote (``source``, ``license``, ...).
    """

    splits: dict[str, Any]
    sizes: dict[str, int]
    class_names: list[str]
    feature_spec: tuple[tuple[int, ...], str]
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_arrays(cls, splits: dict[str, tuple[np.ndarray, np.ndarray]], class_names,
                    info: dict[str, Any] | None = None, **extra) -> PreparedData:
        """``{split: (features, int labels)}`` NumPy arrays as ``tf.data`` splits."""
        import tensorflow as tf

        features = splits["train"][0]
        return cls(
            splits={name: tf.data.Dataset.from_tensor_slices((x, np.asarray(y, np.int64)))
                    for name, (x, y) in splits.items()},
            sizes={name: len(y) for name, (_, y) in splits.items()},
            class_names=list(class_names),
            feature_spec=(tuple(int(d) for d in features.shape[1:]), str(features.dtype)),
            info=dict(info or {}), **extra)


@dataclass(frozen=True)
class Source:
    """One entry of a task's source table.

    Args:
        load: ``(task, where) -> data``: ``where`` is the text after ``scheme:`` (a name or a
            path), or the embedded data set's own name.
        description: one line for ``kerazoo train --help``.
        argument: ``NAME`` or ``PATH`` for a scheme (``tfds:NAME``); ``""`` for an embedded
            data set, which is named by its key alone.
    """

    load: Callable[[Any, str], Any]
    description: str
    argument: str = ""


#: Every key of the shared sections (``data``, ``model``, ``train``, ``runtime``).
SHARED_KEYS = frozenset(all_keys(ExperimentConfig())) - {"task"}


class Task:
    """Base class of recipes. Subclasses set ``name``, ``sources`` and the ``build_*`` hooks.

    Args:
        config: an ``ExperimentConfig`` from ``default_config()`` with overrides applied
            (``api.resolve_config`` validates it once, ``check_config`` included).
    """

    name: ClassVar[str] = ""
    #: ``{key: Source}``: an embedded data set's name, or a scheme (``tfds``, ``folder``, ``csv``).
    sources: ClassVar[dict[str, Source]] = {}
    #: Keys of the shared sections the task reads; keys of its own section subclasses are always
    #: read. A key outside both, set to anything but the task's default, is refused.
    uses: ClassVar[frozenset[str]] = SHARED_KEYS
    #: The metric the trainer tracks per step (``train_metric``) and prints per epoch.
    train_metric_name: ClassVar[str] = "accuracy"
    #: The ``evaluate`` report key printed first at the end of training and by ``evaluate``.
    headline_metric: ClassVar[str] = "accuracy"
    #: Named outputs of every serving signature (recorded in ``export.json``).
    output_names: ClassVar[tuple[str, ...]] = ()
    #: The task's own config sections (subclasses of the shared ones) and its default values.
    data_config: ClassVar[type] = DataConfig
    train_config: ClassVar[type] = TrainConfig
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: ExperimentConfig):
        self.config = config

    @classmethod
    def default_config(cls) -> ExperimentConfig:
        config = ExperimentConfig(task=cls.name, data=cls.data_config(),
                                  train=cls.train_config())
        for key, value in cls.defaults.items():
            set_key(config, key, copy.deepcopy(value))  # lists must not be shared by configs
        return config

    # ----- configuration -----
    @classmethod
    def source_forms(cls) -> list[str]:
        """``["digits", "tfds:NAME", ...]``: how ``data.source`` may be written."""
        return [f"{key}:{src.argument}" if src.argument else key for key, src in cls.sources.items()]

    @classmethod
    def used_keys(cls) -> frozenset[str]:
        defaults = cls.default_config()
        own = {key for key in all_keys(defaults) if key not in SHARED_KEYS}
        return frozenset(cls.uses) | own

    def check_config(self) -> None:
        """Refuse set keys the task ignores; check ``data.source`` and ``model.options``.

        Subclasses extend it with their own value checks (call ``super()``); it reads no data.
        """
        defaults = self.default_config()
        used = self.used_keys()
        for key in sorted(SHARED_KEYS - used):
            if get_key(self.config, key) != get_key(defaults, key):
                raise ConfigError(f"Config key '{key}' is not used by the {self.name} recipe; "
                                  "remove it.")
        self.source_entry()
        if self.config.model.options:
            check_model_options(self.zoo_model_name(), self.config.model.options)

    def source_entry(self) -> tuple[Source, str]:
        """The table entry ``data.source`` names, and its argument."""
        text = self.config.data.source
        scheme, colon, where = text.partition(":")
        if colon and scheme in self.sources and self.sources[scheme].argument and where:
            return self.sources[scheme], where
        if not colon and text in self.sources and not self.sources[text].argument:
            return self.sources[text], text
        raise ConfigError(f"Config key 'data.source': {text!r} is not a source of {self.name}; "
                          f"use {', '.join(self.source_forms())}.")

    def read_source(self) -> Any:
        source, where = self.source_entry()
        return source.load(self, where)

    def zoo_model_name(self) -> str:
        """The registered zoo model ``model.name`` means (tasks may accept aliases)."""
        return self.config.model.name

    def tfds_options(self) -> dict[str, Any]:
        """The ``data`` keys every ``tfds:NAME`` loader takes."""
        data = self.config.data
        return {"data_dir": data.data_dir, "download": data.download,
                "validation_fraction": data.validation_fraction}

    def zoo_options(self) -> dict[str, Any]:
        """Builder keywords from ``model.options`` (already checked by ``check_config``)."""
        return dict(self.config.model.options or {})

    # ----- hooks -----
    def prepare_data(self) -> PreparedData:
        raise NotImplementedError

    def build_inputs(
        self, data: PreparedData, split: str, input_context=None, *, per_replica_batch: int,
        training: bool, epoch: int = 0, epochs: int = 1, skip_global_steps: int = 0,
        take_global_steps: int | None = None, deterministic: bool = True,
    ):
        """Per-replica batches of ``split`` through :func:`~kerazoo.recipes.data.make_pipeline`,
        with ``example_augment(data)`` on training examples. Tasks override it only when their
        pipeline differs (batch-level augmentation, windows cut from series)."""
        from kerazoo.recipes.data import make_pipeline

        cfg = self.config.data
        return make_pipeline(
            data.splits[split], per_replica_batch=per_replica_batch, training=training,
            seed=cfg.seed, epoch=epoch, epochs=epochs, input_context=input_context,
            skip_global_steps=skip_global_steps, take_global_steps=take_global_steps,
            shuffle_buffer=cfg.shuffle_buffer, cache=cfg.cache,
            augment=self.example_augment(data) if training else None,
            deterministic=deterministic,
        )

    def example_augment(self, data: PreparedData):
        """``(features, label, seed[2]) -> (features, label)`` for training examples, built from
        stateless random ops, or ``None`` (the default) for no augmentation."""
        return None

    def build_model(self, data: PreparedData):
        raise NotImplementedError

    def build_loss(self, data: PreparedData):
        """A callable ``(labels, outputs) -> per-example loss`` (no reduction)."""
        raise NotImplementedError

    def train_metric(self, labels, outputs):
        """Sum over the batch of the per-example ``train_metric_name`` (a TF scalar); the
        trainer divides by the number of examples."""
        raise NotImplementedError

    def inner_model(self, model):
        """The zoo model inside the recipe model (the part ``--freeze-backbone`` acts on)."""
        import keras

        return next(layer for layer in model.layers if isinstance(layer, keras.Model))

    def load_init_model(self):
        """The trained model that ``model.init`` names (``preset:NAME`` or ``run:DIR``); of an
        ensemble a run exported (``train.ensemble_baseline``), its configured model."""
        import keras

        from kerazoo.zoo.ensemble import ensemble_members

        spec = self.config.model.init
        kind, _, where = (spec or "").partition(":")
        if kind == "preset":
            from kerazoo import zoo

            model = zoo.from_preset(where)
            return (ensemble_members(model) or [model])[0]
        if kind == "run":
            from pathlib import Path

            import kerazoo.layers  # noqa: F401  (registers kerazoo layers for loading)

            path = Path(where) / "model.keras"
            if not path.is_file():
                raise ConfigError(f"Config key 'model.init': no trained model at {path}.")
            model = keras.saving.load_model(path, compile=False)
            return (ensemble_members(model) or [model])[0]
        raise ConfigError(
            f"Config key 'model.init' must be preset:NAME or run:DIR. Received: {spec!r}"
        )

    def init_base_model(self, trained=None):
        """The zoo model (``backbone`` + ``head``) inside the ``model.init`` model: a zoo preset
        is one itself; a run or a recipe preset wraps it in the task's preprocessing."""
        trained = trained if trained is not None else self.load_init_model()
        names = {layer.name for layer in trained.layers}
        if "backbone" in names:
            return trained
        import keras

        inner = [layer for layer in trained.layers if isinstance(layer, keras.Model)]
        if not inner:
            # e.g. a run that exported its TF-IDF baseline (train.prefer_baseline): no backbone.
            raise ConfigError(
                f"Config key 'model.init': {self.config.model.init} holds {trained.name}, which "
                "has no zoo backbone to fine-tune (a baseline a run exported instead of its "
                "model, or a model kerazoo did not build). Start from a zoo preset or a run "
                "that exported its configured model, or leave model.init unset.")
        return inner[0]

    def predict(self, model, features) -> np.ndarray:
        """The model's outputs for ``features`` as a NumPy array, in batches.

        A plain call, not ``model.predict``: predict would run under the training strategy,
        whose collectives need every worker, and only the chief evaluates.
        """
        import keras

        outputs = [keras.ops.convert_to_numpy(self.outputs_of(model, features[i : i + 256]))
                   for i in range(0, len(features), 256)]
        return np.concatenate(outputs) if outputs else np.zeros((0,), "float32")

    def outputs_of(self, model, batch):
        """What ``predict`` returns for one batch (classifiers: probabilities)."""
        import keras

        return keras.ops.cast(model(np.asarray(batch, "float32"), training=False), "float32")

    def evaluate(self, model, data: PreparedData, split: str = "test",
                 run_dir=None) -> dict[str, Any]:
        """``{metric: value}`` on ``split``; plots go to ``run_dir`` when given."""
        raise NotImplementedError

    def predict_inputs(self, model, inputs: list[str], *, csv: str | None = None,
                       class_names: list[str] = ()) -> list[dict[str, Any]]:
        """Records for ``kerazoo predict`` (the CLI formats them); raise ``DataError`` naming a
        bad input."""
        raise ConfigError(f"kerazoo predict is not available for {self.name}.")

    def serving_signatures(self, model, class_names: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    # ----- what shared code prints -----
    def headline_keys(self, report: dict[str, Any]) -> list[str]:
        """Report keys printed after training and by ``kerazoo evaluate``, headline first."""
        return [self.headline_metric]

    def input_description(self, data: PreparedData) -> str:
        """One sentence for the model card: what the exported SavedModel takes."""
        shape, dtype = data.feature_spec
        return f"{shape} {dtype}"

    def card_sections(self, data: PreparedData) -> dict[str, str]:
        """``{"labels": ..., "details": ...}``: the model card's task-specific lines."""
        return {"labels": "", "details": ""}


def check_model_options(model_name: str, options: dict[str, Any]) -> None:
    """Refuse ``model.options`` keys the zoo builder does not take, naming the closest one."""
    from kerazoo.registry import registry

    try:
        builder = registry("models").get(model_name).obj
    except Exception:  # an unknown model is reported by the model build itself
        return
    params = inspect.signature(getattr(builder, "family_builder", builder)).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    # What the recipe sets itself (model.dropout is its own key).
    fixed = {"input_shape", "num_classes", "include_top", "name", "dropout"}
    valid = [name for name in params if name not in fixed]
    for key in options:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (it takes {', '.join(valid)})"
            raise ConfigError(f"Config key 'model.options.{key}': {model_name} has no "
                              f"option {key!r}{hint}")

