"""``ClassificationTask``: what the image, text and audio recipes share.

A subclass states only what differs: its ``sources`` table, its ``augmentations``, the layers
between the raw input and the zoo model (``build_features``), how it reads files for
``kerazoo predict`` (``read_inputs``) and its serving signatures. The base class owns the zoo
model with a new head and freezing, the one loss builder (label smoothing, focal loss, balanced
class weights; class ids or soft targets), prediction as arrays and evaluation through
``kerazoo.metrics``.

Example:

>>> import numpy as np
>>> from kerazoo.recipes.config import TrainConfig
>>> from kerazoo.recipes.classification import classification_loss
>>> loss = classification_loss(TrainConfig(class_weight="balanced"), 2, np.array([0, 0, 0, 1]))
>>> [round(float(v), 4) for v in loss(np.array([0, 1]), np.zeros((2, 2), "float32"))]
[0.4621, 1.3863]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kerazoo.errors import ConfigError, KerazooError
from kerazoo.recipes.config import TrainConfig
from kerazoo.recipes.task import SHARED_KEYS, PreparedData, Task

log = logging.getLogger(__name__)
FOCAL = ("focal", "categorical_focal_crossentropy")
CROSS_ENTROPY = ("sparse_categorical_crossentropy", "categorical_crossentropy")


def balanced_class_weights(labels: np.ndarray, classes: int) -> np.ndarray:
    """``N / (K * count_k)`` per class (scikit-learn's "balanced"); absent classes get 0."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=classes).astype("float64")
    weights = np.where(counts > 0, len(labels) / (classes * np.maximum(counts, 1)), 0.0)
    return weights.astype("float32")


def classification_loss(train, classes: int, train_labels: np.ndarray | None = None):
    """A per-example loss ``(labels, logits) -> [batch]`` from a ``TrainConfig``.

    ``labels`` are class ids ``[batch]`` or soft targets ``[batch, classes]`` (MixUp, CutMix);
    the rank tells them apart statically.

    Args:
        train: the config's ``train`` section (``loss``, ``label_smoothing``, ``class_weight``).
        classes: number of classes.
        train_labels: the training split's labels, for ``class_weight="balanced"``.
    """
    import keras

    name, smoothing = train.loss, train.label_smoothing
    if name in FOCAL:
        dense = keras.losses.CategoricalFocalCrossentropy(
            from_logits=True, label_smoothing=smoothing, reduction=None)
    elif name in CROSS_ENTROPY:
        dense = keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=smoothing, reduction=None)
    else:
        from kerazoo.recipes.optimization import resolve_named

        loss_class = resolve_named("losses", name)
        dense = loss_class(reduction=None) if isinstance(loss_class, type) else loss_class
    sparse = None
    if name == "sparse_categorical_crossentropy" and not smoothing:
        sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    weights = None
    if train.class_weight == "balanced":
        weights = keras.ops.convert_to_tensor(balanced_class_weights(train_labels, classes))

    def per_example(labels, logits):
        soft = len(labels.shape) == len(logits.shape)
        if soft:
            targets = keras.ops.cast(labels, logits.dtype)
        elif sparse is None or weights is not None:
            targets = keras.ops.one_hot(labels, classes, dtype=logits.dtype)
        values = sparse(labels, logits) if sparse is not None and not soft else dense(
            targets, logits)
        if weights is not None:
            values = values * keras.ops.sum(targets * keras.ops.cast(weights, logits.dtype), -1)
        return values

    return per_example


