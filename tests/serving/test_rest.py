"""REST API: TensorFlow Serving's request and response shapes, status codes and errors."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import requests

pytestmark = pytest.mark.tf_only

FEATURES = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]]


@pytest.fixture
def url(serve, export_dir):
    server = serve(export_dir, grpc_port=-1, max_request_bytes=4096)
    return f"http://127.0.0.1:{server.rest_port}/v1/models/default"


def _post(url, body, **kwargs):
    return requests.post(url + ":predict", json=body, timeout=10, **kwargs)


def test_row_format_multiple_outputs_gives_one_object_per_instance(url, reference):
    response = _post(url, {"instances": FEATURES})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    expected = reference(FEATURES, scale=-1.0)  # version 2, the newest, has scale -1
    assert len(predictions) == 2
    for row, prediction in enumerate(predictions):
        assert set(prediction) == {"probabilities", "class_ids", "labels"}
        np.testing.assert_allclose(prediction["probabilities"], expected["probabilities"][row],
                                   rtol=1e-6)
        assert prediction["class_ids"] == expected["class_ids"][row]
        assert prediction["labels"] == expected["labels"][row]


def test_columnar_format_and_named_instances_agree(url, reference):
    columnar = _post(url, {"inputs": {"features": FEATURES}}).json()["outputs"]
    named_rows = _post(url, {"instances": [{"features": f} for f in FEATURES]}).json()
    assert columnar["labels"] == [p["labels"] for p in named_rows["predictions"]]
    np.testing.assert_allclose(columnar["probabilities"],
                               reference(FEATURES, -1.0)["probabilities"], rtol=1e-6)
    bare = _post(url, {"inputs": FEATURES}).json()["outputs"]
    assert bare == columnar


def test_float32_outputs_use_the_shortest_decimal(url):
    body = _post(url, {"inputs": [[0.0, 0.0, 0.0, 0.0]]}).content
    assert b"0.33333334" in body and b"0.3333333432674408" not in body


def test_versions_in_url_and_status(url, reference):
    version_one = _post(url + "/versions/1", {"instances": FEATURES[:1]}).json()
    np.testing.assert_allclose(version_one["predictions"][0]["probabilities"],
                               reference(FEATURES[:1], 1.0)["probabilities"][0], rtol=1e-6)
    status = requests.get(url, timeout=10).json()
    assert status == {"model_version_status": [
        {"version": v, "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        for v in ("2", "1")]}
    assert requests.get(url + "/versions/1", timeout=10).json()["model_version_status"][0][
        "version"] == "1"


def test_metadata_lists_signature_defs_as_tf_serving(url):
    metadata = requests.get(url + "/metadata", timeout=10).json()
    assert metadata["model_spec"] == {"name": "default", "signature_name": "", "version": "2"}
    defs = metadata["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "classify_text", "predict_image_bytes"} <= set(defs)
    features = defs["serving_default"]["inputs"]["features"]
    assert features["dtype"] == "DT_FLOAT"
    assert features["tensor_shape"]["dim"] == [{"size": "-1"}, {"size": "4"}]
    assert set(defs["serving_default"]["outputs"]) == {"probabilities", "class_ids", "labels"}
    assert defs["serving_default"]["method_name"] == "tensorflow/serving/predict"


def test_string_input_and_single_named_instance(url):
    body = {"signature_name": "classify_text", "instances": ["héllo", "ab"]}
    predictions = _post(url, body).json()["predictions"]
    assert predictions == [{"length": 5, "upper": "HéLLO"}, {"length": 2, "upper": "AB"}]


def test_b64_bytes_input_single_output_gives_bare_values(url, png_factory):
    images = [png_factory(7), png_factory(200)]
    body = {"signature_name": "predict_image_bytes",
            "instances": [{"b64": base64.b64encode(image).decode()} for image in images]}
    assert _post(url, body).json() == {"predictions": [7.0, 200.0]}
    columnar = {"signature_name": "predict_image_bytes",
                "inputs": {"image_bytes": [{"b64": base64.b64encode(images[0]).decode()}]}}
    assert _post(url, columnar).json() == {"outputs": [7.0]}


def test_openapi_spec_describes_predict(url):
    spec = requests.get(url.split("/v1/")[0] + "/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.")
    assert "/v1/models/default:predict" in spec["paths"]
    assert "/v1/models/default/versions/{version}/metadata" in spec["paths"]


BAD_REQUESTS = [
    ("malformed JSON", b'{"instances": [1, 2', 400, "malformed JSON"),
    ("not an object", b"[1, 2]", 400, "JSON object"),
    ("wrong key", b'{"instance": [[1, 2, 3, 4]]}', 400, "unknown key"),
    ("no payload", b'{"signature_name": "serving_default"}', 400, "neither"),
    ("mixed formats", b'{"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]}', 400, "both"),
    ("wrong shape", b'{"instances": [[1, 2, 3]]}', 400, "shape"),
    ("ragged", b'{"instances": [[1, 2, 3, 4], [1, 2]]}', 400, "ragged"),
    ("wrong dtype", b'{"instances": [["a", "b", "c", "d"]]}', 400, "float"),
    ("bool for float", b'{"instances": [[true, false, true, true]]}', 400, "float"),
    ("wrong input name", b'{"inputs": {"pixels": [[1, 2, 3, 4]]}}', 400, "unknown input"),
    ("empty instances", b'{"instances": []}', 400, "non-empty"),
    ("unknown signature", b'{"signature_name": "nope", "instances": [[1, 2, 3, 4]]}', 400,
     "nope"),
    ("bad base64", b'{"signature_name": "predict_image_bytes", "instances": [{"b64": "@@@"}]}',
     400, "base64"),
    ("number for string", b'{"signature_name": "classify_text", "instances": [3]}', 400,
     "strings"),
    ("nested too deeply", b"[" * 2000 + b"]" * 2000, 400, "malformed JSON"),
    ("undecodable image", b'{"signature_name": "predict_image_bytes", "instances": '
     b'[{"b64": "aGVsbG8="}]}', 400, ""),
]


@pytest.mark.parametrize("body,status,fragment", [b[1:] for b in BAD_REQUESTS],
                         ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_gets_clear_error_and_server_keeps_answering(url, body, status, fragment,
                                                                 reference):
    response = requests.post(url + ":predict", data=body, timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error and error
    good = _post(url, {"instances": FEATURES[:1]})
    assert good.status_code == 200
    assert good.json()["predictions"][0]["labels"] == reference(FEATURES[:1], -1.0)["labels"][0]


@pytest.mark.parametrize("path,status", [
    ("/v1/models/other:predict", 404),
    ("/v1/models/default/versions/7:predict", 404),
    ("/v1/models/default/versions/x:predict", 400),
])
def test_unknown_model_or_version(url, path, status):
    base = url.split("/v1/")[0]
    response = requests.post(base + path, json={"instances": FEATURES}, timeout=10)
    assert response.status_code == status
    assert "error" in response.json()
    assert requests.get(base + "/v1/models/other", timeout=10).status_code == 404


def test_oversized_body_is_refused_with_413(url):
    rows = [[1.0, 2.0, 3.0, 4.0]] * 400  # about 8 KB, the fixture's limit is 4 KB
    response = _post(url, {"instances": rows})
    assert response.status_code == 413 and "limit" in response.json()["error"]

    def chunks():  # no Content-Length: the limit still holds while streaming
        yield b'{"instances": ['
        for _ in range(400):
            yield b"[1.0, 2.0, 3.0, 4.0],"
        yield b"[1.0, 2.0, 3.0, 4.0]]}"

    streamed = requests.post(url + ":predict", data=chunks(), timeout=10)
    assert streamed.status_code == 413
    assert _post(url, {"instances": FEATURES}).status_code == 200


def test_binds_loopback_by_default(serve, export_dir):
    from kerazoo.serving.server import ServerConfig

    assert ServerConfig(export_dir).host == "127.0.0.1"
    server = serve(export_dir, grpc_port=-1)
    sockets = server._uvicorn.servers[0].sockets
    assert [s.getsockname()[0] for s in sockets] == ["127.0.0.1"]
