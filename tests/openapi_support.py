"""Ideogram's official OpenAPI schema as a test oracle: what the service says it accepts
(requests) and what it answers (JSON responses).

Why here and not in the package: the schema is reference data, kept verbatim in
`tests/data/openapi/` (provenance in its README), used only to check that the client sends
and the simulator answers exactly what the direct provider documents. Tests that need it use
`requires_schema`, which skips with the reason only if the file were missing.

OpenAPI 3.0 → JSON Schema (draft 4 semantics, which 3.0 is built on), as
`tests/data/openapi/README.md` says: `example`/`discriminator`/`externalDocs` dropped,
`nullable: true` made a `null` type, `#/components/schemas/...` references kept and resolved
against a root document that carries `components`, `allOf` merged where field types are
looked up. Multipart parts arrive as strings: `coerce_multipart` turns them into the values
the schema describes (by the `encoding` block's contentType first, then by the property's
type); file parts are `format: binary` strings.

Public helpers (others import them; keep the names):
`schema_available()`, `requires_schema`, `request_schema(path, content_type)`,
`request_errors(...)`, `validate_json_request(path, body)`,
`validate_multipart_request(path, fields, files)`, `validate_response(path, status, body)`,
`decode_request(request)`, `validate_http_request(request)`, `wire_to_httpx(wire, base_url)`,
`capture_client_request(spec)`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "openapi" / "ideogram-v1-2026-06.json"
SKIP_REASON = f"Ideogram's OpenAPI schema is not in this workspace ({SCHEMA_PATH})"
_ROOT_URI = "urn:ideogram-openapi-v1"
_DROPPED = frozenset({"example", "examples", "discriminator", "externalDocs", "xml"})
#: The placeholder a file part becomes before validation (binary strings are strings).
BINARY = "<binary>"


def schema_available() -> bool:
    return SCHEMA_PATH.is_file()


requires_schema = pytest.mark.skipif(not schema_available(), reason=SKIP_REASON)


class SchemaViolation(AssertionError):
    """A request or response that Ideogram's schema does not allow; lists every reason."""

    def __init__(self, where: str, errors: list[str]) -> None:
        self.where = where
        self.errors = errors
        super().__init__(f"{where}: " + "; ".join(errors))


# --- loading and converting -------------------------------------------------------------------
@cache
def openapi() -> dict[str, Any]:
    """The raw OpenAPI document (skips the calling test when it is absent)."""
    if not schema_available():
        pytest.skip(SKIP_REASON)
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def to_json_schema(node: Any) -> Any:
    """One OpenAPI 3.0 schema object as JSON Schema (draft 4), recursively."""
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k not in _DROPPED and k != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _components() -> dict[str, Any]:
    return {"schemas": to_json_schema(openapi()["components"]["schemas"])}


@cache
def _registry() -> Registry:
    root = Resource(contents={"components": _components()}, specification=DRAFT4)
    return Registry().with_resource(_ROOT_URI, root)


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_rebase(schema), registry=_registry())


