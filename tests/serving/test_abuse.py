"""Issue 18: the server under hostile and broken conditions (bombs, stalls, NaN, odd clients)."""

from __future__ import annotations

import base64
import json
import logging
import socket
import struct
import threading
import time
import zlib

import pytest
import requests

pytestmark = pytest.mark.tf_only


def _png_header(width: int, height: int, color_type: int = 0) -> bytes:
    """A PNG that declares ``width`` x ``height`` (a bomb's header; the pixel data is a stub)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))


def _wav(seconds: float, rate: int = 16000) -> bytes:
    samples = int(seconds * rate)
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data)) + data)


def _b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


def _strict_json(text: str):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def base(serve, export_dir):
    server = serve(export_dir, grpc_port=-1)
    return f"http://127.0.0.1:{server.rest_port}/v1/models/default"


# 1. Decompression bombs --------------------------------------------------------------------------
def test_image_bomb_is_refused_from_its_header_before_decoding(base, png_factory):
    body = {"signature_name": "predict_image_bytes",
            "instances": [_b64(png_factory(7)), _b64(_png_header(12000, 12000))]}
    response = requests.post(base + ":predict", json=body, timeout=30)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "'image_bytes' row 1" in error and "12000x12000" in error
    assert "pixel budget of 50000000 pixels (--max-image-pixels)" in error


def test_pixel_budget_and_wav_duration_are_configurable(serve, export_dir, png_factory):
    from kerazoo.serving.limits import InputLimits

    server = serve(export_dir, grpc_port=-1,
                   limits=InputLimits(max_image_pixels=100, max_audio_seconds=1.0))
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    small = {"signature_name": "predict_image_bytes", "instances": [_b64(png_factory(9, 10))]}
    assert requests.post(url, json=small, timeout=30).status_code == 200  # 100 pixels: at budget
    large = {"signature_name": "predict_image_bytes", "instances": [_b64(png_factory(9, 11))]}
    response = requests.post(url, json=large, timeout=30)
    assert response.status_code == 400 and "budget of 100 pixels" in response.json()["error"]
    # WAV bytes are checked whatever the signature: here a string input of classify_text.
    for seconds, status in ((0.5, 200), (2.0, 400)):
        body = {"signature_name": "classify_text", "instances": [_b64(_wav(seconds))]}
        response = requests.post(url, json=body, timeout=30)
        assert response.status_code == status, response.text
    assert "duration limit of 1 s (--max-audio-seconds)" in response.json()["error"]


def test_grpc_refuses_the_bomb_too(serve, export_dir):
    grpc = pytest.importorskip("grpc")
    pytest.importorskip("tensorflow_serving")
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    server = serve(export_dir, rest_port=-1)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "default"
    request.model_spec.signature_name = "predict_image_bytes"
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([_png_header(16000, 16000)]))
    with pytest.raises(grpc.RpcError) as caught:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "--max-image-pixels" in caught.value.details()
    channel.close()


# 3. Off the event loop, back-pressure ------------------------------------------------------------
def test_parsing_runs_off_the_event_loop(serve, export_dir, monkeypatch):
    """A request that is slow to parse must not hold up a status request (issue 18 #3)."""
    from kerazoo.serving import rest

    original = rest.decode_request

    def slow_decode(body):
        if b"slow" in body:
            time.sleep(2.0)  # stands in for json.loads of a 16 MB body
        return original(body)

    monkeypatch.setattr(rest, "decode_request", slow_decode)
    server = serve(export_dir, grpc_port=-1)
    base = f"http://127.0.0.1:{server.rest_port}/v1/models/default"
    slow = threading.Thread(target=requests.post, args=(base + ":predict",),
                            kwargs={"data": b'{"instances": [[1,2,3,4]], "x": "slow"}',
                                    "timeout": 30})
    slow.start()
    time.sleep(0.3)
    start = time.perf_counter()
    assert requests.get(base, timeout=30).status_code == 200
    waited = time.perf_counter() - start
    slow.join()
    assert waited < 1.5, f"the status request waited {waited:.2f} s behind the slow parse"


def test_full_queue_answers_503_with_retry_after(serve, export_dir):
    server = serve(export_dir, grpc_port=-1, workers=1, max_queue=1)
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as stalled:
        # This request holds the only place while its body arrives.
        stalled.sendall(b"POST /v1/models/default:predict HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.3)
        response = requests.post(
            f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict",
            json={"instances": [[1, 2, 3, 4]]}, timeout=10)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "--max-queue" in response.json()["error"]


# 4. Timeouts and the connection cap --------------------------------------------------------------
def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closes ``sock`` (reading what it sends), or None."""
    sock.settimeout(seconds)
    start = time.perf_counter()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    return time.perf_counter() - start


def _http_reply(sock: socket.socket, seconds: float) -> bytes:
    """One whole HTTP reply: the headers, then ``Content-Length`` bytes of body. Under load the
    body can come in a later TCP segment than the headers, so one ``recv`` is not enough."""
    sock.settimeout(seconds)
    reply = b""
    while b"\r\n\r\n" not in reply or len(reply.partition(b"\r\n\r\n")[2]) < _length(reply):
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return reply


def _length(reply: bytes) -> int:
    for line in reply.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_unfinished_headers_are_closed_after_the_header_timeout(serve, export_dir):
    server = serve(export_dir, grpc_port=-1, header_timeout_s=0.5)
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as sock:
        sock.sendall(b"POST /v1/models/default:predict HTTP/1.1\r\nHost: x\r\n")
        closed = _closed_within(sock, 5.0)
    assert closed is not None and closed < 3.0


def test_short_body_gets_408_after_the_body_timeout(serve, export_dir):
    server = serve(export_dir, grpc_port=-1, body_timeout_s=0.5)
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as sock:
        sock.sendall(b"POST /v1/models/default:predict HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 100\r\n\r\n{\"instances\"")
        reply = _http_reply(sock, 5.0)
    assert reply.startswith(b"HTTP/1.1 408")
    assert b'"error":"request body incomplete' in reply


def test_connections_above_the_cap_are_closed(serve, export_dir):
    server = serve(export_dir, grpc_port=-1, max_connections=2)
    held = [socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
            for _ in range(2)]
    try:
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as extra:
            assert _closed_within(extra, 3.0) is not None
    finally:
        for sock in held:
            sock.close()


# 5. Non-finite floats ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e39"])
def test_non_finite_inputs_are_refused_naming_input_and_row(base, value):
    body = f'{{"instances": [[1, 2, 3, 4], [1, {value}, 3, 4]]}}'
    response = requests.post(base + ":predict", data=body, timeout=30)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "input 'features' row 1" in error and "--allow-non-finite" in error


def test_allow_non_finite_answers_standard_json(serve, export_dir):
    from kerazoo.serving.limits import InputLimits

    server = serve(export_dir, grpc_port=-1, limits=InputLimits(allow_non_finite=True))
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    response = requests.post(url, data='{"instances": [[1, NaN, 3, 4]]}', timeout=30)
    assert response.status_code == 200
    prediction = _strict_json(response.text)["predictions"][0]
    assert prediction["probabilities"] == ["NaN", "NaN", "NaN"]


# 6. Errors are JSON with the real cause; disconnects are not 500s ------------------------------
def test_undecodable_image_names_input_and_codec(base):
    body = {"signature_name": "predict_image_bytes", "instances": [_b64(b"not an image at all")]}
    response = requests.post(base + ":predict", json=body, timeout=30)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "DecodePng failed" in error and "Graph execution error" not in error
    assert "input 'image_bytes' row 0: no PNG/JPEG/GIF/BMP/WebP/WAV header" in error


def test_405_and_unknown_routes_are_json(base):
    for method, url, status in (("PUT", base + ":predict", 405), ("DELETE", base, 405),
                                ("GET", base.replace("/v1/", "/v2/"), 404)):
        response = requests.request(method, url, timeout=30)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"error"}


def test_client_hanging_up_mid_body_is_not_an_error(serve, export_dir, caplog):
    server = serve(export_dir, grpc_port=-1)
    with caplog.at_level(logging.DEBUG):
        with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as sock:
            sock.sendall(b"POST /v1/models/default:predict HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"instances\": [")
            time.sleep(0.3)
        time.sleep(0.5)
        assert requests.get(f"http://127.0.0.1:{server.rest_port}/v1/models/default",
                            timeout=30).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("hung up" in r.getMessage() and r.levelno == logging.DEBUG
               for r in caplog.records)


def test_large_payloads_convert_in_slices_with_the_same_result(monkeypatch):
    """Slicing (so that one 16 MB request does not hold the GIL in one long call) changes nothing."""
    import numpy as np
    import tensorflow as tf

    from kerazoo.serving import codec
    from kerazoo.serving.errors import InvalidRequestError

    monkeypatch.setattr(codec, "CHUNK_ROWS", 2)
    spec = tf.TensorSpec([None, 2], tf.float32)
    rows = [[0.1, 1], [2, 3.5], [4, 5], [6, 7], [8, 9.25]]
    np.testing.assert_array_equal(codec.to_array(rows, spec, "x"), np.asarray(rows, np.float32))
    with pytest.raises(InvalidRequestError, match="ragged"):
        codec.to_array(rows + [[1, 2, 3]], spec, "x")
    outputs = {"p": np.asarray(rows, np.float32), "c": np.arange(5)}
    body = codec.dumps(codec.encode_response(outputs, row_format=True))
    assert json.loads(body) == {"predictions": [{"c": i, "p": [float(str(np.float32(v)))
                                                            for v in row]}
                                                for i, row in enumerate(rows)]}


def test_large_bodies_are_parsed_in_the_large_request_process(serve, export_dir, reference):
    """Bodies above --large-request-bytes take the process lane: same answers, same errors."""
    import numpy as np

    server = serve(export_dir, grpc_port=-1, large_request_bytes=1000)
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/default:predict"
    rows = np.random.default_rng(0).normal(size=(100, 4)).round(3).tolist()
    response = requests.post(url, json={"instances": rows}, timeout=60)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    np.testing.assert_allclose([p["probabilities"] for p in predictions],
                               reference(rows, -1.0)["probabilities"], rtol=1e-5)
    assert [p["labels"] for p in predictions] == reference(rows, -1.0)["labels"]
    rows[7][2] = "marker"
    bad = json.dumps({"instances": rows}).replace('"marker"', "NaN")
    response = requests.post(url, data=bad, timeout=60)
    assert response.status_code == 400 and "'features' row 7" in response.json()["error"]
    response = requests.post(url, json={"signature_name": "nope", "instances": rows}, timeout=60)
    assert response.status_code == 400 and "'nope' not found" in response.json()["error"]


def test_headers_of_every_codec_tensorflow_decodes_are_read():
    """The sizes the budget is checked against, for each codec tf.io.decode_image accepts."""
    import tensorflow as tf

    from kerazoo.serving.limits import sniff

    image = tf.zeros([30, 50, 3], tf.uint8)
    for encode, codec in ((tf.io.encode_png, "PNG"), (tf.io.encode_jpeg, "JPEG")):
        header = sniff(encode(image).numpy())
        assert (header.codec, header.width, header.height, header.channels) == (codec, 50, 30, 3)
    assert sniff(_png_header(12000, 12000)).width == 12000
    riff = b"RIFF\x00\x00\x00\x00WEBP"
    lossy = riff + b"VP8 \x00\x00\x00\x00" + b"\x00\x00\x00\x9d\x01\x2a" + struct.pack(
        "<HH", 9000, 8000)
    lossless = riff + b"VP8L\x00\x00\x00\x00\x2f" + struct.pack("<I", 8999 | (7999 << 14))
    extended = riff + b"VP8X\x00\x00\x00\x00" + b"\x00" * 4 + (8999).to_bytes(3, "little") + (
        7999).to_bytes(3, "little")
    for data in (lossy, lossless, extended):
        header = sniff(data)
        assert (header.codec, header.width, header.height) == ("WebP", 9000, 8000)
    gif = b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 8
    bmp = b"BM" + b"\x00" * 16 + struct.pack("<iiHH", 640, -480, 1, 24)
    assert (sniff(gif).width, sniff(gif).height) == (640, 480)
    assert (sniff(bmp).width, sniff(bmp).height) == (640, 480)
    assert sniff(_wav(1.5)).seconds == pytest.approx(1.5)
    assert sniff(b"plain text") is None
