"""The ``Task`` base class: what a recipe supplies to the shared runtime.

A task turns a config into data, a model, a loss and serving signatures; the trainer, evaluator,
exporter and CLI are shared. Image classification is the first task; text, audio and windowed
series subclass ``Task`` the same way, each with its own ``DataConfig`` subclass for source
options (``text_column``, ``sample_rate``, ``lookback``...).

A task's life: ``prepare_data()`` reads and validates the source (all errors happen here, before
anything is written), then ``build_inputs(split, input_context, ...)`` gives per-replica batches,
``build_model()`` the Keras model (raw features in, logits out), ``build_loss()`` a per-example
loss, ``evaluate(model, split)`` a ``{metric: value}`` report and ``serving_signatures(model)``
the ``tf.function``s to export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from kerazoo.recipes.config import ExperimentConfig


@dataclass
class PreparedData:
    """A source read and validated: unbatched split datasets and what they hold.

    Args:
        splits: ``{"train"|"validation"|"test": tf.data.Dataset}`` of ``(features, label)``.
        sizes: examples per split.
        class_names: label names, index = class id.
        feature_spec: shape and dtype of one example's features, e.g. ``((8, 8, 1), "uint8")``.
    """

    splits: dict[str, Any]
    sizes: dict[str, int]
    class_names: list[str]
    feature_spec: tuple[tuple[int, ...], str]
    info: dict[str, Any] = field(default_factory=dict)


class Task:
    """Base class of recipes. Subclasses set ``name`` and implement the ``build_*`` hooks."""

    name: ClassVar[str] = ""
    #: The metric the trainer tracks per step (``train_metric``) and prints per epoch.
    train_metric_name: ClassVar[str] = "accuracy"
    #: The ``evaluate`` report key printed at the end of training and by ``kerazoo evaluate``.
    headline_metric: ClassVar[str] = "accuracy"
    #: Named outputs of every serving signature (recorded in ``export.json``).
    output_names: ClassVar[tuple[str, ...]] = ("probabilities", "class_ids", "labels")

    def __init__(self, config: ExperimentConfig):
        self.config = config
        self.data: PreparedData | None = None

    @classmethod
    def default_config(cls) -> ExperimentConfig:
        return ExperimentConfig(task=cls.name)

    def prepare_data(self) -> PreparedData:
        raise NotImplementedError

    def build_inputs(
        self, split: str, input_context=None, *, per_replica_batch: int, training: bool,
        epoch: int = 0, skip_global_steps: int = 0, take_global_steps: int | None = None,
        deterministic: bool = True,
    ):
        """Per-replica batches of ``split`` through :func:`~kerazoo.recipes.data.make_pipeline`,
        with ``example_augment()`` on training examples. Tasks override it only when their
        pipeline differs (batch-level augmentation, windows cut from series)."""
        from kerazoo.recipes.data import make_pipeline

        data = self.config.data
        return make_pipeline(
            self.data.splits[split], per_replica_batch=per_replica_batch, training=training,
            seed=data.seed, epoch=epoch, input_context=input_context,
            skip_global_steps=skip_global_steps, take_global_steps=take_global_steps,
            shuffle_buffer=data.shuffle_buffer, cache=data.cache,
            augment=self.example_augment() if training else None, deterministic=deterministic,
        )

    def example_augment(self):
        """``(features, label, seed[2]) -> (features, label)`` for training examples, built from
        stateless random ops, or ``None`` (the default) for no augmentation."""
        return None

    def build_model(self):
        raise NotImplementedError

    def build_loss(self):
        """A callable ``(labels, outputs) -> per-example loss`` (no reduction)."""
        raise NotImplementedError

    def train_metric(self, labels, outputs):
        """Sum over the batch of the per-example ``train_metric_name`` (a TF scalar).

        The trainer divides by the number of examples. The default counts argmax hits
        (accuracy); a regression task returns e.g. the summed absolute error.
        """
        import tensorflow as tf

        return tf.reduce_sum(tf.cast(
            tf.equal(tf.argmax(outputs, -1, output_type=labels.dtype), labels), tf.float32
        ))

    def inner_model(self, model):
        """The zoo model inside the recipe model (the part ``--freeze-backbone`` acts on)."""
        import keras

        return next(layer for layer in model.layers if isinstance(layer, keras.Model))

    def load_init_model(self):
        """The trained model that ``model.init`` names (``preset:NAME`` or ``run:DIR``)."""
        import keras

        from kerazoo.errors import ConfigError

        spec = self.config.model.init
        kind, _, where = (spec or "").partition(":")
        if kind == "preset":
            from kerazoo import zoo

            return zoo.from_preset(where)
        if kind == "run":
            from pathlib import Path

            import kerazoo.layers  # noqa: F401  (registers kerazoo layers for loading)

            path = Path(where) / "model.keras"
            if not path.is_file():
                raise ConfigError(f"Config key 'model.init': no trained model at {path}.")
            return keras.saving.load_model(path, compile=False)
        raise ConfigError(
            f"Config key 'model.init' must be preset:NAME or run:DIR. Received: {spec!r}"
        )

    def init_base_model(self):
        """The zoo model (``backbone`` + ``head``) inside the ``model.init`` model: a zoo preset
        is one itself; a run or a recipe preset wraps it in the task's preprocessing."""
        trained = self.load_init_model()
        names = {layer.name for layer in trained.layers}
        return trained if "backbone" in names else self.inner_model(trained)

    def input_description(self, data: PreparedData) -> str:
        """One sentence for the model card: what the exported SavedModel takes."""
        shape, dtype = data.feature_spec
        return f"{shape} {dtype}"

    def predict_cli(self, model, args, class_names: list[str]) -> list[str]:
        """Lines printed by ``kerazoo predict RUN_DIR ...`` (``args.inputs``, ``args.top``,
        ``args.csv``); raise ``DataError`` naming a bad input."""
        raise NotImplementedError(f"kerazoo predict is not available for {self.name}.")

    def evaluate(self, model, split: str = "test", run_dir=None) -> dict[str, Any]:
        raise NotImplementedError

    def serving_signatures(self, model, class_names: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def predict_numpy(self, model, features: np.ndarray) -> np.ndarray:
        raise NotImplementedError
