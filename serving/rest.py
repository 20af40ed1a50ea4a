"""The REST half: TensorFlow Serving's HTTP API as a Starlette app.

Routes (``NAME`` the model name, ``N`` a version):

* ``POST /v1/models/NAME[/versions/N]:predict``: row or columnar predict request.
* ``GET /v1/models/NAME[/versions/N]``: version status.
* ``GET /v1/models/NAME[/versions/N]/metadata``: signature defs.
* ``GET /openapi.json``: the OpenAPI description of the above.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kerazoo.serving.codec import decode_request, encode_response, to_feeds
from kerazoo.serving.errors import (
    InvalidRequestError,
    RequestTooLargeError,
    ServableNotFoundError,
    ServingError,
)
from kerazoo.serving.manager import ModelManager
from kerazoo.serving.openapi import openapi_spec

logger = logging.getLogger("kerazoo.serving.access")

_MODEL_PATH = re.compile(
    r"^(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?(?P<tail>:predict|/metadata)?$"
)


def _json(content: Any, status: int = 200) -> Response:
    body = json.dumps(content, allow_nan=True, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json")


def _error(error: ServingError) -> Response:
    return _json({"error": str(error)}, error.http_status)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(
            f"request body of {int(declared)} bytes exceeds the limit of {limit} bytes"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # chunked bodies have no Content-Length: count while reading
            raise RequestTooLargeError(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_path(path: str) -> tuple[str, int | None, str]:
    match = _MODEL_PATH.match(path)
    if not match:
        raise ServableNotFoundError(f"Malformed request: no route for /v1/models/{path}")
    version = match["version"]
    if version is not None and not version.isdigit():
        raise InvalidRequestError(f"version must be a non-negative integer, got {version!r}")
    return match["name"], (int(version) if version is not None else None), match["tail"] or ""


def _status(manager: ModelManager, name: str, version: int | None) -> dict:
    if version is None:
        manager.get(name)  # raises for an unknown model
        versions = manager.versions()
    else:
        versions = [manager.get(name, version).version]
    return {
        "model_version_status": [
            {"version": str(v), "state": "AVAILABLE",
             "status": {"error_code": "OK", "error_message": ""}}
            for v in sorted(versions, reverse=True)
        ]
    }


def _metadata(manager: ModelManager, name: str, version: int | None) -> dict:
    from google.protobuf import json_format

    servable = manager.get(name, version)
    defs = {
        key: json_format.MessageToDict(value, preserving_proto_field_name=True)
        for key, value in servable.signature_defs.items()
    }
    return {
        "model_spec": {"name": name, "signature_name": "", "version": str(servable.version)},
        "metadata": {"signature_def": {"signature_def": defs}},
    }


def create_app(manager: ModelManager, *, max_request_bytes: int = 16 << 20) -> Starlette:
    """The Starlette app serving ``manager``'s model over TensorFlow Serving's REST API.

    Args:
        manager: The versions to serve.
        max_request_bytes: Bodies above this size get HTTP 413. Defaults to 16 MiB.
    """

    async def models(request: Request) -> Response:
        try:
            name, version, tail = _parse_path(request.path_params["path"])
            if request.method == "GET":
                if tail == ":predict":
                    return _json({"error": "use POST for :predict"}, 405)
                if tail == "/metadata":
                    return _json(_metadata(manager, name, version))
                return _json(_status(manager, name, version))
            if tail != ":predict":
                return _json({"error": "only :predict accepts POST"}, 405)
            body = await _read_body(request, max_request_bytes)
            servable = manager.get(name, version)
            signature_name, payload, row_format = decode_request(body)
            signature = servable.signature(signature_name)
            feeds = to_feeds(payload, row_format, signature.inputs)
            outputs = await asyncio.wrap_future(
                await asyncio.to_thread(manager.predict_future, servable, signature, feeds)
                if manager.batching is None
                else manager.predict_future(servable, signature, feeds)
            )
            return _json(encode_response(outputs, row_format))
        except ServingError as error:
            return _error(error)
        except Exception as error:  # never let a request take the server down; report it
            logging.getLogger("kerazoo.serving").exception("predict failed")
            return _json({"error": f"internal error: {type(error).__name__}: {error}"}, 500)

    async def spec(request: Request) -> Response:
        return _json(openapi_spec(manager.model_name))

    app = Starlette(
        routes=[
            Route("/v1/models/{path:path}", models, methods=["GET", "POST"]),
            Route("/openapi.json", spec, methods=["GET"]),
        ],
    )
    return _AccessLog(app)


class _AccessLog:
    """ASGI middleware: one log line per HTTP request (method, path, status, milliseconds)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [0]

        async def send_with_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            logger.info(
                "REST %s %s %d %.2fms", scope["method"], scope["path"], status[0],
                (time.perf_counter() - start) * 1000,
            )
