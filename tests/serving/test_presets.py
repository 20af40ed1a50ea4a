"""``preset:NAME`` wherever a run directory or an export is named: the shipped preset is made once
into a verified run directory in the cache, then predicted with and served like any run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from kerazoo.cli import main

pytestmark = pytest.mark.tf_only


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAZOO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_serve_preset_answers_rest_and_grpc_like_the_preset(home, serve):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from kerazoo import zoo
    from kerazoo.cli.serve import resolve_export_dir
    from kerazoo.recipes.embedded import digits

    export = resolve_export_dir("preset:simple_cnn_digits")
    assert (home / "preset-runs").is_dir() and export.startswith(str(home))
    assert resolve_export_dir("preset:simple_cnn_digits") == export  # made once, then reused
    images, truth = digits.load()["test"]
    images = np.asarray(images[:16], "uint8")
    expected = zoo.from_preset("simple_cnn_digits").predict(images, verbose=0)
    server = serve(export)
    reply = requests.post(f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict",
                          json={"instances": images.tolist()}, timeout=60)
    assert reply.status_code == 200, reply.text
    predictions = reply.json()["predictions"]
    rest = np.array([p["probabilities"] for p in predictions])
    np.testing.assert_allclose(rest, tf.nn.softmax(expected).numpy(), atol=1e-5)
    labels = [p["labels"] for p in predictions]
    assert np.mean(np.array(labels) == np.array([str(t) for t in truth[:16]])) >= 0.9

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "default"
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(images))
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        answer = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, timeout=60)
    np.testing.assert_allclose(tf.make_ndarray(answer.outputs["probabilities"]), rest, atol=1e-6)


def test_predict_preset_and_unknown_preset(home, capsys):
    assert main(["predict", "preset:sentiment_bilstm_embedded", "a wonderful, moving film"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("'a wonderful, moving film': ") and "positive" in line
    run = next((home / "preset-runs").iterdir())
    assert json.loads((run / "labels.json").read_text()) == ["negative", "positive"]
    assert sorted(p.name for p in (run / "export").iterdir()) == ["1"]
    assert main(["predict", "preset:sentiment_bilstm_embeded", "x"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean sentiment_bilstm_embedded" in err
