"""ImageNet weights in the zoo, offline: exactness against keras.applications, and the download.

Keras publishes its ImageNet weights as legacy ``.h5`` files that ``keras.applications`` loads
with ``model.load_weights(path)``, matched by topology. Here ``keras.applications.X(weights=None)``
gets random weights (BatchNormalization statistics included), writes them in that layout under
the published file name, and the same file goes through ``zoo.build(name, weights="imagenet")``
(the cache hit path of ``keras.utils.get_file``); the outputs must agree to 1e-5.

The download path is served from a loopback HTTP server: no test touches the network.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading

import h5py
import keras
import numpy as np
import pytest

from kerazoo import zoo
from kerazoo.errors import ConfigError, KerazooError
from kerazoo.zoo import applications

# Smallest input each architecture takes (32x32 for all), so each case runs in seconds.
SIZE = 32
FAMILIES = {
    "resnet50": "ResNet50",
    "efficientnetv2_b0": "EfficientNetV2B0",
    "efficientnetv2_b1": "EfficientNetV2B1",
    "efficientnetv2_b2": "EfficientNetV2B2",
    "efficientnetv2_b3": "EfficientNetV2B3",
    "mobilenetv3_small": "MobileNetV3Small",
    "mobilenetv3_large": "MobileNetV3Large",
    "convnext_tiny": "ConvNeXtTiny",
    "convnext_small": "ConvNeXtSmall",
}
# One variant per family in the quick run (each takes seconds: three builds, an .h5 round trip);
# the other variants, and ResNet-50 (a 90 MB file), in the full run.
SLOW = {"efficientnetv2_b1", "efficientnetv2_b2", "efficientnetv2_b3", "convnext_small",
        "mobilenetv3_large", "resnet50"}


def _reference(architecture: str, seed: int = 0) -> keras.Model:
    """keras.applications' backbone with random weights everywhere (BN statistics too)."""
    model = getattr(keras.applications, architecture)(
        include_top=False, weights=None, input_shape=(SIZE, SIZE, 3)
    )
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "variance" in variable.path:
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0.0, 0.05, shape) + (1.0 if "gamma" in variable.path else 0.0)
        variable.assign(value.astype(variable.dtype))
    return model


def _write_published_layout(model: keras.Model, path) -> str:
    """Write ``model``'s weights as Keras publishes them (legacy h5); return the file's md5."""
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 (Keras publishes md5s)


@pytest.fixture()
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


def _publish(monkeypatch, name, file_hash, base_url=None):
    published = applications.IMAGENET_WEIGHTS[name]
    monkeypatch.setitem(
        applications.IMAGENET_WEIGHTS, name,
        applications.PublishedWeights(published.file_name, published.folder, file_hash),
    )
    if base_url:
        monkeypatch.setattr(applications, "KERAS_APPLICATIONS_URL", base_url)
    return published


def _marks(name):
    if name in SLOW:
        return [pytest.mark.slow]
    # Loading is h5py and variable.assign on every backend: one family checks it beyond TF.
    return [] if name == "mobilenetv3_small" else [pytest.mark.tf_only]


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in FAMILIES])
def test_published_layout_loads_exactly(name, keras_home, monkeypatch):
    reference = _reference(FAMILIES[name])
    published = applications.IMAGENET_WEIGHTS[name]
    cached = keras_home / "models" / published.file_name
    cached.parent.mkdir(parents=True)
    md5 = _write_published_layout(reference, cached)
    _publish(monkeypatch, name, md5)

    model = zoo.build(name, input_shape=(SIZE, SIZE, 3), num_classes=3, weights="imagenet")

    batch = np.random.default_rng(1).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(reference(batch, training=False))
    features = keras.ops.convert_to_numpy(model.get_layer("backbone")(batch, training=False))
    np.testing.assert_allclose(features, expected, atol=1e-5, rtol=1e-5)
    assert model.output.shape == (None, 3)  # the head is new
    if keras.backend.backend() == "tensorflow":
        # keras.applications itself loads this layout (the check that it is the published one;
        # backend-independent, so checked once).
        again = getattr(keras.applications, FAMILIES[name])(
            include_top=False, weights=None, input_shape=(SIZE, SIZE, 3)
        )
        again.load_weights(str(cached))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(again(batch, training=False)), expected,
            atol=1e-5, rtol=1e-5,
        )


