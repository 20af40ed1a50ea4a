"""The OpenAPI 3.0 description of the REST API (served at ``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_VERSION = {
    "name": "version", "in": "path", "required": True,
    "schema": {"type": "integer", "minimum": 0},
}


def _paths(prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}:predict": {
            "post": {
                "summary": "Run a signature (TensorFlow Serving predict API)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/PredictRequest"}}},
                },
                "responses": {
                    "200": {"description": "Outputs", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/PredictResponse"}}}},
                    "400": _ERROR, "404": _ERROR, "408": _ERROR, "413": _ERROR,
                    "503": _ERROR,
                },
            }
        },
        prefix: {"get": {"summary": "Version status", "responses": {
            "200": {"description": "Status", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ModelStatus"}}}},
            "404": _ERROR}}},
        f"{prefix}/metadata": {"get": {"summary": "Signature defs", "responses": {
            "200": {"description": "Metadata", "content": {"application/json": {
                "schema": {"type": "object", "required": ["model_spec", "metadata"]}}}},
            "404": _ERROR}}},
    }


def openapi_spec(model_name: str) -> dict[str, Any]:
    """The OpenAPI document for a server that serves ``model_name``."""
    paths = {}
    for path, item in _paths(f"/v1/models/{model_name}").items():
        paths[path] = item
    for path, item in _paths(f"/v1/models/{model_name}/versions/{{version}}").items():
        for operation in item.values():
            operation["parameters"] = [_VERSION]
        paths[path] = item
    return {
        "openapi": "3.0.3",
        "info": {"title": "kerazoo serve (TensorFlow Serving REST API)", "version": "1"},
        "paths": paths,
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}}},
            "B64": {"type": "object", "required": ["b64"],
                    "properties": {"b64": {"type": "string", "format": "byte"}}},
            "PredictRequest": {
                "type": "object",
                "description": "Exactly one of 'instances' (row format: a list, one item per "
                               "example) and 'inputs' (columnar format).",
                "properties": {
                    "signature_name": {"type": "string", "default": "serving_default"},
                    "instances": {"type": "array", "minItems": 1},
                    "inputs": {},
                },
                "additionalProperties": False,
            },
            "PredictResponse": {
                "type": "object",
                "properties": {"predictions": {"type": "array"}, "outputs": {}},
            },
            "ModelStatus": {
                "type": "object",
                "properties": {"model_version_status": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string"},
                        "state": {"type": "string", "enum": ["AVAILABLE"]},
                        "status": {"type": "object"},
                    },
                }}},
            },
        }},
    }
