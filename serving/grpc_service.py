"""The gRPC half: TensorFlow Serving's ``PredictionService`` and ``ModelService`` on grpcio.

Uses the message and service definitions of the ``tensorflow-serving-api`` package, so a client
built with its ``PredictionServiceStub`` talks to this server exactly as to TensorFlow Serving.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc

from kerazoo.errors import KerazooError
from kerazoo.serving.errors import InvalidRequestError, ServingError
from kerazoo.serving.limits import InputLimits, check_feeds
from kerazoo.serving.manager import ModelManager

logger = logging.getLogger("kerazoo.serving.access")


def _import_apis() -> Any:
    try:
        from tensorflow_serving.apis import (
            get_model_metadata_pb2,
            get_model_status_pb2,
            model_service_pb2_grpc,
            predict_pb2,
            prediction_service_pb2_grpc,
        )
    except ImportError as error:
        raise KerazooError(
            "gRPC serving needs the tensorflow-serving-api protos, which a plain "
            "`pip install kerazoo` installs; reinstall kerazoo "
            f"(or pass --grpc-port -1 to serve REST only). Import failed: {error}"
        ) from error
    return (get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
            prediction_service_pb2_grpc)


def _logged(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        start = time.perf_counter()
        code = "OK"
        try:
            return method(self, request, context)
        except ServingError as error:
            code = error.grpc_code
            context.abort(getattr(grpc.StatusCode, error.grpc_code), str(error))
        except Exception as error:
            code = "INTERNAL"
            logging.getLogger("kerazoo.serving").exception("gRPC %s failed", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
        finally:
            logger.info("gRPC %s %s %.2fms", method.__name__, code,
                        (time.perf_counter() - start) * 1000)

    return wrapper


def _requested_version(model_spec: Any) -> int | None:
    if model_spec.HasField("version"):
        return int(model_spec.version.value)
    if model_spec.version_label:
        raise InvalidRequestError("version labels are not supported; request a version number")
    return None


def build_grpc_server(
    manager: ModelManager | Callable[[], ModelManager],
    address: str,
    *,
    max_message_bytes: int = 16 << 20,
    workers: int = 16,
    limits: InputLimits | None = None,
    max_concurrent_rpcs: int | None = None,
) -> tuple[grpc.Server, int]:
    """Create (not start) a gRPC server for ``manager`` bound to ``address`` ("host:port").

    Args:
        manager: The versions to serve, or a function returning them at call time (so the port
            can be bound before the model is loaded).
        address: ``host:port``; port 0 picks a free one.
        max_message_bytes: Largest request message.
        workers: Handler threads.
        limits: Decoded-size budgets and the non-finite policy. Defaults to ``InputLimits()``.
        max_concurrent_rpcs: RPCs above this get RESOURCE_EXHAUSTED. Defaults to no limit.

    Returns:
        The server and the bound port (useful with port 0).

    Raises:
        KerazooError: the port is taken (SO_REUSEPORT is off, so a second server cannot share
            it silently).
    """
    import tensorflow as tf

    (metadata_pb2, status_pb2, model_service_grpc, predict_pb2, prediction_grpc) = _import_apis()
    get_manager = manager if callable(manager) else (lambda: manager)
    limits = limits or InputLimits()

    class PredictionService(prediction_grpc.PredictionServiceServicer):
        @_logged
        def Predict(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            spec = request.model_spec
            manager = get_manager()
            servable = manager.get(spec.name, _requested_version(spec))
            signature = servable.signature(spec.signature_name or None)
            unknown = sorted(set(request.inputs) - set(signature.inputs))
            missing = sorted(set(signature.inputs) - set(request.inputs))
            if unknown or missing:
                raise InvalidRequestError(
                    f"missing input(s) {missing}, unknown input(s) {unknown}; the signature's "
                    f"inputs are {sorted(signature.inputs)}"
                )
            feeds = {}
            for name, proto in request.inputs.items():
                expected = signature.inputs[name]
                if proto.dtype != expected.dtype.as_datatype_enum:
                    raise InvalidRequestError(
                        f"input {name!r} expects {expected.dtype.name}, got "
                        f"{tf.dtypes.as_dtype(proto.dtype).name if proto.dtype else 'DT_INVALID'}"
                    )
                try:
                    array = tf.make_ndarray(proto)
                except Exception as error:
                    raise InvalidRequestError(f"input {name!r}: bad TensorProto: {error}") from None
                if not expected.shape.is_compatible_with(array.shape):
                    raise InvalidRequestError(
                        f"input {name!r} has shape {list(array.shape)}, signature expects "
                        f"{expected.shape}"
                    )
                feeds[name] = array
            check_feeds(feeds, limits)
            wanted = list(request.output_filter) or list(signature.outputs)
            unknown_outputs = sorted(set(wanted) - set(signature.outputs))
            if unknown_outputs:
                raise InvalidRequestError(
                    f"output_filter names unknown output(s) {unknown_outputs}; outputs are "
                    f"{sorted(signature.outputs)}"
                )
            outputs = manager.predict_future(servable, signature, feeds).result()
            response = predict_pb2.PredictResponse()
            response.model_spec.name = spec.name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = signature.name
            for name in wanted:
                response.outputs[name].CopyFrom(tf.make_tensor_proto(outputs[name]))
            return response

        @_logged
        def GetModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            spec = request.model_spec
            manager = get_manager()
            servable = manager.get(spec.name, _requested_version(spec))
            fields = list(request.metadata_field)
            if fields != ["signature_def"]:
                raise InvalidRequestError(
                    f"metadata_field must be ['signature_def'], got {fields}"
                )
            signature_map = metadata_pb2.SignatureDefMap()
            for key, value in servable.signature_defs.items():
                signature_map.signature_def[key].CopyFrom(value)
            response = metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = spec.name
            response.model_spec.version.value = servable.version
            response.metadata["signature_def"].Pack(signature_map)
            return response

    class ModelService(model_service_grpc.ModelServiceServicer):
        @_logged
        def GetModelStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            spec = request.model_spec
            version = _requested_version(spec)
            response = status_pb2.GetModelStatusResponse()
            for status in get_manager().status(spec.name, version):
                entry = response.model_version_status.add()
                entry.version = status["version"]
                entry.state = getattr(status_pb2.ModelVersionStatus, status["state"])
                if status["status"]["error_message"]:
                    entry.status.error_code = 2  # UNKNOWN: the version failed to load
                    entry.status.error_message = status["status"]["error_message"]
            return response

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kerazoo-grpc"),
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max(max_message_bytes, 64 << 20)),
            # grpcio sets SO_REUSEPORT by default: a second server would then share the port
            # and take some of the first one's clients. Off, a taken port fails to bind.
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
    )
    prediction_grpc.add_PredictionServiceServicer_to_server(PredictionService(), server)
    model_service_grpc.add_ModelServiceServicer_to_server(ModelService(), server)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as error:  # grpcio raises here; older releases returned 0
        port, reason = 0, str(error).split(";")[0]
    else:
        reason = "bind failed"
    if port == 0:
        server.stop(0)
        raise KerazooError(
            f"cannot bind the gRPC server to {address}: {reason}; is another server using it? "
            "Pick another port or pass --grpc-port 0 for a free one"
        )
    return server, port
