"""Rebuild the presets shipped inside kerazoo: ``python -m kerazoo.zoo.make_presets``.

``simple_cnn_digits``: a small ``simple_cnn`` trained on scikit-learn's 8x8 handwritten digits
(1,797 images from UCI, CC BY 4.0, bundled with scikit-learn so training needs no download).
Needs scikit-learn (the ``dev`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras

from kerazoo import zoo
from kerazoo.zoo.presets import SHIPPED_DIR

COMMAND = "python -m kerazoo.zoo.make_presets"


def digits_splits(seed: int = 0):
    """Digits as ``[8, 8, 1]`` floats in ``[0, 1]`` (pixels are 0..16), 80/20 stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = (data.images / 16.0).astype("float32")[..., None]
    return train_test_split(
        images, data.target.astype("int32"), test_size=0.2, random_state=seed,
        stratify=data.target,
    )


def make_simple_cnn_digits(target: Path, epochs: int = 30) -> Path:
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = digits_splits()
    model = zoo.build(
        "simple_cnn", input_shape=(8, 8, 1), num_classes=10, filters=(16, 32), hidden_units=(64,)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    metadata = {
        "name": "simple_cnn_digits",
        "summary": "simple_cnn (16/32 filters, 64 hidden) trained on 8x8 handwritten digits.",
        "dataset": "scikit-learn load_digits (UCI optical digits, 1,797 8x8 images), "
        "80/20 stratified split, random_state=0; pixels / 16",
        "metrics": {"test_accuracy": round(float(accuracy), 4), "test_samples": len(y_test)},
        "training_command": COMMAND,
        "training": f"Adam 3e-3, batch 32, {epochs} epochs, seed 0",
        "license": "Apache-2.0 (weights); data CC BY 4.0",
        "preprocessing": {"input": "image", "rescale": 1 / 16, "note": "digits pixels are 0..16"},
    }
    return zoo.save_to_preset(model, target, metadata=metadata, overwrite=True)


def main() -> int:
    folder = make_simple_cnn_digits(SHIPPED_DIR / "simple_cnn_digits")
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
