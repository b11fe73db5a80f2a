"""Ideogram's v2 schema subset (`tests/data/openapi/ideogram-v2-subset-2026-10.json`) as a
test oracle for requests the client builds and answers the simulator gives.

The conversion is `openapi_support`'s (OpenAPI 3.0 → JSON Schema draft 4: `nullable` as a null
type, examples and discriminators dropped, `$ref`s resolved against a root that carries
`components`); only the document differs, so this module keeps its own registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import openapi_support as oa
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "openapi" / "ideogram-v2-subset-2026-10.json"
_ROOT_URI = "urn:ideogram-openapi-v2-subset"

requires_v2_schema = pytest.mark.skipif(not SCHEMA_PATH.is_file(), reason=f"{SCHEMA_PATH} is missing")


@cache
def openapi() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _components() -> dict[str, Any]:
    return {"schemas": oa.to_json_schema(openapi()["components"]["schemas"])}


@cache
def _registry() -> Registry:
    return Registry().with_resource(_ROOT_URI, Resource(contents={"components": _components()}, specification=DRAFT4))


def _rebase(node: Any) -> Any:
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rebase(v) for k, v in node.items()}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = _ROOT_URI + out["$ref"]
    return out


def errors(schema: Mapping[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(_rebase(oa.to_json_schema(schema)), registry=_registry())
    found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in found]


def resolve(node: Mapping[str, Any]) -> dict[str, Any]:
    node = dict(node)
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = {**_components()["schemas"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    if "allOf" in node:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            sub = resolve(part)
            for key, value in sub.items():
                merged.setdefault(key, value)
        node = merged
    return node


def operation(path: str, method: str = "post") -> dict[str, Any]:
    return openapi()["paths"][path][method]


def media(path: str, content_type: str) -> dict[str, Any]:
    return operation(path)["requestBody"]["content"][content_type]


def properties(path: str, content_type: str) -> dict[str, Any]:
    body = resolve(oa.to_json_schema(media(path, content_type)["schema"]))
    return {name: resolve(prop) for name, prop in body.get("properties", {}).items()}


def query_parameters(path: str) -> set[str]:
    return {p["name"] for p in operation(path).get("parameters", []) if p.get("in") == "query"}


def coerce_multipart(path: str, fields: Mapping[str, list[str]], files: Mapping[str, list[bytes]]) -> tuple[dict, list]:
    """Multipart parts → the object the schema describes (`openapi_support.coerce_parts` over
    this document; a file part for a field the route lacks is an error too)."""
    enc = media(path, "multipart/form-data").get("encoding") or {}
    declared = {name: part.get("contentType", "") for name, part in enc.items()}
    props = properties(path, "multipart/form-data")
    return oa.coerce_parts(props, declared, resolve, fields, files, unknown_file_is_error=True)


def request_errors(decoded: oa.DecodedRequest) -> list[str]:
    """Errors of a decoded request against its v2 route's request body schema."""
    content = decoded.content_type
    schema = media(decoded.path, content)["schema"]
    if content == "application/json":
        return errors(schema, decoded.json)
    body, problems = coerce_multipart(decoded.path, decoded.fields, decoded.files)
    return problems + errors(schema, body)


def response_errors(path: str, status: int, body: Any, method: str = "post") -> list[str]:
    answers = operation(path, method)["responses"]
    answer = answers.get(str(status))
    if answer is None:
        return [f"status {status} is not a documented answer of {method.upper()} {path}"]
    found = (answer.get("content") or {}).get("application/json")
    return [] if found is None else errors(found["schema"], body)


def schema_of(name: str) -> dict[str, Any]:
    return openapi()["components"]["schemas"][name]
