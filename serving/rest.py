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
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kerazoo.serving.codec import (
    decode_request,
    dumps,
    encode_portable,
    encode_response,
    parse_portable,
    portable_specs,
    to_feeds,
)
from kerazoo.serving.errors import (
    InvalidRequestError,
    OverloadedError,
    RequestTimeoutError,
    RequestTooLargeError,
    ServableNotFoundError,
    ServingError,
)
from kerazoo.serving.limits import InputLimits, check_feeds
from kerazoo.serving.manager import ModelManager
from kerazoo.serving.model_store import DEFAULT_SIGNATURE
from kerazoo.serving.openapi import openapi_spec
from kerazoo.serving.workers import WorkerPool

logger = logging.getLogger("kerazoo.serving.access")

_MODEL_PATH = re.compile(
    r"^(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?(?P<tail>:predict|/metadata)?$"
)


def _json(content: Any, status: int = 200, headers: dict | None = None) -> Response:
    # allow_nan=False: responses are standard JSON (non-finite outputs are encoded as strings).
    body = json.dumps(content, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(error: ServingError) -> Response:
    headers = {"Retry-After": "1"} if isinstance(error, OverloadedError) else None
    return _json({"error": str(error)}, error.http_status, headers)


class ClientDisconnected(Exception):
    """The client hung up before sending its whole body: nothing to answer, nothing to log."""


async def _read_body(receive: Any, headers: Any, limit: int, timeout_s: float) -> bytes:
    """The request body, refusing it above ``limit`` bytes or when a read stalls ``timeout_s``."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(
            f"request body of {int(declared)} bytes exceeds the limit of {limit} bytes"
        )
    chunks, size = [], 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), timeout_s)
        except TimeoutError:
            raise RequestTimeoutError(
                f"request body incomplete: {size} bytes received, then nothing for "
                f"{timeout_s:g} s (--body-timeout)"
            ) from None
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # chunked bodies have no Content-Length: count while reading
            raise RequestTooLargeError(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
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
    return {
        "model_version_status": [
            dict(entry, version=str(entry["version"])) for entry in manager.status(name, version)
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


def create_app(
    manager: ModelManager,
    *,
    max_request_bytes: int = 16 << 20,
    limits: InputLimits | None = None,
    pool: WorkerPool | None = None,
    body_timeout_s: float = 30.0,
    large_body_bytes: int = 1 << 20,
) -> Starlette:
    """The Starlette app serving ``manager``'s model over TensorFlow Serving's REST API.

    Args:
        manager: The versions to serve.
        max_request_bytes: Bodies above this size get HTTP 413. Defaults to 16 MiB.
        limits: Decoded-size budgets and the non-finite policy. Defaults to ``InputLimits()``.
        pool: Where parsing and inference run. Defaults to 4 workers, 64 pending requests.
        body_timeout_s: A body read that stalls this long gets HTTP 408. Defaults to 30.
        large_body_bytes: Bodies from this size on are parsed, and their responses encoded, in
            the pool's large-request process. Defaults to 1 MiB.
    """
    limits = limits or InputLimits()
    pool = pool or WorkerPool(4, 64, large_lane=False)

    def parse(servable: Any, body: bytes) -> tuple[Any, dict, bool]:
        signature_name, payload, row_format = decode_request(body)
        signature = servable.signature(signature_name)
        feeds = to_feeds(payload, row_format, signature.inputs)
        check_feeds(feeds, limits)
        return signature, feeds, row_format

    def respond(outputs: dict, row_format: bool) -> bytes:
        return dumps(encode_response(outputs, row_format))

    def parse_predict_respond(servable: Any, body: bytes) -> bytes:
        signature, feeds, row_format = parse(servable, body)
        outputs = manager.predict_future(servable, signature, feeds).result()
        return respond(outputs, row_format)

    async def predict(request: Request, name: str, version: int | None) -> Response:
        with pool.admit():
            body = await _read_body(request.receive, request.headers, max_request_bytes,
                                    body_timeout_s)
            servable = manager.get(name, version)
            specs = (portable_specs(servable.signatures)
                     if len(body) >= large_body_bytes and pool.has_large_lane else None)
            if specs is not None:
                return await predict_large(servable, body, specs)
            if manager.batching is None:
                content = await pool.run(parse_predict_respond, servable, body)
            else:
                # Parse on a worker, then queue for the batcher from here: the batcher needs
                # many requests in flight at once, which blocked workers would cap.
                signature, feeds, row_format = await pool.run(parse, servable, body)
                outputs = await asyncio.wrap_future(
                    manager.predict_future(servable, signature, feeds))
                content = await pool.run(respond, outputs, row_format)
        return Response(content, media_type="application/json")

    async def predict_large(servable: Any, body: bytes, specs: dict) -> Response:
        signature_name, feeds, row_format = await pool.run_large(
            parse_portable, body, specs, limits, DEFAULT_SIGNATURE)
        signature = servable.signature(signature_name)  # raises for an unknown signature
        future = manager.predict_future if manager.batching is not None else None
        if future is not None:
            outputs = await asyncio.wrap_future(future(servable, signature, feeds))
        else:
            outputs = await pool.run(
                lambda: manager.predict_future(servable, signature, feeds).result())
        return Response(await pool.run_large(encode_portable, outputs, row_format),
                        media_type="application/json")

    async def models(request: Request) -> Response:
        try:
            name, version, tail = _parse_path(request.path_params["path"])
            if request.method == "GET":
                if tail == ":predict":
                    return _json({"error": "use POST for :predict"}, 405, {"Allow": "POST"})
                if tail == "/metadata":
                    return _json(_metadata(manager, name, version))
                return _json(_status(manager, name, version))
            if tail != ":predict":
                return _json({"error": "only :predict accepts POST"}, 405, {"Allow": "GET"})
            return await predict(request, name, version)
        except ServingError as error:
            return _error(error)
        except ClientDisconnected:
            logging.getLogger("kerazoo.serving").debug(
                "client %s hung up before sending its whole request body", request.client)
            return Response(status_code=499)  # never sent: the connection is gone
        except Exception as error:  # never let a request take the server down; report it
            logging.getLogger("kerazoo.serving").exception("predict failed")
            return _json({"error": f"internal error: {type(error).__name__}: {error}"}, 500)

    async def spec(request: Request) -> Response:
        return _json(openapi_spec(manager.model_name))

    async def http_error(request: Request, error: Exception) -> Response:
        # Starlette's own 404 / 405 replies are plain text; TF Serving's clients expect JSON.
        status = getattr(error, "status_code", 500)
        detail = getattr(error, "detail", None) or str(error)
        if status == 405:
            detail = f"method {request.method} is not allowed for {request.url.path}"
        return _json({"error": detail}, status, getattr(error, "headers", None))

    async def internal_error(request: Request, error: Exception) -> Response:
        return _json({"error": f"internal error: {type(error).__name__}: {error}"}, 500)

    app = Starlette(
        routes=[
            Route("/v1/models/{path:path}", models, methods=["GET", "POST"]),
            Route("/openapi.json", spec, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
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
