"""Property-based fuzzing of ``:predict``: any body gets a JSON answer with a 2xx or 4xx status."""

from __future__ import annotations

import json
import shutil

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.tf_only

_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=False, width=32) | st.text(max_size=8))
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(["b64", "features", "text", "x"]) | st.text(max_size=5),
                      children, max_size=3),
    max_leaves=30,
)
_rows = st.lists(
    st.lists(st.floats(-1e3, 1e3, width=32) | st.integers(-5, 5), min_size=0, max_size=6),
    min_size=0, max_size=4,
)
_b64 = st.fixed_dictionaries({"b64": st.text(alphabet="AaZz09+/=@ ", max_size=12)})
_payload = _rows | _json | st.lists(_b64, max_size=3) | st.lists(
    st.fixed_dictionaries({"features": _rows | _json}), max_size=3)
_request = st.dictionaries(
    st.sampled_from(["instances", "inputs", "signature_name", "instance"]),
    _payload | st.sampled_from(["serving_default", "classify_text", "predict_image_bytes"]),
    max_size=3,
)


@pytest.fixture(scope="module")
def url(model_template, tmp_path_factory):
    from kerazoo.serving.server import ModelServer, ServerConfig

    export = tmp_path_factory.mktemp("fuzz") / "export"
    shutil.copytree(model_template, export)
    server = ModelServer(ServerConfig(export, rest_port=0, grpc_port=-1, poll_interval_s=0,
                                      max_request_bytes=1 << 16))
    server.start()
    yield f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    server.stop()


def _check(url: str, body: bytes) -> None:
    response = requests.post(url, data=body, timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 400, 404, 413), (body, response.status_code,
                                                         response.text)
    answer = response.json()
    if response.status_code == 200:
        assert set(answer) in ({"predictions"}, {"outputs"})
    else:
        assert isinstance(answer["error"], str) and answer["error"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=_request)
def test_structured_requests_never_crash_the_server(url, request):
    _check(url, json.dumps(request).encode())


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=64) | _json.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bodies_never_crash_the_server(url, body):
    _check(url, body)


def test_server_still_answers_after_fuzzing(url):
    response = requests.post(url, json={"instances": [[1.0, 2.0, 3.0, 4.0]]}, timeout=10)
    assert response.status_code == 200
    assert response.json()["predictions"][0]["labels"] == "cat"
