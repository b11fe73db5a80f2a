"""Decoding request bodies as they arrive on the wire: multipart form data or JSON.

Why not reuse the client's request objects: the simulator stands in for the real service, so
it must read what any client sends (curl, requests, httpx, browsers) — strings in form parts,
files as parts with a filename, repeated parts for lists — and nothing else.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
import json
from dataclasses import dataclass


class BodyError(ValueError):
    """The body cannot be read at all (answered 400 with this message as the detail)."""


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart body."""

    filename: str
    data: bytes
    content_type: str


def content_type_of(header: str | None) -> tuple[str, dict[str, str]]:
    """`multipart/form-data; boundary=x` → ("multipart/form-data", {"boundary": "x"})."""
    msg = email.message.Message()
    msg["content-type"] = header or ""
    params = {str(k).lower(): str(v) for k, v in msg.get_params(failobj=[])[1:]}
    return msg.get_content_type() if header else "", params


def parse_multipart(boundary: str, body: bytes) -> dict[str, list[str | Upload]]:
    """Split a multipart/form-data body into name → values, in order, binary-safe.

    Hand-split on the boundary (so megabytes of PNG are never scanned line by line); each
    part's headers go through the stdlib email parser, which knows the quoting rules.
    """
    if not boundary:
        raise BodyError("multipart body without a boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise BodyError("multipart body has no parts")
    fields: dict[str, list[str | Upload]] = {}
    header_parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise BodyError("multipart part without a header/body separator")
        headers = header_parser.parsebytes(head + b"\r\n\r\n")
        if headers.get_content_disposition() != "form-data":
            raise BodyError("multipart part without Content-Disposition: form-data")
        raw_name = headers.get_param("name", header="content-disposition")
        name = email.utils.collapse_rfc2231_value(raw_name) if raw_name else ""
        if not name:
            raise BodyError("multipart part without a name")
        filename = headers.get_filename()
        value: str | Upload
        if filename is not None:
            value = Upload(str(filename), payload, headers.get_content_type())
        else:
            try:
                value = payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BodyError(f"form field {name!r} is not UTF-8 text") from exc
        fields.setdefault(str(name), []).append(value)
    return fields


def parse_json_object(body: bytes, what: str = "body") -> dict[str, object]:
    """A JSON object, or BodyError naming what was expected."""
    try:
        value = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BodyError(f"{what} must be a JSON object")
    return value
