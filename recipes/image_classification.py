"""The image-classification recipe: any zoo CNN on ``digits``, ``tfds:NAME`` or ``folder:PATH``.

The trained model takes raw pixel values (float ``[H, W, C]`` in 0-255) and does the zoo model's
preprocessing itself, so the exported SavedModel only has to resize. Augmentations (``data.augment``):
``flip`` (left-right), ``translate`` (up to 1/8 of the size, zero fill), ``brightness``, all
stateless and seeded by example position (a resumed run sees the same augmented batches), and
``rand_augment`` (Keras ``RandAugment``, per batch, not resume-exact).

Example:

>>> from kerazoo.recipes.image_classification import ImageClassification
>>> config = ImageClassification.default_config()
>>> config.data.source, config.model.name
('digits', 'simple_cnn')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kerazoo.errors import ConfigError
from kerazoo.recipes.config import DataConfig, ExperimentConfig
from kerazoo.recipes.evaluation import top_k_lines
from kerazoo.recipes.task import PreparedData, Task
from kerazoo.registry import register

AUGMENTATIONS = ("flip", "translate", "brightness", "rand_augment")


@dataclass
class ImageDataConfig(DataConfig):
    """Image source options, on top of :class:`~kerazoo.recipes.config.DataConfig`.

    Args:
        image_size: ``[H, W]`` to resize to. Defaults to ``None`` (the source's own size).
        channels: 1 or 3. Defaults to ``None`` (the source's own; mixed folders must choose).
    """

    image_size: list[int] | None = None
    channels: int | None = None


@register("recipes", name="image_classification", task="image_classification")
class ImageClassification(Task):
    """Image classification with a zoo model: data, model, loss, evaluation and serving.

    Args:
        config: an ``ExperimentConfig`` from ``default_config()`` with overrides applied.

    Example:

    >>> from kerazoo.recipes.image_classification import ImageClassification
    >>> task = ImageClassification(ImageClassification.default_config())
    >>> task.prepare_data().feature_spec
    ((8, 8, 1), 'uint8')
    """

    name = "image_classification"

    @classmethod
    def default_config(cls) -> ExperimentConfig:
        config = ExperimentConfig(task=cls.name, data=ImageDataConfig())
        config.train.epochs = 25
        config.train.batch_size = 32
        config.train.learning_rate = 3e-3
        config.train.warmup_steps = 20
        config.data.augment = ["translate"]
        return config

    # ----- data -----
    def prepare_data(self) -> PreparedData:
        from kerazoo.recipes import image_sources

        data = self.config.data
        unknown = [name for name in data.augment if name not in AUGMENTATIONS]
        if unknown:
            raise ConfigError(
                f"Config key 'data.augment': unknown augmentation {unknown[0]!r}; "
                f"choose from {', '.join(AUGMENTATIONS)}."
            )
        source = data.source
        if source == "digits":
            prepared = image_sources.load_digits()
        elif source.startswith("tfds:"):
            prepared = image_sources.load_tfds(
                source[5:], data_dir=data.data_dir, download=data.download,
                image_size=data.image_size, channels=data.channels,
                validation_fraction=data.validation_fraction,
            )
        elif source.startswith("folder:"):
            prepared = image_sources.load_folder(
                source[7:], image_size=data.image_size, channels=data.channels,
                validation_fraction=data.validation_fraction, test_fraction=data.test_fraction,
                seed=data.seed,
            )
        else:
            raise ConfigError(
                f"Config key 'data.source': {source!r} is not a source; use digits, "
                "tfds:NAME or folder:PATH."
            )
        self.data = prepared
        return prepared

    def _augment(self):
        import tensorflow as tf

        names = set(self.config.data.augment) - {"rand_augment"}
        if not names:
            return None

        def augment(image, label, seed):
            seeds = tf.random.experimental.stateless_split(seed, 3)
            if "flip" in names:
                image = tf.image.stateless_random_flip_left_right(image, seeds[0])
            if "translate" in names:
                height, width, channels = image.shape
                pad_h, pad_w = max(1, height // 8), max(1, width // 8)
                padded = tf.pad(image, [[pad_h, pad_h], [pad_w, pad_w], [0, 0]])
                image = tf.image.stateless_random_crop(
                    padded, (height, width, channels), seeds[1]
                )
            if "brightness" in names:
                image = tf.cast(image, tf.float32)
                image = tf.image.stateless_random_brightness(image, 25.0, seeds[2])
                image = tf.cast(tf.clip_by_value(image, 0, 255), tf.uint8)
            return image, label

        return augment

    def build_inputs(
        self, split: str, input_context=None, *, per_replica_batch: int, training: bool,
        epoch: int = 0, skip_global_steps: int = 0, take_global_steps: int | None = None,
        deterministic: bool = True,
    ):
        import tensorflow as tf

        from kerazoo.recipes.data import make_pipeline

        def prepare(image, label):
            return tf.cast(image, tf.float32), label

        dataset = make_pipeline(
            self.data.splits[split], per_replica_batch=per_replica_batch, training=training,
            seed=self.config.data.seed, epoch=epoch, input_context=input_context,
            skip_global_steps=skip_global_steps, take_global_steps=take_global_steps,
            shuffle_buffer=self.config.data.shuffle_buffer,
            cache=self.config.data.cache, augment=self._augment() if training else None,
            prepare=prepare, deterministic=deterministic,
        )
        if training and "rand_augment" in self.config.data.augment:
            import keras

            layer = keras.layers.RandAugment(value_range=(0, 255), seed=self.config.data.seed)
            dataset = dataset.map(lambda x, y: (layer(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        return dataset

    # ----- model -----
    def build_model(self):
        import keras

        from kerazoo import zoo

        shape, _ = self.data.feature_spec
        classes = len(self.data.class_names)
        cfg = self.config.model
        inner = self._initial_model(shape, classes)
        preprocessing = zoo.model_config(cfg.name).get("preprocessing") or {}
        inputs = keras.Input(shape, name="images")
        x = keras.layers.Rescaling(float(preprocessing.get("rescale") or 1.0), name="rescale")(
            inputs
        )
        mean, std = preprocessing.get("mean"), preprocessing.get("std")
        if mean is not None and std is not None:
            x = keras.layers.Normalization(
                mean=list(mean), variance=[s * s for s in std], name="normalize"
            )(x)
        outputs = inner(x)
        model = keras.Model(inputs, outputs, name=f"{self.name}_{cfg.name}")
        if cfg.freeze_backbone:
            zoo.set_backbone_trainable(inner, False)
        return model

    def _initial_model(self, shape, classes):
        import keras

        from kerazoo import zoo

        cfg = self.config.model
        if cfg.init is None:
            return zoo.build(cfg.name, input_shape=shape, num_classes=classes, dropout=cfg.dropout)
        kind, _, where = cfg.init.partition(":")
        if kind == "preset":
            base = zoo.from_preset(where)
        elif kind == "run":
            from pathlib import Path

            path = Path(where) / "model.keras"
            if not path.is_file():
                raise ConfigError(f"Config key 'model.init': no trained model at {path}.")
            trained = keras.saving.load_model(path, compile=False)
            base = next(layer for layer in trained.layers if isinstance(layer, keras.Model))
        else:
            raise ConfigError(
                f"Config key 'model.init' must be preset:NAME or run:DIR. Received: {cfg.init!r}"
            )
        return zoo.replace_head(base, classes, dropout=cfg.dropout,
                                freeze_backbone=cfg.freeze_backbone)

    def build_loss(self):
        import keras

        name = self.config.train.loss
        smoothing = self.config.train.label_smoothing
        classes = len(self.data.class_names)
        if name in ("sparse_categorical_crossentropy", "categorical_crossentropy") and smoothing:
            loss = keras.losses.CategoricalCrossentropy(
                from_logits=True, label_smoothing=smoothing, reduction=None
            )
            return lambda labels, logits: loss(keras.ops.one_hot(labels, classes), logits)
        if name == "sparse_categorical_crossentropy":
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
        from kerazoo.recipes.trainer import resolve_named

        loss_class = resolve_named("losses", name)
        loss = loss_class(reduction=None) if isinstance(loss_class, type) else loss_class
        return lambda labels, logits: loss(keras.ops.one_hot(labels, classes), logits)

    # ----- evaluation and serving -----
    def predict_numpy(self, model, features: np.ndarray) -> np.ndarray:
        import keras

        # A plain call, not model.predict: predict would run under the training strategy, whose
        # collectives need every worker, and only the chief evaluates.
        outputs = [
            keras.ops.convert_to_numpy(keras.ops.softmax(keras.ops.cast(
                model(features[start : start + 256].astype("float32"), training=False),
                "float32")))
            for start in range(0, len(features), 256)
        ]
        return np.concatenate(outputs)

    def evaluate(self, model, split: str = "test", run_dir=None) -> dict[str, Any]:
        from kerazoo.recipes.evaluation import classification_report

        images, labels = [], []
        for x, y in self.data.splits[split].batch(1024):
            images.append(x.numpy())
            labels.append(y.numpy())
        images, labels = np.concatenate(images), np.concatenate(labels)
        probabilities = self.predict_numpy(model, images)
        return classification_report(labels, probabilities, self.data.class_names, run_dir)

    def input_description(self, data: PreparedData) -> str:
        shape, dtype = data.feature_spec
        return (f"{shape} {dtype}; the SavedModel in `export/` resizes images of any size and "
                "also takes encoded JPEG/PNG bytes (`serving_bytes`)")

    def predict_cli(self, model, args, class_names: list[str]) -> list[str]:
        import tensorflow as tf

        from kerazoo.errors import DataError

        if not args.inputs:
            raise ConfigError("kerazoo predict: give one or more image files.")
        height, width, channels = (int(d) for d in model.input_shape[1:])
        images = []
        for name in args.inputs:
            path = Path(name)
            if not path.is_file():
                raise DataError(f"Image not found: {path}")
            try:
                image = tf.io.decode_image(path.read_bytes(), channels=channels,
                                           expand_animations=False)
            except tf.errors.OpError:
                raise DataError(f"{path}: not a readable JPEG/PNG/BMP/GIF image.") from None
            images.append(tf.image.resize(tf.cast(image, tf.float32), (height, width),
                                          antialias=True).numpy())
        probabilities = self.predict_numpy(model, np.stack(images))
        return top_k_lines(args.inputs, probabilities, class_names, args.top)

    def serving_signatures(self, model, class_names):
        from kerazoo.recipes.export import image_signatures

        return image_signatures(model, class_names)
