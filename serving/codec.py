"""TensorFlow Serving's REST JSON formats, decoded to NumPy feeds and encoded back.

Requests are either row format (``{"instances": [...]}``, one item per example) or columnar format
(``{"inputs": ...}``, one value per named input, batch dimension inside). Binary strings travel as
``{"b64": "..."}``. Responses mirror the request: ``{"predictions": [...]}`` for rows, ``{"outputs":
...}`` for columns; a signature with a single output gives bare values instead of a name->value map.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import numpy as np

from kerazoo.serving.errors import InvalidRequestError

REQUEST_KEYS = ("signature_name", "instances", "inputs")


def decode_request(body: bytes) -> tuple[str | None, Any, bool]:
    """Parse a ``:predict`` body into ``(signature_name, payload, row_format)``.

    Raises:
        InvalidRequestError: malformed JSON, a non-object body, unknown keys, both or neither of
            ``instances`` / ``inputs``.
    """
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nesting
        raise InvalidRequestError(f"malformed JSON request body: {error}") from None
    if not isinstance(request, dict):
        raise InvalidRequestError(
            f"request body must be a JSON object, got {type(request).__name__}"
        )
    unknown = sorted(set(request) - set(REQUEST_KEYS))
    if unknown:
        raise InvalidRequestError(
            f"unknown key(s) {unknown} in request; expected 'instances' or 'inputs' "
            "(and optionally 'signature_name')"
        )
    if "instances" in request and "inputs" in request:
        raise InvalidRequestError(
            "request has both 'instances' (row format) and 'inputs' (columnar format); use one"
        )
    if "instances" not in request and "inputs" not in request:
        raise InvalidRequestError("request has neither 'instances' nor 'inputs'")
    signature_name = request.get("signature_name")
    if signature_name is not None and not isinstance(signature_name, str):
        raise InvalidRequestError(f"'signature_name' must be a string, got {signature_name!r}")
    row_format = "instances" in request
    return signature_name, request["instances" if row_format else "inputs"], row_format


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def _is_named(value: Any) -> bool:
    return isinstance(value, dict) and not _is_b64(value)


def _string_leaf(value: Any, input_name: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if _is_b64(value):
        encoded = value["b64"]
        if not isinstance(encoded, str):
            raise InvalidRequestError(f"input {input_name!r}: 'b64' value must be a string")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidRequestError(
                f"input {input_name!r}: invalid base64 in 'b64' value: {error}"
            ) from None
    raise InvalidRequestError(
        f"input {input_name!r} expects strings (or {{\"b64\": ...}} objects), got {value!r:.60}"
    )


def _string_array(value: Any, input_name: str) -> np.ndarray:
    shape: list[int] = []
    probe = value
    while isinstance(probe, list):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat: list[bytes] = []

    def walk(item: Any, depth: int) -> None:
        if depth == len(shape):
            flat.append(_string_leaf(item, input_name))
            return
        if not isinstance(item, list) or len(item) != shape[depth]:
            raise InvalidRequestError(f"input {input_name!r} is ragged (lists of unequal length)")
        for child in item:
            walk(child, depth + 1)

    walk(value, 0)
    array = np.empty(len(flat), dtype=object)
    array[:] = flat
    return array.reshape(shape)


# Large payloads are converted this many rows at a time. NumPy holds the GIL for the whole of one
# conversion; in slices, the event loop and the other workers get to run between them (a 16 MB
# request would otherwise stall every other request for the length of each call).
CHUNK_ROWS = 2048


def _chunked_asarray(value: Any) -> np.ndarray:
    if not isinstance(value, list) or len(value) <= CHUNK_ROWS:
        return np.asarray(value)
    parts = [np.asarray(value[i:i + CHUNK_ROWS]) for i in range(0, len(value), CHUNK_ROWS)]
    if len({part.shape[1:] for part in parts}) != 1 or any(p.dtype.kind == "O" for p in parts):
        raise ValueError("ragged")
    return np.concatenate(parts)


def _chunked_tolist(array: np.ndarray, convert: Any = None) -> list:
    """``array.tolist()`` (after ``convert``), ``CHUNK_ROWS`` rows at a time (see above)."""
    rows: list = []
    for start in range(0, len(array), CHUNK_ROWS):
        part = array[start:start + CHUNK_ROWS]
        rows.extend((convert(part) if convert is not None else part).tolist())
    return rows


def dumps(content: Any) -> bytes:
    """Standard JSON (no NaN tokens); a long ``predictions`` list is encoded in slices."""
    rows = content.get("predictions") if isinstance(content, dict) and len(content) == 1 else None
    if not isinstance(rows, list) or len(rows) <= CHUNK_ROWS:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("utf-8")
    parts = [json.dumps(rows[i:i + CHUNK_ROWS], allow_nan=False, separators=(",", ":"))[1:-1]
             for i in range(0, len(rows), CHUNK_ROWS)]
    return ('{"predictions":[' + ",".join(parts) + "]}").encode("utf-8")


def to_array(value: Any, spec: Any, input_name: str) -> np.ndarray:
    """Convert a JSON value to an array of ``spec``'s dtype, checking dtype and shape.

    Args:
        value: The decoded JSON value (nested lists, numbers, strings, ``{"b64": ...}``).
        spec: The signature's ``tf.TensorSpec`` for this input.
        input_name: Used in error messages.
    """
    dtype = spec.dtype
    if dtype.name == "string":
        array = _string_array(value, input_name)
    else:
        try:
            raw = _chunked_asarray(value)
        except ValueError:
            raise InvalidRequestError(
                f"input {input_name!r} is ragged (lists of unequal length) or nested too deeply"
            ) from None
        target = np.dtype(dtype.as_numpy_dtype)
        kind = raw.dtype.kind
        if raw.size == 0 and kind == "f":
            kind = target.kind  # `[]` parses as float64; its dtype carries no information
        allowed = {"f": "iuf", "c": "iuf", "i": "iu", "u": "iu", "b": "b"}.get(target.kind, "")
        if kind not in allowed:
            got = {"U": "string", "O": "object or mixed", "b": "boolean", "f": "float"}.get(
                kind, raw.dtype.name
            )
            raise InvalidRequestError(
                f"input {input_name!r} expects {dtype.name} values, got {got} values"
            )
        if target.kind in "iu" and raw.size:
            info = np.iinfo(target)
            if raw.min() < info.min or raw.max() > info.max:
                raise InvalidRequestError(
                    f"input {input_name!r}: values outside the range of {dtype.name}"
                )
        with np.errstate(over="ignore"):  # 1e39 -> float32 inf: check_feeds reports it
            array = raw.astype(target, copy=False)
    if not spec.shape.is_compatible_with(array.shape):
        expected = [-1 if d is None else d for d in spec.shape.as_list()] if spec.shape.rank \
            is not None else "any"
        raise InvalidRequestError(
            f"input {input_name!r} has shape {list(array.shape)}, signature expects {expected} "
            "(-1: any size)"
        )
    return array


def to_feeds(payload: Any, row_format: bool, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Turn a request payload into ``{input name: array}`` for a signature with ``inputs`` specs."""
    names = sorted(inputs)
    if row_format:
        if not isinstance(payload, list) or not payload:
            raise InvalidRequestError("'instances' must be a non-empty list")
        named = [_is_named(item) for item in payload]
        if any(named) and not all(named):
            raise InvalidRequestError("'instances' mixes named (object) and bare instances")
        if not named[0]:
            if len(names) != 1:
                raise InvalidRequestError(
                    f"the signature has {len(names)} inputs {names}: each instance must be an "
                    "object mapping input names to values"
                )
            return {names[0]: to_array(payload, inputs[names[0]], names[0])}
        columns: dict[str, list] = {name: [] for name in names}
        for index, item in enumerate(payload):
            _check_names(item, names, f"instance {index}")
            for name in names:
                columns[name].append(item[name])
        return {name: to_array(columns[name], inputs[name], name) for name in names}
    if _is_named(payload):
        _check_names(payload, names, "'inputs'")
        return {name: to_array(payload[name], inputs[name], name) for name in names}
    if len(names) != 1:
        raise InvalidRequestError(
            f"the signature has {len(names)} inputs {names}: 'inputs' must be an object mapping "
            "input names to values"
        )
    return {names[0]: to_array(payload, inputs[names[0]], names[0])}


