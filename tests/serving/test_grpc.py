"""gRPC API, driven with tensorflow-serving-api's own PredictionServiceStub."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

pytestmark = pytest.mark.tf_only

@pytest.fixture
def stubs(serve, export_dir):
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

    server = serve(export_dir, rest_port=-1, max_request_bytes=4096)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    yield (prediction_service_pb2_grpc.PredictionServiceStub(channel),
           model_service_pb2_grpc.ModelServiceStub(channel))
    channel.close()


def _request(features, version=None, signature="", name="default"):
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(np.asarray(features, np.float32)))
    return request


def test_predict_matches_reference_per_version(stubs, reference):
    import tensorflow as tf

    prediction, _ = stubs
    features = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, -1.0]]
    for version, scale in ((None, -1.0), (1, 1.0), (2, -1.0)):
        response = prediction.Predict(_request(features, version), timeout=10)
        expected = reference(features, scale)
        outputs = {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
        np.testing.assert_allclose(outputs["probabilities"], expected["probabilities"], rtol=1e-6)
        np.testing.assert_array_equal(outputs["class_ids"], expected["class_ids"])
        assert [s.decode() for s in outputs["labels"]] == expected["labels"]
        assert response.model_spec.version.value == (version or 2)
        assert response.model_spec.signature_name == "serving_default"


def test_output_filter_and_bytes_signature(stubs, png_factory):
    import tensorflow as tf

    prediction, _ = stubs
    request = _request([[1.0, 2.0, 3.0, 4.0]])
    request.output_filter.append("labels")
    assert list(prediction.Predict(request, timeout=10).outputs) == ["labels"]
    from tensorflow_serving.apis import predict_pb2

    image_request = predict_pb2.PredictRequest()
    image_request.model_spec.name = "default"
    image_request.model_spec.signature_name = "predict_image_bytes"
    image_request.inputs["image_bytes"].CopyFrom(
        tf.make_tensor_proto([png_factory(9), png_factory(50)]))
    response = prediction.Predict(image_request, timeout=10)
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["mean"]), [9.0, 50.0])


def test_get_model_metadata_packs_signature_def_map(stubs):
    from tensorflow_serving.apis import get_model_metadata_pb2

    prediction, _ = stubs
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "default"
    request.metadata_field.append("signature_def")
    response = prediction.GetModelMetadata(request, timeout=10)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    default = signature_map.signature_def["serving_default"]
    assert set(default.inputs) == {"features"}
    assert set(default.outputs) == {"probabilities", "class_ids", "labels"}
    assert response.model_spec.version.value == 2


def test_get_model_status(stubs):
    from tensorflow_serving.apis import get_model_status_pb2

    _, models = stubs
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "default"
    response = models.GetModelStatus(request, timeout=10)
    assert [s.version for s in response.model_version_status] == [2, 1]


def _with(request, **changes):
    import tensorflow as tf

    if "inputs" in changes:
        request.inputs.clear()
        for name, value in changes["inputs"].items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


@pytest.mark.parametrize("make,code", [
    (lambda: _request([[1.0, 2.0, 3.0, 4.0]], name="other"), grpc.StatusCode.NOT_FOUND),
    (lambda: _request([[1.0, 2.0, 3.0, 4.0]], version=7), grpc.StatusCode.NOT_FOUND),
    (lambda: _request([[1.0, 2.0, 3.0]]), grpc.StatusCode.INVALID_ARGUMENT),
    (lambda: _with(_request([[1.0]]), inputs={"features": np.ones((1, 4), np.int32)}),
     grpc.StatusCode.INVALID_ARGUMENT),
    (lambda: _with(_request([[1.0]]), inputs={"pixels": np.ones((1, 4), np.float32)}),
     grpc.StatusCode.INVALID_ARGUMENT),
    (lambda: _request([[1.0, 2.0, 3.0, 4.0]], signature="nope"), grpc.StatusCode.INVALID_ARGUMENT),
    (lambda: _request(np.ones((400, 4))), grpc.StatusCode.RESOURCE_EXHAUSTED),
], ids=["unknown model", "unknown version", "wrong shape", "wrong dtype", "wrong input",
        "unknown signature", "oversized"])
def test_bad_requests_get_grpc_status_and_server_keeps_answering(stubs, make, code):
    prediction, _ = stubs
    with pytest.raises(grpc.RpcError) as caught:
        prediction.Predict(make(), timeout=10)
    assert caught.value.code() == code
    assert caught.value.details()
    assert prediction.Predict(_request([[1.0, 2.0, 3.0, 4.0]]), timeout=10).outputs["labels"]


def test_busy_port_is_a_clear_error_before_the_model_loads(tmp_path):
    import socket

    from kerazoo.errors import KerazooError
    from kerazoo.serving.server import ModelServer, ServerConfig

    # An empty export directory: had the model been loaded first, the error would be about it.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for ports, flag in (({"grpc_port": port, "rest_port": -1}, "--grpc-port 0"),
                            ({"grpc_port": -1, "rest_port": port}, "--rest-port 0")):
            with pytest.raises(KerazooError, match=f"cannot bind the .* server to 127.0.0.1:{port}"
                               f".*{flag}"):
                ModelServer(ServerConfig(tmp_path, poll_interval_s=0, **ports))


def test_grpc_port_held_by_another_kerazoo_server_is_refused(serve, export_dir):
    """grpcio sets SO_REUSEPORT by default: two servers could share one port and split clients."""
    from kerazoo.errors import KerazooError
    from kerazoo.serving.server import ModelServer, ServerConfig

    first = serve(export_dir, rest_port=-1)
    with pytest.raises(KerazooError, match=f"gRPC server to 127.0.0.1:{first.grpc_port}"):
        ModelServer(ServerConfig(export_dir, rest_port=-1, grpc_port=first.grpc_port,
                                 poll_interval_s=0))
