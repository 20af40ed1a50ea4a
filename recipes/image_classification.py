"""The image-classification recipe: any zoo CNN on ``digits``, ``tfds:NAME`` or ``folder:PATH``.

The trained model takes raw pixel values (float ``[H, W, C]`` in 0-255) and does the zoo model's
preprocessing itself, so the exported SavedModel only has to resize. With
``model.weights=imagenet`` that is the preprocessing the published weights were trained with
(``zoo.preprocessing_for``), after gray images are repeated to RGB and images under 32x32 resized
up; with a ``model.init`` made for another image shape, the conversion to that shape (gray/RGB,
resizing) comes first (:func:`adapt_images`). Augmentations (``data.augment``):
``flip`` (left-right), ``translate`` (up to 1/8 of the size, zero fill), ``brightness``, drawn
per image but applied to whole batches, stateless and seeded by batch position (a resumed run and
every replica layout see the same augmented batches);
``mixup`` and ``cutmix`` (whole-batch mixing with soft labels, stateless and seeded by batch
position, see :func:`mix_batch`); and ``rand_augment`` (Keras ``RandAugment``, per batch, not
resume-exact).

Example:

>>> from kerazoo.recipes.image_classification import ImageClassification
>>> config = ImageClassification.default_config()
>>> config.data.source, config.model.name
('digits', 'simple_cnn')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerazoo.errors import ConfigError
from kerazoo.recipes.classification import ClassificationTask
from kerazoo.recipes.config import DataConfig
from kerazoo.recipes.task import SHARED_KEYS, PreparedData, Source
from kerazoo.registry import register

AUGMENTATIONS = ("flip", "translate", "brightness", "rand_augment", "mixup", "cutmix")
MIXING = ("mixup", "cutmix")


@dataclass
class ImageDataConfig(DataConfig):
    """Image source options, on top of :class:`~kerazoo.recipes.config.DataConfig`.

    Args:
        image_size: ``[H, W]`` to resize to. Defaults to ``None`` (the source's own size).
        channels: 1 or 3. Defaults to ``None`` (the source's own; mixed folders must choose).
        mixup_alpha: Beta(alpha, alpha) concentration of the MixUp weight (``augment: [mixup]``).
            Defaults to 0.2 (as Keras ``MixUp``; the MixUp paper used 0.1-0.4 on ImageNet).
        cutmix_alpha: Beta(alpha, alpha) concentration of the CutMix kept area. Defaults to 1.0
            (uniform, as the CutMix paper and Keras ``CutMix``).
    """

    image_size: list[int] | None = None
    channels: int | None = None
    mixup_alpha: float = 0.2
    cutmix_alpha: float = 1.0


def _sample_beta(alpha: float, seed):
    import tensorflow as tf

    # Beta(a, a) = X / (X + Y) with X, Y ~ Gamma(a): TF has a stateless gamma, no stateless beta.
    seeds = tf.random.experimental.stateless_split(seed, 2)
    x = tf.random.stateless_gamma([], seeds[0], alpha=alpha)
    y = tf.random.stateless_gamma([], seeds[1], alpha=alpha)
    return x / (x + y)


def mix_batch(images, labels, seed, *, num_classes: int, mixup_alpha: float | None = 0.2,
              cutmix_alpha: float | None = None):
    """MixUp and/or CutMix of one batch with a permutation of itself; labels become soft.

    Keras 3.15's ``keras.layers.MixUp`` and ``CutMix`` draw from a ``SeedGenerator`` whose state
    advances with every call, so in a ``tf.data`` map the mix a batch gets depends on how many
    batches were drawn before it (parallel calls, a resumed run, another replica layout). This
    function takes the seed explicitly and uses only stateless ops, so batch ``k`` of epoch ``e``
    is mixed the same way wherever and whenever it is produced. With both methods on, each batch
    uses one of them with probability 1/2 (as timm's ``Mixup`` with ``switch_prob=0.5``).

    Sources: Zhang et al., *mixup: Beyond Empirical Risk Minimization* (2018); Yun et al.,
    *CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features* (2019).

    Args:
        images: ``[B, H, W, C]`` float images.
        labels: ``[B]`` integer class ids or ``[B, num_classes]`` (soft) targets.
        seed: ``[2]`` integer seed of this batch.
        num_classes: classes of the one-hot targets.
        mixup_alpha: MixUp's Beta concentration, or ``None`` for no MixUp.
        cutmix_alpha: CutMix's Beta concentration, or ``None`` for no CutMix.

    Returns:
        ``(mixed_images, soft_labels)``; every row of ``soft_labels`` sums to 1.

    Example:

    >>> import tensorflow as tf
    >>> images, labels = tf.random.uniform([4, 8, 8, 1]), tf.constant([0, 1, 2, 3])
    >>> mixed, soft = mix_batch(images, labels, tf.constant([1, 2]), num_classes=4,
    ...                         cutmix_alpha=1.0)
    >>> mixed.shape, soft.shape, bool(tf.reduce_all(tf.abs(tf.reduce_sum(soft, -1) - 1) < 1e-6))
    (TensorShape([4, 8, 8, 1]), TensorShape([4, 4]), True)
    """
    import tensorflow as tf

    if mixup_alpha is None and cutmix_alpha is None:
        raise ValueError("mix_batch needs mixup_alpha or cutmix_alpha.")
    images = tf.convert_to_tensor(images)
    targets = tf.convert_to_tensor(labels)
    if targets.shape.rank == 1:
        targets = tf.one_hot(targets, num_classes, dtype=images.dtype)
    targets = tf.cast(targets, images.dtype)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    batch = tf.shape(images)[0]
    order = tf.argsort(tf.random.stateless_uniform([batch], seeds[0]))
    other_images, other_targets = tf.gather(images, order), tf.gather(targets, order)

    def mixup():
        weight = tf.cast(_sample_beta(mixup_alpha, seeds[1]), images.dtype)
        return weight * images + (1 - weight) * other_images, weight

    def cutmix():
        height, width = tf.shape(images)[1], tf.shape(images)[2]
        kept = _sample_beta(cutmix_alpha, seeds[2])
        side = tf.sqrt(1.0 - kept)
        cut_h = tf.cast(tf.round(side * tf.cast(height, tf.float32)), tf.int32)
        cut_w = tf.cast(tf.round(side * tf.cast(width, tf.float32)), tf.int32)
        center = tf.random.stateless_uniform([2], seeds[3])
        cy = tf.cast(center[0] * tf.cast(height, tf.float32), tf.int32)
        cx = tf.cast(center[1] * tf.cast(width, tf.float32), tf.int32)
        # The box is clipped at the border, so the label weight uses the area actually pasted.
        y0, y1 = tf.maximum(cy - cut_h // 2, 0), tf.minimum(cy + (cut_h + 1) // 2, height)
        x0, x1 = tf.maximum(cx - cut_w // 2, 0), tf.minimum(cx + (cut_w + 1) // 2, width)
        rows, cols = tf.range(height), tf.range(width)
        inside = (((rows >= y0) & (rows < y1))[:, None] & ((cols >= x0) & (cols < x1))[None, :])
        mixed = tf.where(inside[None, :, :, None], other_images, images)
        area = tf.cast(tf.maximum(y1 - y0, 0) * tf.maximum(x1 - x0, 0), images.dtype)
        return mixed, 1 - area / tf.cast(height * width, images.dtype)

    if mixup_alpha is None:
        mixed, weight = cutmix()
    elif cutmix_alpha is None:
        mixed, weight = mixup()
    else:
        mixed, weight = tf.cond(tf.random.stateless_uniform([], seeds[4]) < 0.5, mixup, cutmix)
    return mixed, weight * targets + (1 - weight) * other_targets


def _load_digits(task, name):
    from kerazoo.recipes import image_sources

    return image_sources.load_digits()


def _load_tfds(task, name):
    from kerazoo.recipes import image_sources

    return image_sources.load_tfds(name, image_size=task.config.data.image_size,
                                   channels=task.config.data.channels, **task.tfds_options())


def _load_folder(task, path):
    from kerazoo.recipes import image_sources

    data = task.config.data
    return image_sources.load_folder(
        path, image_size=data.image_size, channels=data.channels,
        validation_fraction=data.validation_fraction, test_fraction=data.test_fraction,
        seed=data.seed)


@register("recipes", name="image_classification", task="image_classification")
class ImageClassification(ClassificationTask):
    """Image classification with a zoo model: data, model, loss, evaluation and serving.

    Example:

    >>> from kerazoo.recipes.image_classification import ImageClassification
    >>> ImageClassification.source_forms(), ImageClassification.augmentations[:3]
    (['digits', 'tfds:NAME', 'folder:PATH'], ('flip', 'translate', 'brightness'))
    >>> ImageClassification(ImageClassification.default_config()).prepare_data().feature_spec
    ((8, 8, 1), 'uint8')
    """

    name = "image_classification"
    sources = {
        "digits": Source(_load_digits, "scikit-learn's 1,797 8x8 digits (embedded)"),
        "tfds": Source(_load_tfds, "a TFDS image dataset (cifar10, mnist, ...)", "NAME"),
        "folder": Source(_load_folder, "PATH/CLASS/*.png|jpg", "PATH"),
    }
    augmentations = AUGMENTATIONS
    uses = SHARED_KEYS  # model.weights included: ImageNet-pretrained backbones
    data_config = ImageDataConfig
    # Early-stopping patience 10 of 25 epochs, not 5: under the cosine schedule validation loss
    # swings 2-5x between epochs while the rate is high and keeps falling in the low-rate tail
    # (digits: 0.0114 at epoch 11 -> 0.0074 at 23), so patience 5 stopped runs in the noisy phase
    # (one seed: stopped at epoch 10, restored epoch 5, test 0.972). A small validation split of
    # real, noisy images is noisier still. Measured in docs/recipes/image-classification.md.
    defaults = {"train.epochs": 25, "train.batch_size": 32, "train.learning_rate": 3e-3,
                "train.warmup_steps": 20, "data.augment": ["translate"],
                "train.early_stopping_patience": 10,
                # Under the cosine schedule the first epochs are far from converged; on a small
                # validation split one of them could be restored for a lucky loss.
                "train.early_stopping_start_epoch": 10,
                # Cosine decay to zero: a run that never ran out of patience ends converged.
                "train.early_stopping_restore": "on_stop"}

    def check_config(self) -> None:
        super().check_config()
        model = self.config.model
        if model.weights is None:
            return
        if model.init:
            raise ConfigError(
                f"Config keys 'model.weights' ({model.weights}) and 'model.init' ({model.init}) "
                "both set the starting weights; keep one.")
        from kerazoo.registry import registry

        try:
            offered = tuple(registry("models").get(self.zoo_model_name()).metadata
                            .get("weights", ()))
        except Exception:  # an unknown model is reported by the model build itself
            return
        if model.weights not in offered:
            models = registry("models")
            with_weights = [name for name in models.list()
                            if model.weights in models.get(name).metadata.get("weights", ())]
            raise ConfigError(
                f"Config key 'model.weights': {self.zoo_model_name()} has no "
                f"{model.weights!r} weights (it offers {list(offered) or 'none'}); models with "
                f"them: {', '.join(with_weights) or 'none'}.")

    # ----- data -----
    def _augment(self):
        """Per-image flip / translate / brightness on a whole batch, with vectorized ops.

        Per-example ``tf.data`` maps cost ~10-20 us per element in the runtime alone, a visible
        share of a small CNN's step on CPU (``benchmarks/recipe_input_pipeline.py``); on whole
        batches it is a handful of ops. Each image still draws its own flip, shift and brightness,
        from the batch's stateless seed (its position in the epoch before sharding).
        """
        import tensorflow as tf

        names = set(self.config.data.augment) - {"rand_augment", *MIXING}
        if not names:
            return None

        def augment(images, seed):
            seeds = tf.random.experimental.stateless_split(seed, 3)
            batch, height, width = (tf.shape(images)[i] for i in range(3))
            if "flip" in names:
                flip = tf.random.stateless_uniform([batch, 1, 1, 1], seeds[0]) < 0.5
                images = tf.where(flip, tf.reverse(images, [2]), images)
            if "translate" in names:
                pad_h, pad_w = max(1, images.shape[1] // 8), max(1, images.shape[2] // 8)
                padded = tf.pad(images, [[0, 0], [pad_h, pad_h], [pad_w, pad_w], [0, 0]])
                seed_y, seed_x = tf.unstack(tf.random.experimental.stateless_split(seeds[1], 2))
                top = tf.random.stateless_uniform([batch, 1], seed_y, 0, 2 * pad_h + 1, tf.int32)
                left = tf.random.stateless_uniform([batch, 1], seed_x, 0, 2 * pad_w + 1, tf.int32)
                # Per-image crop windows of the padded batch, as gathers along rows then columns.
                rows = top + tf.range(height)[None]
                cols = left + tf.range(width)[None]
                images = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2,
                                   batch_dims=1)
            if "brightness" in names:
                delta = tf.random.stateless_uniform([batch, 1, 1, 1], seeds[2], -25.0, 25.0)
                images = tf.clip_by_value(images + delta, 0.0, 255.0)
            return images

        return augment

    def _batch_transform(self, classes: int):
        """``(images, labels, seed) -> (images, labels)`` for training batches: cast, augment, mix."""
        import tensorflow as tf

        data = self.config.data
        augment = self._augment()
        names = set(data.augment) & set(MIXING)
        mixup_alpha = data.mixup_alpha if "mixup" in names else None
        cutmix_alpha = data.cutmix_alpha if "cutmix" in names else None

        def transform(images, labels, seed):
            images = tf.cast(images, tf.float32)
            seeds = tf.random.experimental.stateless_split(seed, 2)
            if augment is not None:
                images = augment(images, seeds[0])
            if names:
                images, labels = mix_batch(images, labels, seeds[1], num_classes=classes,
                                           mixup_alpha=mixup_alpha, cutmix_alpha=cutmix_alpha)
            return images, labels

        return transform

    def build_inputs(
        self, data: PreparedData, split: str, input_context=None, *, per_replica_batch: int,
        training: bool, epoch: int = 0, epochs: int = 1, skip_global_steps: int = 0,
        take_global_steps: int | None = None, deterministic: bool = True,
    ):
        import tensorflow as tf

        from kerazoo.recipes.data import make_pipeline

        def prepare(image, label):
            return tf.cast(image, tf.float32), label

        dataset = make_pipeline(
            data.splits[split], per_replica_batch=per_replica_batch, training=training,
            seed=self.config.data.seed, epoch=epoch, epochs=epochs, input_context=input_context,
            skip_global_steps=skip_global_steps, take_global_steps=take_global_steps,
            shuffle_buffer=self.config.data.shuffle_buffer,
            cache=self.config.data.cache,
            # Training casts whole batches (with augmentation); evaluation casts per example.
            prepare=None if training else prepare,
            batch_augment=self._batch_transform(len(data.class_names)) if training else None,
            deterministic=deterministic,
        )
        if training and "rand_augment" in self.config.data.augment:
            import keras

            layer = keras.layers.RandAugment(value_range=(0, 255), seed=self.config.data.seed)
            dataset = dataset.map(lambda x, y: (layer(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        return dataset

    # ----- model -----
    def build_features(self, data: PreparedData, trained=None):
        """Raw pixels in; out, what the zoo model takes.

        In order: channel conversion and resizing where the backbone was made for another
        shape (``model.init`` or ``model.weights``), then the backbone's preprocessing.
        """
        import keras

        from kerazoo.registry import registry

        cfg = self.config.model
        shape, _ = data.feature_spec
        inputs = keras.Input(shape, name="images")
        if trained is not None:
            base = self.init_base_model(trained)
            x = adapt_images(inputs, self._init_shape(base))
            if _rescales_inside(base):
                # A preset that takes 0..255 pixels itself (simple_cnn_digits): rescaling here too
                # would shrink its inputs a second time.
                return inputs, keras.layers.Identity(name="rescale")(x)
            preprocessing = registry("models").get(self.zoo_model_name()).metadata.get(
                "preprocessing") or {}
        elif cfg.weights:
            from kerazoo import zoo

            x = adapt_images(inputs, pretrained_shape(shape))
            preprocessing = zoo.preprocessing_for(self.zoo_model_name(), cfg.weights)
        else:
            x = inputs
            # The registry entry, not zoo.model_config: that one also reads every shipped preset.
            preprocessing = registry("models").get(self.zoo_model_name()).metadata.get(
                "preprocessing") or {}
        return inputs, preprocess(x, preprocessing)

    def _init_shape(self, base) -> tuple:
        """The image shape the ``model.init`` backbone takes; ``()`` when it takes no images (the
        shape check of ``build_model`` then refuses it in one line)."""
        from kerazoo.recipes.classification import init_record

        expected = tuple(base.input_shape[1:])
        task = init_record(self.config.model.init).get("task")
        if task not in (None, self.name):
            raise ConfigError(
                f"Config key 'model.init': {self.config.model.init} was trained by the {task} "
                f"recipe; {self.name} fine-tunes image models (a zoo image preset or an "
                f"{self.name} run).")
        return expected if len(expected) == 3 and expected[-1] in (1, 3) else ()

    def zoo_kwargs(self, data: PreparedData, feature_shape: tuple) -> dict:
        weights = self.config.model.weights
        return {"weights": weights} if weights else {}

    # ----- prediction and serving -----
    def input_description(self, data: PreparedData) -> str:
        shape, dtype = data.feature_spec
        return (f"{shape} {dtype}; the SavedModel in `export/` resizes images of any size and "
                "also takes encoded JPEG/PNG bytes (`serving_bytes`)")

    def read_inputs(self, model, inputs):
        import tensorflow as tf

        from kerazoo.errors import DataError

        height, width, channels = (int(d) for d in model.input_shape[1:])
        images = []
        for name in inputs:
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
        return np.stack(images)

    def serving_signatures(self, model, class_names):
        from kerazoo.recipes.export import image_signatures

        return image_signatures(model, class_names)


#: ITU-R 601 luma weights, as tf.image.rgb_to_grayscale.
LUMA = (0.2989, 0.5870, 0.1140)
#: The smallest side ImageNet backbones take (keras.applications' own minimum).
MIN_PRETRAINED_SIDE = 32


def pretrained_shape(shape) -> tuple[int, int, int]:
    """The input shape of an ImageNet backbone for images of ``shape``: RGB, sides >= 32."""
    height, width = (int(v) for v in shape[:2])
    return (max(height, MIN_PRETRAINED_SIDE), max(width, MIN_PRETRAINED_SIDE), 3)


def _fixed_linear(x, matrix, name):
    """A frozen 1x1 linear map of the channels (a Keras ``Dense`` on the last axis): channel
    conversions with built-in, safely loadable layers."""
    import keras

    layer = keras.layers.Dense(len(matrix[0]), use_bias=False, trainable=False, dtype="float32",
                               name=name)
    out = layer(x)
    layer.kernel.assign(np.asarray(matrix, "float32"))
    return out


def adapt_images(x, target):
    """Convert ``[H, W, C]`` images to ``target`` inside the model; unchanged when ``target`` is
    ``()`` or already ``x``'s shape.

    Channels: 1 -> 3 repeats the gray channel; 3 -> 1 is the luma (ITU-R 601, as
    ``tf.image.rgb_to_grayscale``). Sides: shrinking by whole factors (32 -> 8) averages the
    pixel blocks; other sizes are resized bilinearly (antialiased when shrinking). Other channel
    counts are left alone for the caller's shape check to refuse.

    Example:

    >>> import keras
    >>> adapt_images(keras.Input((32, 32, 3)), (8, 8, 1)).shape
    (None, 8, 8, 1)
    """
    import keras

    if not target:
        return x
    height, width, channels = target
    have = x.shape[-1]
    if have != channels:
        if (have, channels) == (1, 3):
            x = keras.layers.Concatenate(name="gray_to_rgb", dtype="float32")([x, x, x])
        elif (have, channels) == (3, 1):
            x = _fixed_linear(x, [[w] for w in LUMA], "rgb_to_gray")
    have_h, have_w = x.shape[1:3]
    if None in (height, width, have_h, have_w) or (have_h, have_w) == (height, width):
        return x
    if have_h % height == 0 and have_w % width == 0:
        # Shrinking by whole factors: the exact box average, a TFLite builtin (the antialiased
        # resize is ScaleAndTranslate, which TFLite runs only with select TF ops).
        return keras.layers.AveragePooling2D((have_h // height, have_w // width), dtype="float32",
                                             name="resize")(x)
    shrinking = height < have_h or width < have_w
    return keras.layers.Resizing(int(height), int(width), antialias=shrinking, dtype="float32",
                                 name="resize")(x)


def preprocess(x, preprocessing: dict):
    """A zoo model's preprocessing as layers: ``channel_order`` ``BGR`` (flip the channels),
    then ``x * rescale``, then ``(x - mean) / std`` where ``mean`` is given (``std`` 1 if not).

    Example:

    >>> import keras
    >>> preprocess(keras.Input((32, 32, 3)), {"rescale": 1 / 255}).shape
    (None, 32, 32, 3)
    """
    import keras

    if preprocessing.get("channel_order") == "BGR":
        x = _fixed_linear(x, np.eye(3)[::-1].tolist(), "rgb_to_bgr")
    x = keras.layers.Rescaling(float(preprocessing.get("rescale") or 1.0), name="rescale")(x)
    mean, std = preprocessing.get("mean"), preprocessing.get("std")
    if mean is not None:
        std = std if std is not None else [1.0] * len(mean)
        x = keras.layers.Normalization(
            mean=list(mean), variance=[s * s for s in std], name="normalize")(x)
    return x


def _rescales_inside(zoo_model) -> bool:
    """Whether the zoo model's backbone starts with its own ``Rescaling`` (raw pixels in)."""
    import keras

    try:
        layers = zoo_model.get_layer("backbone").layers
    except ValueError:
        return False
    first = next((layer for layer in layers if not isinstance(layer, keras.layers.InputLayer)),
                 None)
    return isinstance(first, keras.layers.Rescaling)
