"""Tiny SavedModels in TensorFlow Serving's layout, and servers on loopback, for serving tests."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

LABELS = ["cat", "dog", "bird"]


def write_saved_model(base: Path, version: int, scale: float = 1.0) -> Path:
    """``base/<version>/``: three signatures — float features, text, encoded PNG bytes."""
    import tensorflow as tf

    class Classifier(tf.Module):
        def __init__(self):
            super().__init__()
            weights = tf.reshape(tf.range(12, dtype=tf.float32), [4, 3]) / 10.0 * scale
            self.kernel = tf.Variable(weights)
            self.labels = tf.constant(LABELS)

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
        def classify(self, features):
            logits = tf.matmul(features, self.kernel)
            class_ids = tf.argmax(logits, axis=-1)
            return {
                "probabilities": tf.nn.softmax(logits),
                "class_ids": class_ids,
                "labels": tf.gather(self.labels, class_ids),
            }

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def text(self, text):
            return {"length": tf.strings.length(text, unit="UTF8_CHAR"),
                    "upper": tf.strings.upper(text)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def image(self, image_bytes):
            def mean(encoded):
                pixels = tf.io.decode_png(encoded, channels=1)
                return tf.reduce_mean(tf.cast(pixels, tf.float32))

            return {"mean": tf.map_fn(mean, image_bytes, fn_output_signature=tf.float32)}

    module = Classifier()
    path = base / str(version)
    tf.saved_model.save(module, str(path), signatures={
        "serving_default": module.classify,
        "classify_text": module.text,
        "predict_image_bytes": module.image,
    })
    return path


def write_manifest(version_dir: Path) -> Path:
    """An ``export.json`` listing every file's sha256, as the recipes' exporter writes it."""
    files = {}
    for root, _, names in os.walk(version_dir):
        for name in names:
            path = Path(root, name)
            if name != "export.json":
                files[str(path.relative_to(version_dir))] = hashlib.sha256(
                    path.read_bytes()).hexdigest()
    manifest = version_dir / "export.json"
    manifest.write_text(json.dumps({"signatures": ["serving_default"], "labels": LABELS,
                                    "files": files}, indent=1))
    return manifest


@pytest.fixture(scope="session")
def model_template(tmp_path_factory) -> Path:
    """One version written once per session; tests copy it (a save costs about a second)."""
    base = tmp_path_factory.mktemp("template")
    write_manifest(write_saved_model(base, 1))
    write_manifest(write_saved_model(base, 2, scale=-1.0))
    return base


@pytest.fixture
def export_dir(model_template, tmp_path) -> Path:
    """A fresh copy of the template export directory with versions 1 and 2."""
    target = tmp_path / "export"
    shutil.copytree(model_template, target)
    return target


@pytest.fixture
def serve():
    """Start in-process servers on free loopback ports; every one is stopped at teardown."""
    from kerazoo.serving.server import ModelServer, ServerConfig

    servers = []

    def start(export, **overrides):
        # large_request_bytes=0: no large-request process (test_abuse turns it on where tested).
        options = dict(rest_port=0, grpc_port=0, poll_interval_s=0.1, shutdown_timeout_s=2,
                       large_request_bytes=0)
        options.update(overrides)
        server = ModelServer(ServerConfig(export_dir=export, **options))
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


def png_bytes(value: int, size: int = 4) -> bytes:
    import tensorflow as tf

    image = tf.fill([size, size, 1], tf.constant(value, tf.uint8))
    return tf.io.encode_png(image).numpy()


def reference_outputs(features, scale: float = 1.0) -> dict:
    """What ``serving_default`` of a version written with ``scale`` returns, in NumPy."""
    import numpy as np

    kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0 * scale
    logits = np.asarray(features, np.float32) @ kernel
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    class_ids = logits.argmax(-1)
    return {"probabilities": exp / exp.sum(-1, keepdims=True), "class_ids": class_ids,
            "labels": [LABELS[i] for i in class_ids]}


@pytest.fixture
def reference():
    return reference_outputs


@pytest.fixture
def png_factory():
    return png_bytes