class ClassificationTask(Task):
    """Base of the classification recipes: zoo model + new head, one loss, arrays out.

    Subclasses implement ``build_features(data)`` (Keras input and the features the zoo model
    takes), ``zoo_kwargs(data, feature_shape)`` when the builder needs more than the shape,
    ``read_inputs(model, inputs)`` for ``kerazoo predict`` and ``serving_signatures``.
    """

    output_names = ("probabilities", "class_ids", "labels")
    #: ``model.weights`` (pretrained backbone weights) is read by the recipes that opt in.
    uses = SHARED_KEYS - {"model.weights"}
    train_metric_name = "accuracy"
    headline_metric = "accuracy"
    #: Names allowed in ``data.augment``.
    augmentations: ClassVar[tuple[str, ...]] = ()
    #: What ``kerazoo predict`` takes, for the record (``file`` or ``text``).
    input_kind: ClassVar[str] = "file"

    def __init__(self, config):
        super().__init__(fine_tuning_defaults(config, self.starts_pretrained(config)))

    @classmethod
    def starts_pretrained(cls, config) -> bool:
        """Whether the backbone starts from pretrained weights (then it is frozen first by
        default, see :func:`fine_tuning_defaults`): ``model.weights`` is set."""
        return bool(config.model.weights)

    def check_config(self) -> None:
        super().check_config()
        unknown = [name for name in self.config.data.augment if name not in self.augmentations]
        if unknown:
            choices = ", ".join(self.augmentations) or "none: this recipe has no augmentations"
            raise ConfigError(f"Config key 'data.augment': unknown augmentation {unknown[0]!r}; "
                              f"choose from {choices}.")

    def prepare_data(self) -> PreparedData:
        self.check_config()
        return self.read_source()

    # ----- model -----
    def build_features(self, data: PreparedData, trained=None):
        """``(inputs, features)``: the Keras input of raw examples and what the zoo model takes.

        ``trained`` is the ``model.init`` model when fine-tuning (text keeps its vocabulary)."""
        raise NotImplementedError

    def zoo_kwargs(self, data: PreparedData, feature_shape: tuple) -> dict[str, Any]:
        """Builder keywords beyond shape, classes and dropout (text: ``vocab_size``)."""
        return {}

    def build_model(self, data: PreparedData):
        import keras

        from kerazoo import zoo

        cfg = self.config.model
        trained = self.load_init_model() if cfg.init else None
        base = self.init_base_model(trained) if trained is not None else None  # checks it too
        inputs, features = self.build_features(data, trained)
        classes = len(data.class_names)
        if trained is None:
            shape = tuple(features.shape[1:])
            inner = zoo.build(self.zoo_model_name(), input_shape=shape, num_classes=classes,
                              dropout=cfg.dropout,
                              **{**self.zoo_kwargs(data, shape), **self.zoo_options()})
            self.initialize(inner, data)
        else:
            inner = keep_head(base, init_record(cfg.init).get("labels"), data.class_names)
            if inner is None:
                inner = zoo.replace_head(base, classes, dropout=cfg.dropout,
                                         freeze_backbone=bool(cfg.freeze_backbone))
            expected, given = tuple(inner.input_shape[1:]), tuple(features.shape[1:])
            if len(expected) != len(given) or any(
                    e is not None and g is not None and e != g for e, g in zip(expected, given)):
                raise ConfigError(
                    f"Config key 'model.init': {cfg.init} takes inputs of shape {expected}, but "
                    f"{self.config.data.source} gives the model {given} after this recipe's "
                    "preprocessing; fine-tune from a model made for this kind of data.")
        model = keras.Model(inputs, inner(features), name=f"{self.name}_{self.zoo_model_name()}")
        if cfg.freeze_backbone:
            zoo.set_backbone_trainable(inner, False)
        return model

    def initialize(self, zoo_model, data: PreparedData) -> None:
        """Set weights learned from the data on a freshly built zoo model (text: vectors)."""

    def build_loss(self, data: PreparedData):
        train_labels = None
        if self.config.train.class_weight == "balanced":
            train_labels = np.concatenate(
                [labels.numpy() for _, labels in data.splits["train"].batch(4096)])
        return classification_loss(self.config.train, len(data.class_names), train_labels)

    def train_metric(self, labels, outputs):
        """Accuracy hits; for soft (mixed) targets, against the class of largest weight."""
        import tensorflow as tf

        if labels.shape.rank == outputs.shape.rank:
            labels = tf.argmax(labels, -1)
        return tf.reduce_sum(tf.cast(
            tf.equal(tf.argmax(outputs, -1, output_type=labels.dtype), labels), tf.float32))

    # ----- arrays out -----
    def outputs_of(self, model, batch):
        import keras

        return keras.ops.softmax(keras.ops.cast(model(self.model_input(batch), training=False),
                                                "float32"))

    def model_input(self, batch):
        """One batch of examples as the model takes it (images, clips: float32)."""
        return np.asarray(batch, "float32")

    def split_arrays(self, data: PreparedData, split: str) -> tuple[Any, np.ndarray]:
        features, labels = [], []
        for x, y in data.splits[split].batch(1024):
            features.append(x.numpy())
            labels.append(y.numpy())
        return np.concatenate(features), np.concatenate(labels)

    def evaluate(self, model, data: PreparedData, split: str = "test",
                 run_dir=None) -> dict[str, Any]:
        from kerazoo.recipes.evaluation import classification_report

        features, labels = self.split_arrays(data, split)
        probabilities = self.predict(model, features)
        report = classification_report(labels, probabilities, data.class_names, run_dir)
        report.update(self.extra_report(data, features, labels, probabilities))
        return report

    def choose_exported_model(self, model, data: PreparedData, baseline: dict[str, Any]):
        """``model``, or the baseline when it won on validation (:func:`choose_exported_model`)."""
        return choose_exported_model(self, model, data, baseline)

    def extra_report(self, data: PreparedData, features, labels, probabilities) -> dict:
        """Task-specific report sections (speech: detection rates; text: worst examples)."""
        return {}

    def read_inputs(self, model, inputs: list[str]):
        """The examples ``kerazoo predict`` names, as one array the model takes."""
        raise NotImplementedError

    def predict_inputs(self, model, inputs, *, csv=None, class_names=()):
        if not inputs:
            raise ConfigError(f"kerazoo predict: give one or more {self.input_kind}s.")
        probabilities = self.predict(model, self.read_inputs(model, list(inputs)))
        return [{self.input_kind: name,
                 "probabilities": dict(zip(class_names, (float(p) for p in row)))}
                for name, row in zip(inputs, probabilities)]

    # ----- what shared code prints -----
    def headline_keys(self, report):
        return [self.headline_metric, *[key for key in report if key.startswith("top_")]]

    def card_sections(self, data: PreparedData) -> dict[str, str]:
        return {
            "labels": f"{len(data.class_names)} classes: {', '.join(data.class_names)}",
            "details": "Per-class precision and recall are in `evaluation.json`, the confusion "
                       "matrix in\n`confusion_matrix.svg`, the training curves in "
                       "`training_curves.svg`.",
        }