def _rebase(node: Any) -> Any:
    """Point local `#/components/...` refs at the registered root document."""
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rebase(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = _ROOT_URI + ref
    return out


def resolve(node: Mapping[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s and merge `allOf` (properties, required) into one object schema."""
    node = dict(node)
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = {**_components()["schemas"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    if "allOf" in node:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        props: dict[str, Any] = {}
        required: list[str] = []
        for part in node["allOf"]:
            sub = resolve(part)
            props.update(sub.get("properties", {}))
            required += sub.get("required", [])
            merged.setdefault("type", sub.get("type"))
        props.update(node.get("properties", {}))
        required += node.get("required", [])
        merged["properties"], merged["required"] = props, sorted(set(required))
        node = merged
    return node


def _operation(path: str) -> dict[str, Any]:
    try:
        return openapi()["paths"][path]["post"]
    except KeyError:
        raise KeyError(f"the schema has no POST {path}") from None


def _media(path: str, content_type: str) -> dict[str, Any]:
    content = _operation(path)["requestBody"]["content"]
    if content_type not in content:
        raise KeyError(f"POST {path} does not take {content_type}; it takes {', '.join(content)}")
    return content[content_type]


def request_schema(path: str, content_type: str) -> dict[str, Any]:
    """The request body's JSON Schema for `path`, self-contained (it carries `components`),
    so `jsonschema.Draft4Validator(request_schema(...)).validate(body)` works as is."""
    body = to_json_schema(_media(path, content_type)["schema"])
    return {**resolve(body), "components": _components()}


def request_properties(path: str, content_type: str) -> dict[str, Any]:
    """Field name → resolved property schema (what the schema lets a client send)."""
    body = resolve(to_json_schema(_media(path, content_type)["schema"]))
    return {name: resolve(prop) for name, prop in body.get("properties", {}).items()}


def encoding(path: str) -> dict[str, str]:
    """Multipart part name → declared contentType (the `encoding` block)."""
    enc = _media(path, "multipart/form-data").get("encoding") or {}
    return {name: spec.get("contentType", "") for name, spec in enc.items()}


def property_errors(path: str, content_type: str, name: str, value: Any) -> list[str]:
    """Errors of one field's value against its property schema on `path` (e.g. to check a
    field another route lacks against the route that has it)."""
    props = resolve(to_json_schema(_media(path, content_type)["schema"])).get("properties") or {}
    if name not in props:
        return [f"POST {path} has no field {name!r}"]
    return [f"{name}: {e}" for e in _errors(props[name], value)]


def _errors(schema: Mapping[str, Any], instance: Any) -> list[str]:
    found = sorted(_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in found]


# --- requests -----------------------------------------------------------------------------------
def json_request_errors(path: str, body: Any) -> list[str]:
    schema = to_json_schema(_media(path, "application/json")["schema"])
    return _errors(schema, body)


def validate_json_request(path: str, body: Any) -> None:
    """Raise `SchemaViolation` unless `body` is a valid JSON body for POST `path`."""
    errors = json_request_errors(path, body)
    if errors:
        raise SchemaViolation(f"POST {path} (JSON)", errors)


def _coerce_scalar(text: str, prop: Mapping[str, Any]) -> Any:
    kind = prop.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
        if kind in ("object", "array"):
            return json.loads(text)
    except ValueError:
        pass  # left a string: validation then names the type error
    return text


def coerce_multipart(
    path: str, fields: Mapping[str, list[str]], files: Mapping[str, list[bytes]]
) -> tuple[dict[str, Any], list[str]]:
    """Multipart parts → the object the schema describes, plus encoding errors found on the way.

    String parts are decoded by the `encoding` block's contentType (application/json → JSON)
    and otherwise by the property's type; a repeated part is an array. File parts become
    `BINARY` placeholders. A file sent where the schema wants a value (or the reverse) is an
    error here, since jsonschema cannot see the difference.
    """
    return coerce_parts(request_properties(path, "multipart/form-data"), encoding(path), resolve, fields, files)


def coerce_parts(
    props: Mapping[str, Any],
    declared: Mapping[str, str],
    resolve_ref: Callable[[Mapping[str, Any]], dict[str, Any]],
    fields: Mapping[str, list[str]],
    files: Mapping[str, list[bytes]],
    *,
    unknown_file_is_error: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """`coerce_multipart` for any schema document: its properties, its `encoding` contentTypes
    and its `$ref` resolver given (`openapi_v2_support` reads another document)."""
    body: dict[str, Any] = {}
    errors: list[str] = []
    for name, values in fields.items():
        prop = props.get(name, {})
        item_prop = resolve_ref(prop.get("items", {})) if prop.get("type") == "array" else prop
        if item_prop.get("format") == "binary":
            errors.append(f"{name}: the schema wants a file part, the request sent a value")
        decoded: list[Any] = []
        for text in values:
            if declared.get(name) == "application/json":
                try:
                    decoded.append(json.loads(text))
                except ValueError:
                    errors.append(f"{name}: encoding says application/json, the part is not JSON: {text[:60]!r}")
                    decoded.append(text)
            else:
                decoded.append(_coerce_scalar(text, item_prop))
        body[name] = decoded if prop.get("type") == "array" or len(decoded) > 1 else decoded[0]
    for name, blobs in files.items():
        prop = props.get(name, {})
        is_array = prop.get("type") == "array"
        item_prop = resolve_ref(prop.get("items", {})) if is_array else prop
        if (name in props or unknown_file_is_error) and item_prop.get("format") != "binary":
            errors.append(f"{name}: the schema wants a value (or has no such field), the request sent a file")
        if name in body:
            errors.append(f"{name}: sent both as a value and as a file")
        placeholders = [BINARY] * len(blobs)
        body[name] = placeholders if is_array or len(placeholders) > 1 else placeholders[0]
    return body, errors


def multipart_request_errors(path: str, fields: Mapping[str, list[str]], files: Mapping[str, list[bytes]]) -> list[str]:
    body, errors = coerce_multipart(path, fields, files)
    schema = to_json_schema(_media(path, "multipart/form-data")["schema"])
    return errors + _errors(schema, body)


def validate_multipart_request(path: str, fields: Mapping[str, list[str]], files: Mapping[str, list[bytes]]) -> None:
    """Raise `SchemaViolation` unless these multipart parts are a valid body for POST `path`.

    `fields` maps a part name to its string values (repeated parts: several), `files` a part
    name to the uploaded bytes.
    """
    errors = multipart_request_errors(path, fields, files)
    if errors:
        raise SchemaViolation(f"POST {path} (multipart)", errors)


# --- responses ----------------------------------------------------------------------------------
def response_errors(path: str, status_code: int, body: Any) -> list[str]:
    responses = _operation(path)["responses"]
    answer = responses.get(str(status_code)) or responses.get("default")
    if answer is None:
        return [f"status {status_code} is not a documented answer of POST {path} ({', '.join(responses)})"]
    media = (answer.get("content") or {}).get("application/json")
    if media is None or "schema" not in media:
        return []  # documented without a JSON body schema: nothing more to check
    return _errors(to_json_schema(media["schema"]), body)


def validate_response(path: str, status_code: int, body: Any) -> None:
    """Raise `SchemaViolation` unless `body` is what POST `path` documents for this status."""
    errors = response_errors(path, status_code, body)
    if errors:
        raise SchemaViolation(f"POST {path} → {status_code}", errors)


# --- httpx requests -----------------------------------------------------------------------------
@dataclass
class DecodedRequest:
    """An HTTP request as the schema sees it: route, media type and body parts."""

    path: str
    content_type: str
    json: Any = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[bytes]] = field(default_factory=dict)
    #: Per file part: (name, filename, declared Content-Type).
    file_meta: list[tuple[str, str, str]] = field(default_factory=list)
    #: Per value part: its Content-Type (text/plain when the part declares none).
    field_types: dict[str, list[str]] = field(default_factory=dict)


def route_of(url: str | httpx.URL) -> str:
    """The schema's route for a URL (AiHubMix's `/ideogram` prefix removed)."""
    path = urlsplit(str(url)).path
    return path.removeprefix("/ideogram") or "/"


def decode_request(request: httpx.Request) -> DecodedRequest:
    """Split an `httpx.Request` (JSON or multipart) into the shapes the validators take."""
    body = request.read()
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    path = route_of(request.url)
    if media == "application/json":
        return DecodedRequest(path, media, json=json.loads(body))
    if media != "multipart/form-data":
        raise ValueError(f"unexpected request body type {content_type!r}")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    decoded = DecodedRequest(path, media)
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            decoded.files.setdefault(name, []).append(payload)
            decoded.file_meta.append((name, filename, part.get_content_type()))
        else:
            decoded.fields.setdefault(name, []).append(payload.decode("utf-8"))
            decoded.field_types.setdefault(name, []).append(part.get_content_type())
    return decoded


def http_request_errors(request: httpx.Request) -> list[str]:
    decoded = decode_request(request)
    if decoded.content_type == "application/json":
        return json_request_errors(decoded.path, decoded.json)
    return multipart_request_errors(decoded.path, decoded.fields, decoded.files)


def validate_http_request(request: httpx.Request) -> DecodedRequest:
    """Raise `SchemaViolation` unless the request is valid for its route; returns it decoded."""
    decoded = decode_request(request)
    if decoded.content_type == "application/json":
        validate_json_request(decoded.path, decoded.json)
    else:
        validate_multipart_request(decoded.path, decoded.fields, decoded.files)
    return decoded


def wire_to_httpx(wire: Any, base_url: str = "https://api.ideogram.ai") -> httpx.Request:
    """A `WireRequest` as the `httpx.Request` the client sends (the same encoding as
    `Client._send`: JSON, or multipart with every value a `(None, text)` part).
    `test_openapi_requests` checks this against a request captured from a real `Client`."""
    url = base_url + wire.path
    if wire.json is not None:
        return httpx.Request("POST", url, json=wire.json)
    parts: list[tuple[str, Any]] = []
    for name, value in (wire.data or {}).items():
        for item in value if isinstance(value, list) else [value]:
            parts.append((name, (None, item)))
    parts.extend(wire.files or [])
    return httpx.Request("POST", url, files=parts)


def capture_client_request(spec: Any, *, provider: str = "ideogram") -> httpx.Request:
    """The exact request a real `Client` sends for `spec` (answered 400, so nothing runs)."""
    import ideogram_nb as ig

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(400, json={"error": "captured by the test"})

    client = ig.Client(provider=provider, api_key="test-key-not-real", transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(ig.BadRequestError):
            client.run(spec)
    finally:
        close: Callable[[], None] | None = getattr(client, "close", None)
        if close is not None:
            close()
    assert len(seen) == 1, f"expected one POST, saw {len(seen)}"
    return seen[0]
