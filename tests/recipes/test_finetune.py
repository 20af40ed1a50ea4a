"""Fine-tuning: --init preset:/run: with a new head, --freeze-backbone, two-phase unfreezing."""

import csv

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

FAST = ["train.batch_size=8", "train.steps_per_epoch=4", "train.schedule=constant",
        "train.learning_rate=0.01", "data.augment=[]"]


@pytest.fixture(scope="module")
def three_digits(tmp_path_factory):
    """A ``folder:`` dataset of real 8x8 digits 0, 1, 2 as grayscale PNGs (a new label set)."""
    from PIL import Image

    from kerazoo.recipes.embedded import digits

    images, labels = digits.load()["train"]
    root = tmp_path_factory.mktemp("data") / "three"
    for digit, name in enumerate(("zero", "one", "two")):
        folder = root / name
        folder.mkdir(parents=True)
        for index in np.flatnonzero(labels == digit)[:20]:
            Image.fromarray(images[index][..., 0]).save(folder / f"{index}.png")
    return root


def _train(run_dir, data, *overrides):
    import keras

    from kerazoo.recipes import api

    api.train("image_classification", run_dir, verbose=False, export=False,
              overrides=[f"data.source=folder:{data}", *FAST, *overrides])
    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def _weights(model, part):
    return [np.asarray(v.numpy()) for v in model.get_layer(part).weights]


def _preset_backbone():
    from kerazoo import zoo

    return _weights(zoo.from_preset("simple_cnn_digits"), "backbone")


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_preset_init_gets_a_new_head_for_new_classes(three_digits):
    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("image_classification", None, [
        f"data.source=folder:{three_digits}", "model.init=preset:simple_cnn_digits"])
    task = get_task("image_classification")(config)
    data = task.prepare_data()
    inner = task.inner_model(task.build_model(data))
    assert inner.output.shape[-1] == 3 and data.class_names == ["one", "two", "zero"]
    assert _same(_weights(inner, "backbone"), _preset_backbone())
    assert inner.get_layer("backbone").trainable


def test_freeze_backbone_leaves_backbone_bit_identical(three_digits, tmp_path):
    from kerazoo import zoo
    from kerazoo.cli import main

    run_dir = tmp_path / "frozen"
    code = main(["train", "image_classification", "--data", f"folder:{three_digits}",
                 "--init", "preset:simple_cnn_digits", "--freeze-backbone", "--epochs", "2",
                 "--run-dir", str(run_dir), *sum((["--set", item] for item in FAST), [])])
    assert code == 0
    import keras

    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    inner = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    assert _same(_weights(inner, "backbone"), _preset_backbone())  # BN statistics included
    fresh_head = _weights(zoo.replace_head(zoo.from_preset("simple_cnn_digits"), 3), "head")
    assert [w.shape for w in _weights(inner, "head")] == [w.shape for w in fresh_head]
    assert not _same(_weights(inner, "head"), fresh_head)
    assert np.abs(_weights(inner, "head")[-1]).sum() > 0  # the new bias moved off zero


def test_two_phase_unfreezes_after_the_boundary_at_the_lower_rate(three_digits, tmp_path):
    # Early stopping off: its best-epoch restore could hand back the frozen epoch's weights.
    phase = ["model.init=preset:simple_cnn_digits", "model.freeze_backbone=true",
             "train.unfreeze_epoch=1", "train.unfreeze_learning_rate_factor=0.1",
             "train.early_stopping_patience=null"]
    head_only = _train(tmp_path / "one", three_digits, "train.epochs=1", *phase)
    both = _train(tmp_path / "two", three_digits, "train.epochs=2", *phase)
    preset = _preset_backbone()
    assert _same(_weights(head_only, "backbone"), preset)
    assert not _same(_weights(both, "backbone"), preset)
    with open(tmp_path / "two" / "metrics.csv") as stream:
        rates = [float(row["learning_rate"]) for row in csv.DictReader(stream)]
    # Column = rate at the epoch's last step; epoch 2 is past the boundary.
    np.testing.assert_allclose(rates, [0.01, 0.001], rtol=1e-6)


def test_two_phase_learning_rate_switches_exactly_at_the_boundary():
    from kerazoo.recipes.config import TrainConfig
    from kerazoo.recipes.optimization import build_optimizer

    train = TrainConfig(schedule="constant", learning_rate=0.5, unfreeze_learning_rate_factor=0.2)
    schedule = build_optimizer(train, total_steps=20, unfreeze_step=8)._learning_rate
    rates = [float(schedule(step)) for step in (0, 7, 8, 19)]
    np.testing.assert_allclose(rates, [0.5, 0.5, 0.1, 0.1], rtol=1e-6)


def test_init_from_a_finished_run(three_digits, tmp_path):
    from kerazoo.errors import ConfigError
    from kerazoo.recipes.api import get_task, resolve_config

    first = _train(tmp_path / "first", three_digits, "train.epochs=1")
    config = resolve_config("image_classification", None, [
        "data.source=digits", f"model.init=run:{tmp_path / 'first'}"])
    task = get_task("image_classification")(config)
    data = task.prepare_data()
    inner = task.inner_model(task.build_model(data))
    assert inner.output.shape[-1] == 10
    assert _same(_weights(inner, "backbone"), _weights(first, "backbone"))
    config.model.init = f"run:{tmp_path / 'missing'}"
    with pytest.raises(ConfigError, match="model.init': no trained model"):
        task.build_model(data)