def _check_names(item: dict, names: list[str], where: str) -> None:
    missing = [name for name in names if name not in item]
    unknown = sorted(set(item) - set(names))
    if missing or unknown:
        raise InvalidRequestError(
            f"{where}: missing input(s) {missing}, unknown input(s) {unknown}; "
            f"the signature's inputs are {names}"
        )


def to_json_value(array: np.ndarray, output_name: str) -> Any:
    """A NumPy output as JSON-ready lists: float32 in its shortest form, bytes as text or b64."""
    if array.dtype.kind in "OSU":
        as_b64 = output_name.endswith("_bytes")

        def encode(item: Any) -> Any:
            if isinstance(item, str):
                return item
            if not as_b64:
                try:
                    return item.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            return {"b64": base64.b64encode(item).decode("ascii")}

        flat = [encode(item) for item in array.reshape(-1).tolist()]
        return np.array(flat, dtype=object).reshape(array.shape).tolist() if array.ndim else flat[0]
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return _non_finite_as_strings(array)
    if array.dtype == np.float32 or array.dtype == np.float16:
        # float32 -> str gives the shortest decimal that round-trips (0.1, not 0.10000000149).
        if array.ndim == 0:
            return array.astype(str).astype(np.float64).tolist()
        return _chunked_tolist(array, lambda part: part.astype(str).astype(np.float64))
    return _chunked_tolist(array) if array.ndim else array.tolist()