def test_registry_records_weights_and_preprocessing():
    with_imagenet = [n for n in zoo.list_models() if "imagenet" in zoo.model_config(n)["weights"]]
    assert sorted(with_imagenet) == sorted(FAMILIES)
    assert zoo.model_config("resnet20")["weights"] == ()
    for name in FAMILIES:
        config = zoo.model_config(name)
        assert config["paper"] and config["family"] and config["params"] > 0
        prep = zoo.preprocessing_for(name, "imagenet")
        assert prep["input_range"] == (0, 255)
    assert zoo.preprocessing_for("resnet50", "imagenet")["channel_order"] == "BGR"
    assert "Rescaling" in zoo.preprocessing_for("convnext_tiny")["inside_model"]
    with pytest.raises(ConfigError, match="no 'imagenet' weights"):
        zoo.preprocessing_for("resnet20", "imagenet")
    with pytest.raises(ConfigError, match="offers weights none"):
        zoo.build("resnet20", weights="imagenet")


def test_imagenet_weights_need_rgb():
    with pytest.raises(ConfigError, match=r"\[H, W, 3\]"):
        zoo.build("mobilenetv3_small", input_shape=(32, 32, 1))
    with pytest.raises(ConfigError, match="need RGB input"):  # refused before any download
        zoo.build("mobilenetv3_small", input_shape=(32, 32, 1), weights="imagenet")


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    hits: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def served(tmp_path):
    """A loopback server of a generated MobileNetV3-Small no-top file (about 4 MB)."""
    reference = _reference("MobileNetV3Small")
    path = tmp_path / "generated.h5"
    md5 = _write_published_layout(reference, path)
    handler = type("Handler", (_Handler,), {"body": path.read_bytes(), "hits": []})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", md5, handler.hits, reference
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.tf_only  # get_file and h5 loading do not depend on the backend; builds cost
def test_download_is_verified_cached_loaded_and_reused(served, keras_home, monkeypatch):
    base_url, md5, hits, reference = served
    published = _publish(monkeypatch, "mobilenetv3_small", md5, base_url)
    model = zoo.build("mobilenetv3_small", input_shape=(SIZE, SIZE, 3), weights="imagenet")
    assert hits == [f"/mobilenet_v3/{published.file_name}"]
    assert (keras_home / "models" / published.file_name).is_file()
    batch = np.random.default_rng(2).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.get_layer("backbone")(batch)),
        keras.ops.convert_to_numpy(reference(batch)), atol=1e-5, rtol=1e-5,
    )
    zoo.build("mobilenetv3_small", input_shape=(SIZE, SIZE, 3), weights="imagenet")
    assert len(hits) == 1  # the second build used the cache


def test_download_with_the_wrong_hash_is_refused_in_one_line(served, keras_home, monkeypatch):
    base_url, _, hits, _ = served
    published = _publish(monkeypatch, "mobilenetv3_small", "0" * 32, base_url)
    with pytest.raises(KerazooError) as error:
        zoo.build("mobilenetv3_small", input_shape=(SIZE, SIZE, 3), weights="imagenet")
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"Refused {published.file_name}")
    assert str(keras_home / "models" / published.file_name) in message
    assert len(hits) == 1 and not (keras_home / "models" / published.file_name).exists()


def test_unreachable_download_says_where_to_place_the_file(keras_home, monkeypatch):
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    published = _publish(monkeypatch, "efficientnetv2_b0", "0" * 32, f"http://127.0.0.1:{port}/")
    with pytest.raises(KerazooError) as error:
        zoo.build("efficientnetv2_b0", input_shape=(SIZE, SIZE, 3), weights="imagenet")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"Could not fetch {published.file_name} from http://127.0.0.1:{port}")
    assert f"place it at {keras_home / 'models' / published.file_name}" in message


@pytest.mark.tf_only
def test_a_file_that_does_not_fit_is_one_line(keras_home, monkeypatch, tmp_path):
    published = applications.IMAGENET_WEIGHTS["mobilenetv3_small"]
    cached = keras_home / "models" / published.file_name
    cached.parent.mkdir(parents=True)
    md5 = _write_published_layout(_reference("MobileNetV3Large"), cached)
    _publish(monkeypatch, "mobilenetv3_small", md5)
    with pytest.raises(KerazooError, match="does not fit the backbone of 'mobilenetv3_small'"):
        zoo.build("mobilenetv3_small", input_shape=(SIZE, SIZE, 3), weights="imagenet")