# ----- fine-tuning across shapes (issue 21) -----

def _rgb32(image):
    """An 8x8 gray digit as a 32x32 RGB picture: each pixel a 4x4 block, ink slightly tinted."""
    big = np.kron(image[..., 0].astype("float32"), np.ones((4, 4), "float32"))
    return np.clip(np.stack([big, big * 0.96, big * 0.9], -1), 0, 255).astype("uint8")


@pytest.fixture(scope="module")
def digits_rgb32(tmp_path_factory):
    """A ``folder:`` dataset of real digits 0-9 redrawn as 32x32 RGB PNGs (6 per class): the
    preset's label set on inputs of another size and channel count."""
    from PIL import Image

    from kerazoo.recipes.embedded import digits

    images, labels = digits.load()["test"]
    root = tmp_path_factory.mktemp("data") / "rgb32"
    for digit in range(10):
        (root / str(digit)).mkdir(parents=True)
        for index in np.flatnonzero(labels == digit)[:6]:
            Image.fromarray(_rgb32(images[index])).save(root / str(digit) / f"{index}.png")
    return root


def test_the_digits_preset_reads_32x32_rgb_inside_the_model_and_keeps_its_head(digits_rgb32):
    import keras

    from kerazoo import zoo
    from kerazoo.recipes.api import get_task, resolve_config
    from kerazoo.recipes.embedded import digits

    config = resolve_config("image_classification", None, [
        f"data.source=folder:{digits_rgb32}", "model.init=preset:simple_cnn_digits"])
    task = get_task("image_classification")(config)
    data = task.prepare_data()
    model = task.build_model(data)
    assert model.input_shape == (None, 32, 32, 3)
    assert [layer.name for layer in model.layers[1:3]] == ["rgb_to_gray", "resize"]
    preset = zoo.from_preset("simple_cnn_digits")
    inner = task.inner_model(model)
    assert _same(_weights(inner, "head"), _weights(preset, "head"))  # same labels: head kept
    images, labels = digits.load()["test"]
    recipe = np.argmax(keras.ops.convert_to_numpy(
        model(np.stack([_rgb32(i) for i in images[:100]]).astype("float32"))), -1)
    original = np.argmax(keras.ops.convert_to_numpy(preset(images[:100].astype("float32"))), -1)
    # Gray and 8x8 again inside the model (luma of a tint, antialiased resizing of 4x4 blocks):
    # not bit-exact, but the preset answers as on the original digits.
    assert np.mean(recipe == original) >= 0.9 and np.mean(recipe == labels[:100]) >= 0.9


def test_a_permuted_label_set_keeps_the_head_reordered():
    import keras

    from kerazoo import zoo
    from kerazoo.recipes.classification import keep_head

    preset = zoo.from_preset("simple_cnn_digits")
    images = np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 1)).astype("float32")
    before = keras.ops.convert_to_numpy(preset(images))
    names = [str(d) for d in (3, 1, 4, 0, 5, 9, 2, 6, 8, 7)]
    kept = keep_head(preset, [str(d) for d in range(10)], names)
    assert kept is preset
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kept(images)),
                               before[:, [int(n) for n in names]], rtol=1e-6)
    assert keep_head(zoo.from_preset("simple_cnn_digits"), [str(d) for d in range(10)],
                     ["0", "1"]) is None


def test_fine_tune_across_shapes_in_one_command_exports_a_serving_model(digits_rgb32, tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo.cli import main

    run = tmp_path / "run"
    code = main(["train", "image_classification", "--data", f"folder:{digits_rgb32}",
                 "--init", "preset:simple_cnn_digits", "--epochs", "2", "--run-dir", str(run),
                 *sum((["--set", item] for item in FAST), [])])
    assert code == 0
    model = keras.saving.load_model(run / "model.keras", compile=False)
    pixels = np.stack([_rgb32(np.full((8, 8, 1), v, "uint8")) for v in (0, 90, 200)])
    pixels[:, 8:24, 12:20] = 255  # a bar: something digit-like
    expected = keras.ops.convert_to_numpy(
        keras.ops.softmax(model(pixels.astype("float32"), training=False)))
    served = tf.saved_model.load(str(run / "export" / "1")).signatures["serving_default"](
        images=tf.constant(pixels))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert set(served["labels"].numpy().astype(str)) <= {str(d) for d in range(10)}
    # The conversion layers are TFLite builtins (no select TF ops needed).
    from kerazoo.serving.tflite import run_tflite

    assert main(["export", str(run), "--format", "tflite"]) == 0
    tflite = sorted((run / "export").glob("*.tflite"))[-1]
    got = run_tflite(str(tflite), {"images": pixels})
    np.testing.assert_allclose(got["probabilities"], served["probabilities"].numpy(), atol=1e-5)


def test_init_from_a_model_of_another_recipe_is_refused_in_one_line(three_digits):
    from kerazoo.errors import ConfigError
    from kerazoo.recipes.api import get_task, resolve_config

    config = resolve_config("image_classification", None, [
        f"data.source=folder:{three_digits}", "model.init=preset:sentiment_bilstm_embedded"])
    task = get_task("image_classification")(config)
    with pytest.raises(ConfigError, match="trained by the sentiment_analysis recipe") as error:
        task.build_model(task.prepare_data())
    assert "\n" not in str(error.value)
