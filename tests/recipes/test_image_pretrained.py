"""The image recipe on ImageNet-pretrained backbones (``model.weights=imagenet``), offline.

Keras's published weight files cannot be downloaded here, so each test writes random
``keras.applications`` weights in the published layout (legacy ``.h5``, as
``tests/zoo/test_pretrained.py`` does) under the published file name in a temporary
``KERAS_HOME``, with the table's hash changed to that file's md5: the recipe then goes through
Keras's own ``get_file`` cache path (one test downloads it from a loopback HTTP server instead).
Offline (no file, an unreachable URL) the command must fail in one line before anything is
written.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

FAST = ["--epochs", "1", "--batch-size", "4", "--set", "train.steps_per_epoch=2",
        "--set", "train.precise_bn_batches=0", "--set", "data.augment=[]",
        "--set", "train.early_stopping_patience=null"]


def _publish(keras_home, monkeypatch, name, architecture, size=32, folder=None):
    """Random weights of ``keras.applications.ARCHITECTURE`` in the published layout, in Keras's
    cache (or in ``folder``, to be served)."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    from kerazoo.zoo import applications

    reference = getattr(keras.applications, architecture)(
        include_top=False, weights=None, input_shape=(size, size, 3))
    rng = np.random.default_rng(0)
    for variable in reference.weights:
        shape = tuple(variable.shape)
        value = (rng.uniform(0.5, 1.5, shape) if "variance" in variable.path
                 else rng.normal(0.0, 0.05, shape) + (1.0 if "gamma" in variable.path else 0.0))
        variable.assign(value.astype(variable.dtype))
    published = applications.IMAGENET_WEIGHTS[name]
    path = (folder or keras_home / "models") / published.file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, reference)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 (Keras publishes md5s)
    monkeypatch.setitem(applications.IMAGENET_WEIGHTS, name, applications.PublishedWeights(
        published.file_name, published.folder, md5))
    return reference


@pytest.fixture()
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


@pytest.fixture(scope="module")
def rgb_folder(tmp_path_factory):
    """A ``folder:`` dataset of 24 generated 32x32 RGB images in 3 classes (colour blobs)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("data") / "rgb"
    rng = np.random.default_rng(0)
    for label, name in enumerate(("red", "green", "blue")):
        (root / name).mkdir(parents=True)
        for index in range(8):
            image = rng.integers(0, 80, (32, 32, 3))
            image[8:24, 8:24, label] = 255
            Image.fromarray(image.astype("uint8")).save(root / name / f"{index}.png")
    return root


def _inner(model):
    import keras

    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def test_one_command_fine_tunes_the_pretrained_head(rgb_folder, keras_home, monkeypatch,
                                                    tmp_path):
    """The fast end-to-end check (no export: exporting a keras.applications graph takes most of
    the slow test's time)."""
    import keras

    from kerazoo.cli import main

    reference = _publish(keras_home, monkeypatch, "mobilenetv3_small", "MobileNetV3Small")
    run = tmp_path / "run"
    code = main(["train", "image_classification", "--data", f"folder:{rgb_folder}",
                 "--model", "mobilenetv3_small", "--set", "model.weights=imagenet",
                 "--run-dir", str(run), "--no-export", *FAST])
    assert code == 0
    inner = _inner(keras.saving.load_model(run / "model.keras", compile=False))
    for ours, theirs in zip(inner.get_layer("backbone").weights, reference.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert inner.output.shape[-1] == 3
    assert np.abs(inner.get_layer("head").weights[-1].numpy()).sum() > 0  # the head trained
    assert json.loads((run / "labels.json").read_text()) == ["blue", "green", "red"]


@pytest.mark.slow  # 111-211 s at load 5-9 (the export traces EfficientNetV2 for two signatures)
def test_one_command_trains_exports_and_serves_raw_pixels(rgb_folder, keras_home, monkeypatch,
                                                          tmp_path):
    import keras
    import tensorflow as tf

    from kerazoo.cli import main

    reference = _publish(keras_home, monkeypatch, "efficientnetv2_b0", "EfficientNetV2B0")
    run = tmp_path / "run"
    code = main(["train", "image_classification", "--data", f"folder:{rgb_folder}",
                 "--model", "efficientnetv2_b0", "--set", "model.weights=imagenet",
                 "--run-dir", str(run), *FAST])
    assert code == 0
    config = (run / "config.yaml").read_text()
    # Pretrained weights: frozen first; with 1 epoch the backbone never unfreezes.
    assert "freeze_backbone: true" in config and "unfreeze_epoch: 1" in config
    model = keras.saving.load_model(run / "model.keras", compile=False)
    backbone = _inner(model).get_layer("backbone")
    for ours, theirs in zip(backbone.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # BN statistics included

    pixels = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3)).astype("uint8")
    expected = keras.ops.convert_to_numpy(
        keras.ops.softmax(model(pixels.astype("float32"), training=False)))
    served = tf.saved_model.load(str(run / "export" / "1")).signatures["serving_default"](
        images=tf.constant(pixels))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert set(served["labels"].numpy().astype(str)) <= {"blue", "green", "red"}
    # The features the backbone sees are keras.applications' own on the same raw pixels.
    features = keras.Model(model.inputs, backbone(model.get_layer("rescale").output))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(features(pixels.astype("float32"))),
        keras.ops.convert_to_numpy(reference(pixels.astype("float32"), training=False)),
        atol=1e-5, rtol=1e-5)


