"""Precise BN wired into the trainer: a short recipe run infers at its training accuracy.

Moving BatchNorm statistics (momentum 0.99) lag the weights on short runs: 2 epochs of digits
trained to 0.91 tested at 0.156, and 8 epochs on a small generated folder trained to 0.90 tested
at 0.35. The trainer recomputes them over ``train.precise_bn_batches`` fixed training batches
after each epoch, so validation, the final evaluation and the export see statistics of the
final weights.
"""

import csv
import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only


def _train_and_test_accuracy(run_dir, *overrides):
    from kerazoo.recipes import api

    api.train("image_classification", run_dir, overrides=list(overrides), export=False,
              verbose=False)
    with open(run_dir / "metrics.csv", newline="") as stream:
        last = list(csv.DictReader(stream))[-1]
    report = json.loads((run_dir / "evaluation.json").read_text())
    return float(last["accuracy"]), report["accuracy"]


def _shapes_folder(root, per_class=60, size=32, seed=0):
    """4 classes of noisy coloured shapes at random places (as the benchmark's folder)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for name in ("circle", "square", "triangle", "cross"):
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 120, 3)))
            draw = ImageDraw.Draw(image)
            colour = tuple(int(v) for v in rng.integers(130, 256, 3))
            r = int(rng.integers(6, 11))
            cx, cy = (int(v) for v in rng.integers(r + 1, size - r - 1, 2))
            box = (cx - r, cy - r, cx + r, cy + r)
            if name == "circle":
                draw.ellipse(box, fill=colour)
            elif name == "square":
                draw.rectangle(box, fill=colour)
            elif name == "triangle":
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            else:
                draw.line(box, fill=colour, width=3)
                draw.line((cx - r, cy + r, cx + r, cy - r), fill=colour, width=3)
            pixels = np.asarray(image, np.int16) + rng.normal(0, 12, (size, size, 3))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
                root / name / f"{index:03d}.png")
    return root


def test_two_epoch_digits_run_infers_at_its_training_accuracy(tmp_path):
    train_accuracy, test_accuracy = _train_and_test_accuracy(tmp_path / "run", "train.epochs=2")
    assert train_accuracy > 0.8, train_accuracy
    # Training accuracy is an epoch average under augmentation: the test may exceed it.
    assert test_accuracy >= train_accuracy - 0.05, (train_accuracy, test_accuracy)


@pytest.mark.slow
def test_short_run_on_a_generated_folder_infers_at_its_training_accuracy(tmp_path):
    folder = _shapes_folder(tmp_path / "shapes")
    train_accuracy, test_accuracy = _train_and_test_accuracy(
        tmp_path / "run", f"data.source=folder:{folder}", "train.epochs=8",
        "data.test_fraction=0.25")
    assert train_accuracy > 0.7, train_accuracy
    # 60 test images: one image is 1.7 points.
    # Training accuracy is an epoch average under augmentation: the test may exceed it.
    assert test_accuracy >= train_accuracy - 0.05, (train_accuracy, test_accuracy)