def fine_tuning_defaults(config, pretrained: bool):
    """Resolve ``model.freeze_backbone`` when it is ``None`` (the default), in place.

    With a ``pretrained`` backbone (``model.weights``) it starts frozen and ``train.unfreeze_epoch``
    (unless set) is a fifth of the epochs, at least 1: the new head first learns on features it
    cannot yet spoil, then the whole network trains at ``train.unfreeze_learning_rate_factor``
    times the rate. Without weights nothing is frozen. The resolved values are what
    ``config.yaml`` records, so a resumed run resolves them the same way.

    Returns:
        ``config``.
    """
    model = config.model
    if model.freeze_backbone is None:
        if pretrained and config.train.unfreeze_epoch is None:
            config.train.unfreeze_epoch = max(1, config.train.epochs // 5)
        model.freeze_backbone = pretrained
    return config


def init_record(spec: str | None) -> dict[str, Any]:
    """What ``model.init`` was trained for: ``{"task", "labels"}`` where recorded (a preset's
    ``metadata.json``, a run's ``config.yaml`` and ``labels.json``); ``{}`` when unknown."""
    import json
    from pathlib import Path

    kind, _, where = (spec or "").partition(":")
    try:
        if kind == "preset":
            from kerazoo.zoo.presets import METADATA_FILE, _resolve

            path = _resolve(where) / METADATA_FILE
            metadata = json.loads(path.read_text()) if path.is_file() else {}
            return {key: metadata[key] for key in ("task", "labels") if key in metadata}
        if kind == "run":
            import yaml

            record = {}
            if (Path(where) / "config.yaml").is_file():
                record["task"] = (yaml.safe_load((Path(where) / "config.yaml").read_text())
                                  or {}).get("task")
            if (Path(where) / "labels.json").is_file():
                record["labels"] = json.loads((Path(where) / "labels.json").read_text())
            return record
    except (OSError, ValueError, KerazooError):  # unreadable: loading the model reports it
        return {}
    return {}


def keep_head(base, labels, class_names):
    """``base`` itself when the data's label set equals the one it was trained on, else ``None``.

    Equal sets in another order keep the head too, its classifier's columns reordered to the
    data's class ids.
    """
    if not labels or len(set(labels)) != len(labels) or set(labels) != set(class_names):
        return None
    if int(base.output.shape[-1]) != len(labels):
        return None
    if list(labels) != list(class_names):
        try:
            classifier = base.get_layer("head").get_layer("classifier")
        except ValueError:
            return None
        order = [list(labels).index(name) for name in class_names]
        kernel, bias = classifier.get_weights()
        classifier.set_weights([kernel[..., order], bias[order]])
    return base


def fit_baseline(task: ClassificationTask, data: PreparedData, model, name: str,
                 learning_rate: float = 1e-2, fit=None) -> dict[str, Any]:
    """Train a cheap baseline ``model`` and score it like the recipe's model.

    By default ``model.fit``: Adam at ``learning_rate``, batch 32, at most 10 epochs, early
    stopping on validation loss (patience 2) with the best weights restored. ``fit`` replaces
    that: ``fit(model, features, labels, validation) -> dict`` (the split arrays as
    ``task.split_arrays`` gives them; ``validation`` is ``(features, labels)`` or ``None``)
    trains ``model`` in place and returns what the report should add (the sentiment recipe
    solves its TF-IDF logistic regression exactly). Runs outside the training strategy, on the
    chief only (the trainer calls a task's ``train_baseline`` there).

    Returns:
        ``{"model": name, "accuracy", "macro_f1"}`` on test, ``val_accuracy`` and
        ``val_macro_f1`` on validation, ``seconds``, and ``epochs`` (or what ``fit`` returned).
    """
    import time

    import keras

    from kerazoo.recipes.evaluation import classification_report

    started = time.monotonic()
    features, labels = task.split_arrays(data, "train")
    validation = (task.split_arrays(data, "validation") if data.sizes.get("validation")
                  else None)
    if fit is not None:
        details = fit(model, features, labels, validation)
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        callbacks = [keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
                     ] if validation is not None else []
        history = model.fit(
            task.model_input(features), labels, batch_size=32, epochs=10, verbose=0,
            validation_data=None if validation is None else (
                task.model_input(validation[0]), validation[1]), callbacks=callbacks)
        details = {"epochs": len(history.history["loss"])}
    # Kept (not in the report: evaluation.json is JSON) for choose_exported_model.
    task.baseline_model = model
    report: dict[str, Any] = {"model": name}
    for split, prefix in (("validation", "val_"), ("test", "")):
        if not data.sizes.get(split):
            continue
        split_features, truth = task.split_arrays(data, split)
        metrics = classification_report(truth, task.predict(model, split_features),
                                        data.class_names)
        report[f"{prefix}accuracy"] = metrics["accuracy"]
        report[f"{prefix}macro_f1"] = metrics["macro_f1"]
    report.update(details)
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


@dataclass
class BaselineTrainConfig(TrainConfig):
    """``train`` of the recipes that train a baseline first (sentiment, speech).

    Args:
        prefer_baseline: when the baseline (``train_baseline``) clearly beats the trained model
            on the validation split (macro-F1, else accuracy; :func:`choose_exported_model`
            says what "clearly" means), save, evaluate and export the baseline
            instead; ``evaluation.json`` (``baseline.exported``) and the model card say so, with
            both models' scores. The choice is made on validation, as early stopping chooses an
            epoch, never on test. ``False`` always exports the configured model (the verdict is
            still reported, with a WARNING when the baseline won). Defaults to ``False`` here;
            the sentiment recipe sets ``True`` (its TF-IDF baseline keeps its vocabulary and
            IDF weights in its config, so a preset of it round-trips).
        ensemble_baseline: also score the average of the two models' probabilities
            (:func:`kerazoo.zoo.ensemble.probability_ensemble`: one model holding both, taking
            the same raw input) on validation, and export it when it clearly beats the trained
            model there (and, with ``prefer_baseline``, scores above the baseline).
            Defaults to ``False`` here; the sentiment recipe sets ``True``.
    """

    prefer_baseline: bool = False
    ensemble_baseline: bool = False


#: McNemar's chi-square (1 degree of freedom) at 5%: how clearly another model must beat the
#: trained one on the validation examples they disagree on before it is exported instead.
MCNEMAR_CHI2 = 3.84


def clearly_better(candidate_correct, model_correct) -> bool:
    """McNemar's paired test on per-example correctness: ``candidate`` is right on ``b``
    examples where the model is wrong, wrong on ``c`` where it is right; clearly better when
    ``b > c`` and ``(b - c)^2 / (b + c) >= 3.84``. Two validation reviews out of 448 are noise;
    two hundred out of 3,000 are not.

    Example:

    >>> import numpy as np
    >>> model = np.array([True] * 70 + [False] * 30)
    >>> clearly_better(np.array([True] * 72 + [False] * 28), model)
    False
    >>> clearly_better(np.array([True] * 80 + [False] * 20), model)
    True
    """
    b = int(np.sum(candidate_correct & ~model_correct))
    c = int(np.sum(~candidate_correct & model_correct))
    return b > c and (b - c) ** 2 >= MCNEMAR_CHI2 * (b + c)


def choose_exported_model(task: ClassificationTask, model, data: PreparedData,
                          baseline: dict[str, Any]):
    """The model the run saves and exports: ``model``, the baseline or their ensemble.

    Scores the candidates on the validation split with the verdict's metric (``macro_f1`` when
    the baseline report has ``val_macro_f1``, else ``accuracy``): ``model``; the baseline model
    that :func:`fit_baseline` kept, with ``train.prefer_baseline``; the average of both
    (:func:`~kerazoo.zoo.ensemble.probability_ensemble`), with ``train.ensemble_baseline``. A
    candidate replaces ``model`` only when it scores higher *and* is :func:`clearly_better` on
    the validation examples (a small validation split does not swap models on noise); of those,
    the highest score wins (on a tie, the baseline: the cheaper). Records in ``baseline``:
    ``exported`` (``"model"``, ``"baseline"`` or ``"ensemble"``), ``model_val_KEY`` and
    ``ensemble_val_KEY`` when scored; when ``model`` is replaced, also ``verdict``,
    ``replaced_model``, ``model_test_KEY`` (the report's headline test metrics are then the
    exported model's) and ``verdict_line``. When ``model`` stays, the verdict is left to the
    trainer.

    Example:

    >>> from kerazoo.recipes.classification import BaselineTrainConfig
    >>> config = BaselineTrainConfig()
    >>> config.prefer_baseline, config.ensemble_baseline
    (False, False)
    """
    from kerazoo.recipes.evaluation import classification_report

    key = "macro_f1" if "val_macro_f1" in baseline else "accuracy"
    kept = getattr(task, "baseline_model", None)
    train = task.config.train
    prefer = getattr(train, "prefer_baseline", False)
    combine = getattr(train, "ensemble_baseline", False)
    baseline["exported"] = "model"
    if not (prefer or combine) or kept is None or f"val_{key}" not in baseline:
        return model
    features, truth = task.split_arrays(data, "validation")

    def scored(candidate):
        probabilities = task.predict(candidate, features)
        report = classification_report(truth, probabilities, data.class_names)
        return report[key], np.asarray(probabilities).argmax(-1) == np.asarray(truth)

    ours, model_correct = scored(model)
    baseline["model_val_" + key] = ours
    candidates = []
    if prefer:
        candidates.append(("baseline", kept, *scored(kept)))
    if combine:
        from kerazoo.zoo.ensemble import probability_ensemble

        try:
            ensemble = probability_ensemble([model, kept], name="ensemble")
        except ConfigError as error:  # e.g. a keras-hub classifier (subclassed): no ensemble
            log.info("No ensemble with the baseline: %s", error)
        else:
            candidates.append(("ensemble", ensemble, *scored(ensemble)))
            baseline["ensemble_val_" + key] = candidates[-1][2]
    winners = [candidate for candidate in candidates
               if candidate[2] > ours and clearly_better(candidate[3], model_correct)]
    if not winners:
        return model
    exported, chosen, best, _ = max(winners, key=lambda candidate: candidate[2])
    name = task.config.model.name
    theirs = baseline[f"val_{key}"]
    ours_test = task.evaluate(model, data, "test")[key] if data.sizes.get("test") else None
    baseline.update({
        "exported": exported, "verdict": exported, "replaced_model": name,
        "model_test_" + key: ours_test,
    })
    if exported == "baseline":
        test = "" if ours_test is None else (
            f"; test {baseline.get(key, float('nan')):.4f} vs {ours_test:.4f}")
        baseline["verdict_line"] = (
            f"The baseline {baseline['model']} beats {name} on validation ({key} {theirs:.4f} "
            f"vs {ours:.4f}{test}): exported the baseline (train.prefer_baseline=true; set it "
            f"to false to export {name}).")
    else:
        test = "" if ours_test is None else f"; {name} on test {ours_test:.4f}"
        baseline["verdict_line"] = (
            f"The average of {name} and the baseline {baseline['model']} beats {name} on "
            f"validation ({key} {best:.4f} vs {ours:.4f}; the baseline alone {theirs:.4f}"
            f"{test}): exported the ensemble, one model holding both "
            f"(train.ensemble_baseline=true; set it to false to export {name} alone).")
    return chosen