def _non_finite_as_strings(array: np.ndarray) -> Any:
    """Floats with NaN or infinities as standard JSON: those become the strings "NaN",
    "Infinity" and "-Infinity" (protobuf's JSON mapping for floats), the rest stay numbers."""
    shortest = array.astype(str).astype(np.float64) if array.dtype.itemsize < 8 else array

    def encode(value: float) -> Any:
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return value

    flat = [encode(value) for value in np.asarray(shortest, np.float64).reshape(-1).tolist()]
    return np.array(flat, dtype=object).reshape(array.shape).tolist() if array.ndim else flat[0]


def encode_response(outputs: dict[str, np.ndarray], row_format: bool) -> dict[str, Any]:
    """Build ``{"predictions": ...}`` (row format) or ``{"outputs": ...}`` (columnar format)."""
    names = sorted(outputs)
    values = {name: to_json_value(outputs[name], name) for name in names}
    if not row_format:
        return {"outputs": values[names[0]] if len(names) == 1 else values}
    batch_sizes = {name: (outputs[name].shape[0] if outputs[name].ndim else None) for name in names}
    if len(set(batch_sizes.values())) != 1 or None in batch_sizes.values():
        raise InvalidRequestError(
            "the outputs do not share a batch dimension "
            f"({batch_sizes}); use the columnar format ('inputs') for this signature"
        )
    if len(names) == 1:
        return {"predictions": values[names[0]]}
    rows = zip(*(values[name] for name in names), strict=True)
    return {"predictions": [dict(zip(names, row, strict=True)) for row in rows]}


# -- the large-request lane: parsing and encoding in a worker process ----------------------------
# json.loads of a 16 MB body is one C call that holds the GIL for seconds on a busy machine; in a
# thread it stalls the event loop and every small request with it. Large bodies are therefore
# parsed (and their responses encoded) in a separate process, which needs the signatures' input
# specs in a form that does not import TensorFlow.


class _PortableDtype:
    def __init__(self, name: str) -> None:
        self.name = name
        self.as_numpy_dtype = object if name == "string" else np.dtype(name).type


class _PortableShape:
    def __init__(self, dims: list | None) -> None:
        self.dims = dims
        self.rank = None if dims is None else len(dims)

    def as_list(self) -> list:
        return list(self.dims)

    def is_compatible_with(self, shape: tuple) -> bool:
        if self.dims is None:
            return True
        return len(shape) == len(self.dims) and all(
            want is None or want == got for want, got in zip(self.dims, shape, strict=True))


class PortableSpec:
    """A picklable stand-in for ``tf.TensorSpec`` with what ``to_array`` reads."""

    def __init__(self, dtype_name: str, dims: list | None) -> None:
        self.dtype = _PortableDtype(dtype_name)
        self.shape = _PortableShape(dims)


def portable_specs(signatures: dict[str, Any]) -> dict[str, dict[str, PortableSpec]] | None:
    """``{signature: {input: PortableSpec}}``, or None if some dtype has no NumPy equivalent."""
    result: dict[str, dict[str, PortableSpec]] = {}
    try:
        for name, signature in signatures.items():
            result[name] = {
                key: PortableSpec(spec.dtype.name, None if spec.shape.rank is None
                                  else spec.shape.as_list())
                for key, spec in signature.inputs.items()
            }
    except TypeError:  # bfloat16 and other dtypes NumPy does not name
        return None
    return result


def parse_portable(body: bytes, specs: dict[str, dict[str, PortableSpec]], limits: Any,
                   default_signature: str) -> tuple[str, dict | None, bool]:
    """``(signature name, feeds, row_format)`` for a body; feeds None for an unknown signature
    (the caller raises the usual error). Runs in the large-request process."""
    from kerazoo.serving.limits import check_feeds

    signature_name, payload, row_format = decode_request(body)
    name = signature_name or default_signature
    if name not in specs:
        return name, None, row_format
    feeds = to_feeds(payload, row_format, specs[name])
    check_feeds(feeds, limits)
    return name, feeds, row_format


def encode_portable(outputs: dict[str, np.ndarray], row_format: bool) -> bytes:
    """The response body for ``outputs``. Runs in the large-request process."""
    return dumps(encode_response(outputs, row_format))
