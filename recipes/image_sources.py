"""Image sources for the image-classification recipe: embedded ``digits``, ``tfds:NAME``,
``folder:PATH``. Each returns :class:`~kerazoo.recipes.task.PreparedData` of uint8 images, after
checking everything a user can get wrong, with one-line errors naming the file or key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from kerazoo.errors import DataError
from kerazoo.recipes.data import split_indices
from kerazoo.recipes.task import PreparedData

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _from_arrays(splits, class_names, info) -> PreparedData:
    datasets = {
        name: tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int64)))
        for name, (images, labels) in splits.items()
    }
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    shape = tuple(int(d) for d in splits["train"][0].shape[1:])
    return PreparedData(datasets, sizes, list(class_names), (shape, "uint8"), info)


def load_digits() -> PreparedData:
    from kerazoo.recipes.embedded import digits

    return _from_arrays(
        digits.load(), digits.CLASS_NAMES,
        {"source": "digits", "license": "CC BY 4.0", "card": "kerazoo/recipes/embedded/data/digits.md"},
    )


def load_folder(
    path: str, *, image_size, channels, validation_fraction: float, test_fraction: float, seed: int
) -> PreparedData:
    """Class-per-subfolder images (``image_dataset_from_directory`` layout), every file checked."""
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"Image folder not found: {root}")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class subfolders (expected {root}/CLASS/IMAGE.png).")
    if len(class_dirs) < 2:
        raise DataError(
            f"{root}: only one class ('{class_dirs[0].name}'); a classifier needs at least two."
        )
    files, labels, modes, sizes = [], [], {}, {}
    for label, class_dir in enumerate(class_dirs):
        images = sorted(
            p for p in class_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not images:
            raise DataError(
                f"{class_dir}: empty class folder (no {'/'.join(IMAGE_EXTENSIONS)} files)."
            )
        for image_path in images:
            try:
                with Image.open(image_path) as image:
                    image.load()  # decodes every pixel: catches truncated files, not just headers
                    mode, size = image.mode, image.size
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
                raise DataError(f"{image_path}: unreadable image ({error}).") from None
            modes.setdefault("gray" if mode in ("L", "LA", "1", "I", "I;16", "F") else "color",
                             image_path)
            sizes.setdefault((size[1], size[0]), image_path)
            files.append(str(image_path))
            labels.append(label)
    if channels is None:
        if len(modes) > 1:
            raise DataError(
                f"{root}: mixed grayscale ({modes['gray']}) and color ({modes['color']}) images; "
                "choose with --set data.channels=1 or data.channels=3."
            )
        channels = 1 if "gray" in modes else 3
    if image_size is None:
        if len(sizes) > 1:
            (a, first), (b, second) = list(sizes.items())[:2]
            raise DataError(
                f"{root}: images of different sizes ({first}: {a[0]}x{a[1]}, {second}: "
                f"{b[0]}x{b[1]}); set --set data.image_size=[H,W]."
            )
        image_size = next(iter(sizes))
    height, width = (int(v) for v in image_size)
    labels_array = np.asarray(labels, np.int64)
    fractions = {"validation": validation_fraction, "test": test_fraction}
    indices = split_indices(labels_array, fractions, seed)
    files_array = np.asarray(files)

    def decode(file, label):
        image = tf.io.decode_image(
            tf.io.read_file(file), channels=channels, expand_animations=False
        )
        image = tf.image.resize(image, (height, width), antialias=False)
        image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
        return tf.ensure_shape(image, (height, width, channels)), label

    datasets, counts = {}, {}
    for name, index in indices.items():
        datasets[name] = tf.data.Dataset.from_tensor_slices(
            (files_array[index], labels_array[index])
        ).map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        counts[name] = len(index)
    return PreparedData(
        datasets, counts, [d.name for d in class_dirs], ((height, width, channels), "uint8"),
        {"source": f"folder:{root}"},
    )


def load_tfds(
    name: str, *, data_dir, download: bool, image_size, channels, validation_fraction: float
) -> PreparedData:
    """A TFDS image-classification dataset; offline without ``download`` it fails at once."""
    from kerazoo.recipes import tfds_sources

    builder = tfds_sources.builder(name, data_dir)
    features = tfds_sources.require_features(builder, name, ("image", "label"),
                                             "image-classification")
    class_names = list(features["label"].names)
    shape = tuple(features["image"].shape)
    ch = channels or shape[-1]
    if image_size is None and None in shape[:2]:
        raise DataError(f"tfds:{name} has images of varying size; set --set data.image_size=[H,W].")
    height, width = (int(v) for v in (image_size or shape[:2]))

    def fix(image, label):
        if image.shape[-1] != ch:
            image = tf.image.grayscale_to_rgb(image) if ch == 3 else tf.image.rgb_to_grayscale(image)
        if (height, width) != tuple(shape[:2]):
            image = tf.cast(tf.round(tf.image.resize(image, (height, width))), tf.uint8)
        return tf.ensure_shape(image, (height, width, ch)), tf.cast(label, tf.int64)

    datasets, sizes = tfds_sources.split_datasets(
        builder, name, data_dir=data_dir, download=download,
        validation_fraction=validation_fraction, convert=fix,
    )
    return PreparedData(datasets, sizes, class_names, ((height, width, ch), "uint8"),
                        {"source": f"tfds:{name}"})