def test_offline_fails_in_one_line_before_anything_is_written(rgb_folder, keras_home,
                                                               monkeypatch, tmp_path, capsys):
    from kerazoo.cli import main
    from kerazoo.zoo import applications

    # Nothing cached, and the "server" is a closed loopback port: what offline looks like.
    monkeypatch.setattr(applications, "KERAS_APPLICATIONS_URL", "http://127.0.0.1:9/")
    out = tmp_path / "out"
    out.mkdir()
    code = main(["train", "image_classification", "--data", f"folder:{rgb_folder}",
                 "--model", "mobilenetv3_small", "--set", "model.weights=imagenet",
                 "--run-dir", str(out / "run"), *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0, err
    file_name = applications.IMAGENET_WEIGHTS["mobilenetv3_small"].file_name
    assert file_name in err and str(keras_home / "models" / file_name) in err
    assert list(out.iterdir()) == []  # no run, no .run.partial


@pytest.fixture()
def loopback(tmp_path):
    """``(base_url, hits)`` of a loopback HTTP server of ``tmp_path/served/FOLDER/FILE``."""
    import functools
    import http.server
    import threading

    root = tmp_path / "served"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0),
                                   functools.partial(Handler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", hits
    httpd.shutdown()
    httpd.server_close()


def test_gray_small_images_become_rgb_32_inside_the_model(keras_home, monkeypatch, loopback):
    import keras

    from kerazoo.recipes import api
    from kerazoo.zoo import applications

    # Downloaded through Keras's get_file from a loopback server, then cached.
    root, base_url, hits = loopback
    published = applications.IMAGENET_WEIGHTS["mobilenetv3_small"]
    (root / published.folder).mkdir()
    reference = _publish(keras_home, monkeypatch, "mobilenetv3_small", "MobileNetV3Small",
                         folder=root / published.folder)
    monkeypatch.setattr(applications, "KERAS_APPLICATIONS_URL", base_url)
    config = api.resolve_config("image_classification", overrides=[
        "model.name=mobilenetv3_small", "model.weights=imagenet", "train.epochs=10"])
    assert config.model.freeze_backbone and config.train.unfreeze_epoch == 2
    task = api.get_task("image_classification")(config)
    data = task.prepare_data()  # digits: 8x8 gray
    model = task.build_model(data)
    inner = _inner(model)
    assert hits == [f"/{published.folder}/{published.file_name}"]
    assert (keras_home / "models" / published.file_name).is_file()
    assert model.input_shape == (None, 8, 8, 1) and inner.input_shape == (None, 32, 32, 3)
    assert not inner.get_layer("backbone").trainable and inner.get_layer("head").trainable
    images = np.asarray(data.splits["test"].batch(4).take(1).get_single_element()[0], "float32")
    rgb = keras.ops.image.resize(np.repeat(images, 3, -1), (32, 32))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(inner.get_layer("backbone")(model.get_layer("resize")(
            model.get_layer("gray_to_rgb")([images] * 3)))),
        keras.ops.convert_to_numpy(reference(rgb, training=False)), atol=1e-5, rtol=1e-5)


def test_resnet50_gets_caffe_bgr_inside_the_model():
    import keras

    from kerazoo import zoo
    from kerazoo.recipes.image_classification import preprocess

    inputs = keras.Input((16, 16, 3))
    layer = keras.Model(inputs, preprocess(inputs, zoo.preprocessing_for("resnet50", "imagenet")))
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(pixels)),
        keras.applications.resnet50.preprocess_input(pixels.copy()), atol=1e-4)


@pytest.mark.parametrize(("overrides", "message"), [
    (["model.name=resnet20", "model.weights=imagenet"],
     "model.weights': resnet20 has no 'imagenet' weights"),
    (["model.name=mobilenetv3_small", "model.weights=imagenet",
      "model.init=preset:simple_cnn_digits"], "both set the starting weights"),
])
def test_bad_weights_settings_are_refused_in_one_line(overrides, message):
    from kerazoo.errors import ConfigError
    from kerazoo.recipes import api

    with pytest.raises(ConfigError, match=message) as error:
        api.resolve_config("image_classification", overrides=overrides)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("task", ["sentiment_analysis", "speech_commands",
                                  "time_series_forecasting"])
def test_recipes_without_pretrained_backbones_refuse_the_key(task):
    from kerazoo.errors import ConfigError
    from kerazoo.recipes import api

    with pytest.raises(ConfigError, match=f"'model.weights' is not used by the {task} recipe"):
        api.resolve_config(task, overrides=["model.weights=imagenet"])


def test_without_weights_nothing_is_frozen():
    from kerazoo.recipes import api

    config = api.resolve_config("image_classification")
    assert config.model.freeze_backbone is False and config.train.unfreeze_epoch is None
    json.dumps(config.model.__dict__)  # the resolved config stays plain data
