"""A spec as the HTTP body the service expects, and the hash that identifies a request.

Why separate from the specs: the three body shapes (V3 multipart with every value a string;
legacy generate as JSON `{"image_request": {...}}`; legacy remix/upscale as a JSON string
part beside `image_file`; legacy edit/describe as flat multipart) are facts of the wire, not
of the request's meaning. The client sends a `WireRequest` as it is; the simulator parses
the same shapes. Fields that are None (or empty text) are not sent, so the service's
defaults apply. Legacy specs call their input `image`; the wire names it `image_file`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._api import ROUTES
from .._api_v2 import V2_ASYNC_ENDPOINTS, V2_DRY_RUN_ENDPOINTS, V2_JOB_ENDPOINTS, V2_ROUTES
from .._errors import SpecError
from .._images import ImageInput

if TYPE_CHECKING:
    from ._base import Spec

FilePart = tuple[str, tuple[str, bytes, str]]


@dataclass(frozen=True, repr=False)
class WireRequest:
    """One POST: `path` after the base URL, and either `json` or multipart `data` + `files`.

    `data` maps a field to a string, or to a list of strings for a repeated part;
    `files` is a list of `(field, (filename, bytes, mime))`, repeated for list fields.
    """

    path: str
    json: dict[str, Any] | None = None
    data: dict[str, str | list[str]] | None = None
    files: list[FilePart] | None = None
    #: Query parameters (v2's `dry_run=true`), or None.
    params: dict[str, str] | None = None

    @property
    def is_multipart(self) -> bool:
        return self.json is None

    @property
    def target(self) -> str:
        """`path` with its query string: what goes after the base URL."""
        return self.path + ("?" + "&".join(f"{k}={v}" for k, v in self.params.items()) if self.params else "")

    def __repr__(self) -> str:  # never dump image bytes into a log
        files = [(field, name, mime, f"{len(body)} bytes") for field, (name, body, mime) in self.files or []]
        query = f", params={self.params!r}" if self.params else ""
        return f"WireRequest(path={self.path!r}, json={self.json!r}, data={self.data!r}, files={files!r}{query})"


def color_palette_wire(value: Any) -> dict[str, Any]:
    """The API's ColorPalette object from a spec's canonical palette value."""
    if isinstance(value, str):
        return {"name": value}
    return {"members": [{"color_hex": m} if isinstance(m, str) else dict(m) for m in value]}


def _sent_fields(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in spec.field_names():
        value = getattr(spec, name)
        if value is None or value == "" or value == ():
            continue
        out[name] = value
    return out


def _file(field: str, image: ImageInput) -> FilePart:
    return field, (image.filename, image.data, image.mime)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):  # v2 booleans: the schema's "true"/"false", not Python's
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _multipart(path: str, fields: dict[str, Any], file_names: dict[str, str]) -> WireRequest:
    """Every scalar as a string part; images as file parts; lists as repeated parts."""
    data: dict[str, str | list[str]] = {}
    files: list[FilePart] = []
    for name, value in fields.items():
        if isinstance(value, ImageInput):
            files.append(_file(file_names.get(name, name), value))
        elif isinstance(value, tuple) and all(isinstance(v, ImageInput) for v in value):
            files.extend(_file(name, v) for v in value)
        elif name == "color_palette":
            data[name] = json.dumps(color_palette_wire(value), separators=(",", ":"))
        elif isinstance(value, tuple):
            data[name] = [_form_value(v) for v in value]
        else:
            data[name] = _form_value(value)
    return WireRequest(path, data=data, files=files)


def _image_request(fields: dict[str, Any]) -> dict[str, Any]:
    """The legacy JSON object: numbers stay numbers, the palette is an object."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, ImageInput):
            continue
        out[name] = color_palette_wire(value) if name == "color_palette" else value
    return out


def build_request(spec: Spec, *, check: bool = True, run_async: bool = False, dry_run: bool = False) -> WireRequest:
    """The request for `spec`. With `check` (the default) a spec that breaks a rule raises
    `SpecError` here too, so no invalid request can be built by accident; tests of the
    simulator's own validation pass `check=False`.

    v2 only: `run_async` sends `async=true` (the answer is a `generation_id` to poll; an
    always-asynchronous operation such as replace-background has no such field and answers one
    anyway, so nothing is added) and
    `dry_run` adds `?dry_run=true` (the answer is a `PriceQuote`; nothing is generated or
    billed). Either on a v1 spec, or `dry_run` on an operation that does not take it, is a
    `ValueError`: such a request would run (and bill) for real."""
    if check:
        problems = spec.problems()
        if problems:
            raise SpecError(problems, spec_name=type(spec).__name__)
    endpoint = type(spec).endpoint
    fields = _sent_fields(spec)
    if type(spec).family == "v2":
        return _v2_request(endpoint, fields, run_async=run_async, dry_run=dry_run)
    if run_async or dry_run:
        raise ValueError(f"{type(spec).__name__} is a v1 operation: it takes neither async nor dry_run")
    path = ROUTES[endpoint]
    if type(spec).family == "v3":
        return _multipart(path, fields, {})
    if endpoint == "legacy-generate":
        return WireRequest(path, json={"image_request": _image_request(fields)})
    if endpoint in ("legacy-remix", "upscale"):
        image = fields.get("image")
        request = json.dumps(_image_request(fields), separators=(",", ":"))
        return WireRequest(path, data={"image_request": request}, files=[_file("image_file", image)] if image else [])
    if endpoint in ("legacy-edit", "describe"):
        return _multipart(path, fields, {"image": "image_file"})
    raise ValueError(f"no wire format for endpoint {endpoint!r}")


def _v2_request(endpoint: str, fields: dict[str, Any], *, run_async: bool, dry_run: bool) -> WireRequest:
    """v2: JSON when nothing is uploaded (booleans and numbers typed), multipart otherwise
    (every value a string, lists as repeated parts). Enums are already lowercase in the spec."""
    if dry_run and endpoint not in V2_DRY_RUN_ENDPOINTS:
        raise ValueError(f"{endpoint} does not take dry_run; it would run for real")
    if run_async and endpoint not in V2_JOB_ENDPOINTS:
        raise ValueError(f"{endpoint} does not take async; it answers at once")
    path = V2_ROUTES[endpoint]
    params = {"dry_run": "true"} if dry_run else None
    if run_async and endpoint in V2_ASYNC_ENDPOINTS:
        fields = {**fields, "async": True}
    uploads = any(isinstance(v, ImageInput) or (isinstance(v, tuple) and v and isinstance(v[0], ImageInput))
                  for v in fields.values())  # fmt: skip
    if not uploads:
        body = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
        return WireRequest(path, json=body, params=params)
    multipart = _multipart(path, fields, {})
    return WireRequest(path, data=multipart.data, files=multipart.files, params=params)


def request_hash(spec: Spec) -> str:
    """SHA-256 of the canonical `to_dict()`: endpoint, fields, input-image hashes, seed.

    The replay key: equal specs hash equal however they were built (field order, aliases,
    a path or the same bytes as an image).
    """
    return hash_spec_dict(spec.to_dict())


def hash_spec_dict(spec_dict: dict[str, Any]) -> str:
    """`request_hash` of a spec whose `to_dict()` is `spec_dict` (the client makes it once a call)."""
    canonical = json.dumps(spec_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
