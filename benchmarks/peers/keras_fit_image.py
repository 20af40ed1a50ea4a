"""The plain Keras script a user writes for the image recipe's data and zoo model.

The same splits the recipe reads (the embedded digits splits, or a class-per-folder tree split
70/10/20 by the recipe's own stratified ``split_indices`` with its default seed: the same test
images), the same zoo model, optimizer (Adam 3e-3), batch (32) and epochs (25); ``model.fit`` with the validation split, then
``model.evaluate`` on the test split. Prints one JSON line ``{"test_accuracy": ...}``.

Usage: python benchmarks/peers/keras_fit_image.py (--digits | --folder DIR) [--epochs 25] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def digits_splits():
    from kerazoo.recipes.embedded import digits

    return digits.load()


def folder_splits(root: str, seed: int = 0):
    """The recipe's split of a class-per-folder tree: the same files in the same order, the same
    stratified ``split_indices`` (validation 0.1, test 0.2, ``data.seed`` 0), so both sides are
    scored on the same test images and the comparison measures the training, not the split."""
    from PIL import Image

    from kerazoo.recipes.data import split_indices

    classes = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [(f, label) for label, c in enumerate(classes) for f in sorted(c.glob("*.png"))]
    labels = np.asarray([label for _, label in files], np.int64)
    parts = split_indices(labels, {"validation": 0.1, "test": 0.2}, seed)
    splits = {}
    for name, index in parts.items():
        images = np.stack([np.asarray(Image.open(files[i][0]).convert("RGB")) for i in index])
        splits[name] = (images, labels[index])
    return splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--digits", action="store_true")
    source.add_argument("--folder")
    parser.add_argument("--model", default="simple_cnn")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras

    from kerazoo import zoo

    keras.utils.set_random_seed(args.seed)
    splits = digits_splits() if args.digits else folder_splits(args.folder)
    (x, y), (vx, vy), (tx, ty) = (splits[s] for s in ("train", "validation", "test"))
    scale = lambda images: images.astype("float32") / 255.0  # noqa: E731
    model = zoo.build(args.model, input_shape=x.shape[1:], num_classes=int(y.max()) + 1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(scale(x), y, batch_size=32, epochs=args.epochs,
              validation_data=(scale(vx), vy), verbose=0)
    _, accuracy = model.evaluate(scale(tx), ty, batch_size=256, verbose=0)
    print(json.dumps({"test_accuracy": float(accuracy), "test_examples": int(len(ty))}))


if __name__ == "__main__":
    main()
