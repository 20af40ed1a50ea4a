"""Presets and weight files: round trips, sha256 checks, offline and half-written downloads.

URLs are only ever ``file://`` or a server on loopback: no test touches the network.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import keras
import numpy as np
import pytest

from kerazoo import zoo
from kerazoo.errors import ConfigError, KerazooError, NotFoundError
from kerazoo.zoo import weights

PAYLOAD = b"kerazoo weights " * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAZOO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


class _Handler(http.server.BaseHTTPRequestHandler):
    body = PAYLOAD
    truncate = False

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(self.body[: len(self.body) // 2] if self.truncate else self.body)
        self.wfile.flush()

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    servers = []

    def start(body=PAYLOAD, truncate=False):
        handler = type("Handler", (_Handler,), {"body": body, "truncate": truncate})
        httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/model.weights.h5"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _cache_files(home):
    folder = home / "weights"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_local_path_and_file_url_are_verified(tmp_path, home):
    path = tmp_path / "w.h5"
    path.write_bytes(PAYLOAD)
    assert weights.fetch(path, SHA) == path
    assert weights.fetch(path.as_uri(), SHA) == path
    with pytest.raises(KerazooError, match="sha256 mismatch"):
        weights.fetch(path.as_uri(), "0" * 64)
    assert _cache_files(home) == []


def test_sha256_is_mandatory(tmp_path, home):
    path = tmp_path / "w.h5"
    path.write_bytes(PAYLOAD)
    for bad in (None, "", "abc", "g" * 64):
        with pytest.raises(KerazooError, match="sha256"):
            weights.fetch(path, bad)


def test_missing_file_is_a_clear_error(tmp_path, home):
    with pytest.raises(NotFoundError, match="not found"):
        weights.fetch((tmp_path / "absent.h5").as_uri(), SHA)


def test_http_download_is_cached_once_and_reused(server, home):
    url = server()
    first = weights.fetch(url, SHA)
    assert first.read_bytes() == PAYLOAD and first.parent == home / "weights"
    assert _cache_files(home) == [first.name]
    assert weights.fetch(url, SHA) == first


def test_tampered_download_leaves_no_cache_entry(server, home):
    url = server(body=b"evil" + PAYLOAD[4:])
    with pytest.raises(KerazooError, match="sha256 mismatch.*nothing was cached"):
        weights.fetch(url, SHA)
    assert _cache_files(home) == []


def test_interrupted_download_leaves_no_half_written_file(server, home):
    url = server(truncate=True)
    with pytest.raises(KerazooError):
        weights.fetch(url, SHA)
    assert _cache_files(home) == []


def test_offline_url_is_a_clear_error(home):
    import socket

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(KerazooError, match="Cannot download weights"):
        weights.fetch(f"http://127.0.0.1:{port}/w.h5", SHA)
    assert _cache_files(home) == []


def test_tampered_cache_entry_is_detected(server, home):
    path = weights.fetch(server(), SHA)
    path.write_bytes(b"changed")
    with pytest.raises(KerazooError, match="sha256 mismatch"):
        weights.fetch(server(), SHA)


def test_unsupported_scheme(home):
    with pytest.raises(KerazooError, match="Unsupported"):
        weights.fetch("ftp://example.com/w.h5", SHA)


@pytest.fixture()
def small_model():
    return zoo.build("simple_cnn", input_shape=(8, 8, 1), num_classes=4)


def test_preset_round_trip_and_model_card(small_model, tmp_path):
    metadata = {"dataset": "sklearn digits", "metrics": {"accuracy": 0.97},
                "training_command": "kerazoo train image_classification", "license": "CC-BY-4.0"}
    folder = zoo.save_to_preset(small_model, tmp_path / "digits", metadata=metadata)
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "config.json", "metadata.json", "model.weights.h5"]
    info = json.loads((folder / "metadata.json").read_text())
    assert info["params"] == small_model.count_params() and info["macs"] > 0
    assert info["model"] == "simple_cnn" and info["keras_version"] and info["date"]
    card = (folder / "README.md").read_text()
    for text in ("## Architecture", "## Input", "(8, 8, 1)", "MACs", "sklearn digits",
                 "| accuracy | 0.97 |", "CC-BY-4.0", "kerazoo train image_classification"):
        assert text in card
    x = np.random.default_rng(0).normal(size=(3, 8, 8, 1)).astype("float32")
    restored = zoo.from_preset(folder)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored(x)), keras.ops.convert_to_numpy(small_model(x)))
    assert restored.get_layer("backbone") is not None
    with pytest.raises(KerazooError, match="already exists"):
        zoo.save_to_preset(small_model, folder)
    assert [p.name for p in tmp_path.iterdir()] == ["digits"]  # no staging leftovers


def test_preset_weights_are_verified(small_model, tmp_path):
    folder = zoo.save_to_preset(small_model, tmp_path / "p")
    (folder / "model.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(KerazooError, match="sha256 mismatch"):
        zoo.from_preset(folder)


def test_preset_without_checksum_is_refused_unless_verify_false(small_model, tmp_path):
    folder = zoo.save_to_preset(small_model, tmp_path / "p")
    info = json.loads((folder / "metadata.json").read_text())
    del info["weights_sha256"]
    (folder / "metadata.json").write_text(json.dumps(info))
    with pytest.raises(ConfigError, match="records no weights_sha256.*verify=False"):
        zoo.from_preset(folder)
    (folder / "metadata.json").unlink()  # no metadata at all: nothing to verify against either
    with pytest.raises(ConfigError, match="records no weights_sha256"):
        zoo.from_preset(folder)
    x = np.ones((1, 8, 8, 1), "float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(zoo.from_preset(folder, verify=False)(x)),
        keras.ops.convert_to_numpy(small_model(x)))


def test_shipped_names_win_over_local_folders(small_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    zoo.save_to_preset(small_model, tmp_path / "simple_cnn_digits")  # a look-alike folder
    shipped = zoo.from_preset("simple_cnn_digits")
    assert shipped.get_layer("backbone").layers[1].name == "rescale"  # the shipped one
    for spelling in ("./simple_cnn_digits", "dir:simple_cnn_digits"):
        local = zoo.from_preset(spelling)
        assert local.count_params() == small_model.count_params(), spelling
    zoo.save_to_preset(small_model, tmp_path / "mine")
    with pytest.raises(NotFoundError, match="name it as a path: './mine' or 'dir:mine'"):
        zoo.from_preset("mine")
    with pytest.raises(NotFoundError, match="Preset directory not found"):
        zoo.from_preset("./nowhere")


def test_preset_with_remote_weights(small_model, tmp_path, home):
    folder = zoo.save_to_preset(small_model, tmp_path / "p")
    stored = tmp_path / "remote.weights.h5"
    (folder / "model.weights.h5").rename(stored)
    info = json.loads((folder / "metadata.json").read_text())
    info["weights"] = {"url": stored.as_uri(), "sha256": info.pop("weights_sha256")}
    (folder / "metadata.json").write_text(json.dumps(info))
    x = np.ones((1, 8, 8, 1), "float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(zoo.from_preset(folder)(x)),
                                  keras.ops.convert_to_numpy(small_model(x)))
    info["weights"]["sha256"] = "1" * 64
    (folder / "metadata.json").write_text(json.dumps(info))
    with pytest.raises(KerazooError, match="sha256 mismatch"):
        zoo.from_preset(folder)


def test_invalid_and_unknown_presets(tmp_path):
    with pytest.raises(NotFoundError, match="No shipped preset"):
        zoo.from_preset("no_such_preset")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"class_name": "Functional"}))
    with pytest.raises(ConfigError, match="not a kerazoo preset"):
        zoo.from_preset(bad)
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        zoo.from_preset(bad)


def test_preset_config_refuses_lambda_layers(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    folder = zoo.save_to_preset(model, tmp_path / "lambda")
    with pytest.raises(Exception, match="(?i)lambda|unsafe|safe_mode"):
        zoo.from_preset(folder)


def test_shipped_preset_reproduces_the_accuracy_on_its_card():
    from kerazoo.zoo.make_presets import digits_splits
    from kerazoo.zoo.presets import SHIPPED_DIR

    assert "simple_cnn_digits" in [preset["name"] for preset in zoo.list_presets()]
    assert "simple_cnn" in zoo.list_models(pretrained=True)
    assert zoo.model_config("simple_cnn")["presets"] == ["simple_cnn_digits"]
    model = zoo.from_preset("simple_cnn_digits")
    _, x_test, _, y_test = digits_splits()
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    card = json.loads((SHIPPED_DIR / "simple_cnn_digits" / "metadata.json").read_text())
    # One test image may flip between backends' float arithmetic.
    assert abs(accuracy - card["metrics"]["test_accuracy"]) <= 1 / len(y_test) + 1e-9


def test_digits_preset_takes_image_pixels_like_an_export():
    model = zoo.from_preset("simple_cnn_digits")
    rescale = model.get_layer("backbone").layers[1]
    assert isinstance(rescale, keras.layers.Rescaling) and rescale.scale == 1 / 255
    pixels = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype("uint8")
    np.testing.assert_allclose(
        model.predict(pixels, verbose=0), model.predict(pixels.astype("float32"), verbose=0),
        atol=1e-6,
    )
    # The rescaling is part of the backbone: a new head keeps it.
    new = zoo.replace_head(model, 3)
    assert new.get_layer("backbone").layers[1] is rescale


@pytest.mark.tf_only  # string tensors: the text preset vectorizes with TensorFlow
def test_text_preset_predicts_on_python_and_numpy_strings():
    import tensorflow as tf

    model = zoo.from_preset("sentiment_bilstm_embedded")
    texts = ["the acting was wonderful", "a dull and boring film", "not bad at all"]
    expected = model.predict(tf.constant(texts), verbose=0)
    np.testing.assert_allclose(model.predict(texts, verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(model.predict(np.array(texts), verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(
        model.predict(np.array(texts, dtype=object), verbose=0), expected, atol=1e-6
    )


def test_every_shipped_preset_card_says_it_is_a_demo():
    from kerazoo.zoo.presets import SHIPPED_DIR

    for preset in zoo.list_presets():
        metadata = json.loads((SHIPPED_DIR / preset["name"] / "metadata.json").read_text())
        card = (SHIPPED_DIR / preset["name"] / "README.md").read_text()
        assert metadata.get("demo") is True, preset["name"]
        assert metadata.get("coverage") and metadata.get("out_of_distribution"), preset["name"]
        assert "## A demo, not a model for your data" in card, preset["name"]
        assert metadata["out_of_distribution"] in card


def test_out_of_distribution_sentences_are_balanced_and_varied():
    from kerazoo.zoo.make_presets import read_labelled_sentences

    rows = read_labelled_sentences()
    assert len(rows) == 60 and len({text for _, _, text in rows}) == 60
    for domain in ("movies", "products", "restaurants", "apps", "services"):
        labels = [label for label, d, _ in rows if d == domain]
        assert labels.count("positive") == labels.count("negative") == 6, domain
