"""Request errors with the HTTP status and gRPC status code TensorFlow Serving gives them."""

from __future__ import annotations

from kerazoo.errors import KerazooError


class ServingError(KerazooError):
    """A request the server refuses: ``http_status`` for REST, ``grpc_code`` (a name) for gRPC."""

    http_status = 400
    grpc_code = "INVALID_ARGUMENT"


class InvalidRequestError(ServingError):
    """Malformed body, wrong keys, shapes or dtypes (HTTP 400, gRPC INVALID_ARGUMENT)."""


class ServableNotFoundError(ServingError):
    """Unknown model, version or signature (HTTP 404, gRPC NOT_FOUND)."""

    http_status = 404
    grpc_code = "NOT_FOUND"


class RequestTooLargeError(ServingError):
    """Body above the configured limit (HTTP 413, gRPC RESOURCE_EXHAUSTED)."""

    http_status = 413
    grpc_code = "RESOURCE_EXHAUSTED"


class OverloadedError(ServingError):
    """Every worker busy and the queue full (HTTP 503 with Retry-After, gRPC UNAVAILABLE)."""

    http_status = 503
    grpc_code = "UNAVAILABLE"


class RequestTimeoutError(ServingError):
    """The client stopped sending its body (HTTP 408, gRPC DEADLINE_EXCEEDED)."""

    http_status = 408
    grpc_code = "DEADLINE_EXCEEDED"
