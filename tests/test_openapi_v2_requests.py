"""Every request the v2 specs can build, field by field and value by value, is one Ideogram's
v2 schema subset accepts (`tests/data/openapi/ideogram-v2-subset-2026-10.json`).

Each case goes through the real client path (`Client.run`, `Client.start`, `Client.quote`
over a transport that captures the request and answers 400, so nothing runs), is decoded and
validated against its route's request schema; then the field must be in the body as the spec
holds it. Fields come from the spec classes themselves: one added later is covered here, and a
parameter type without samples fails until one is added.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import openapi_support as oa
import openapi_v2_support as v2
import param
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import ImageInput
from ideogram_nb._api_v2 import (
    QUALITIES,
    SIZE_PRESETS,
    V2_ALWAYS_ASYNC_ENDPOINTS,
    V2_MAGIC_PROMPT,
    V2_RENDERING_SPEEDS,
    V2_ROUTES,
)
from ideogram_nb._specs._fields import Choice, ImageListParam, ImageParam, Int, StyleCodesParam, Text
from ideogram_nb._specs._registry import SPEC_CLASSES
from ideogram_nb._specs._v2 import ContextWindowText, SizeText

pytestmark = v2.requires_v2_schema

V2_SPECS = [cls for cls in SPEC_CLASSES.values() if cls.family == "v2"]


def _png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def _picture(size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), (30, 90, 200))
    img.paste((240, 200, 40), (4, 4, size // 2, size // 2))
    return img


def _mask(size: int) -> Image.Image:
    img = Image.new("L", (size, size), 255)
    img.paste(0, (0, 0, size, size // 2))
    return img


SQUARE = {fmt: _png(_picture(32), fmt) for fmt in ("PNG", "JPEG", "WEBP")}
MASK = _png(_mask(32))
BIG, BIG_MASK = _png(_picture(256)), _png(_mask(256))


def base_fields(cls: type[ig.Spec]) -> dict[str, Any]:
    values = {"prompt": "a lighthouse at dusk", "image": SQUARE["PNG"], "mask": MASK}
    return {name: values[name] for name in cls.required}


def samples(cls: type[ig.Spec], name: str) -> list[tuple[Any, dict[str, Any]]]:
    """(value, companion fields that make it valid) for every value worth sending."""
    p = cls.param[name]
    with_images = {"images": [SQUARE["PNG"]]} if "images" in cls.param else {}
    if isinstance(p, ImageParam):
        if p.mask:
            return [(MASK, with_images), (_png(_mask(32).convert("RGB"), "JPEG"), with_images)]
        return [(data, {}) for data in SQUARE.values()]
    if isinstance(p, ImageListParam):
        return [([SQUARE["PNG"]], {}), ([SQUARE["JPEG"], SQUARE["WEBP"]], {})]
    if isinstance(p, SizeText):
        return [*((s, {}) for s in ("auto", *SIZE_PRESETS)), ("source", with_images), ("256x512", with_images)]
    if isinstance(p, ContextWindowText):
        big = {"image": BIG}
        return [
            ("none", {}),
            ("auto", {**big, "mask": BIG_MASK}),
            ("0,0,256,256", big),
            ("0,0,512,256", {"image": _png(_picture(512))}),
        ]
    if isinstance(p, StyleCodesParam):
        return [(["A1B2C3D4"], {}), (["A1B2C3D4", "0000ffff"], {})]
    if isinstance(p, Choice):
        companions = with_images if name == "quality" else {}  # very_low needs source images
        return [(o, companions) for o in p.objects if o is not None]
    if isinstance(p, Int):
        lo, hi = p.bounds
        return [(v, {}) for v in sorted({lo, (lo + hi) // 2, hi})]
    if isinstance(p, param.Boolean):
        return [(True, {}), (False, {})]
    if isinstance(p, Text):
        return [("brush strokes, “quotes” and ünïcode", {})]
    raise AssertionError(f"{cls.__name__}.{name}: no samples for {type(p).__name__}; add them here")


class Capture:
    """A client whose every request is captured and answered 400 (nothing runs)."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            request.read()
            self.seen.append(request)
            return httpx.Response(400, json={"error": "captured by the test"})

        self.client = ig.Client(provider="ideogram", api_key="test-key-not-real", transport=httpx.MockTransport(answer))

    def last(self) -> httpx.Request:
        return self.seen[-1]


def check(request: httpx.Request, spec: ig.Spec, name: str | None) -> oa.DecodedRequest:
    decoded = oa.decode_request(request)
    assert decoded.path == V2_ROUTES[type(spec).endpoint]
    assert request.headers["api-key"] == "test-key-not-real"
    problems = v2.request_errors(decoded)
    assert problems == [], f"{spec!r}: {problems}"
    if decoded.content_type == "application/json":
        body = decoded.json
    else:
        body, errs = v2.coerce_multipart(decoded.path, decoded.fields, decoded.files)
        assert errs == []
    assert set(body) <= set(v2.properties(decoded.path, decoded.content_type))
    if name is None:
        return decoded
    value = getattr(spec, name)
    assert name in body, f"{name} was not sent"
    if isinstance(value, ImageInput):
        assert decoded.files[name] == [value.data]
    elif isinstance(value, tuple) and value and isinstance(value[0], ImageInput):
        assert decoded.files[name] == [v.data for v in value]
    elif isinstance(value, tuple):
        assert body[name] == list(value)
    else:
        assert body[name] == value
    return decoded


CASES = [(cls, name) for cls in V2_SPECS for name in cls.field_names()]


@pytest.mark.parametrize(("cls", "name"), CASES, ids=lambda v: getattr(v, "__name__", v))
def test_every_value_of_every_v2_field_is_a_valid_request_from_the_client(cls, name):
    capture = Capture()
    for value, companions in samples(cls, name):
        spec = cls(**{**base_fields(cls), **companions, name: value})
        assert spec.problems() == [], (name, value, spec.problems())
        with pytest.raises(ig.BadRequestError):
            capture.client.run(spec)
        request = capture.last()
        assert "dry_run" not in request.url.query.decode()
        decoded = check(request, spec, name)
        body = decoded.json if decoded.json is not None else decoded.fields
        assert "async" not in body  # run() waits: a plain synchronous request


@pytest.mark.parametrize("cls", V2_SPECS, ids=lambda c: c.__name__)
def test_start_sends_async_and_quote_sends_dry_run_in_the_query(cls):
    capture = Capture()
    spec = cls(**base_fields(cls))
    if "dry_run" not in v2.query_parameters(V2_ROUTES[cls.endpoint]):  # describe: neither async nor dry_run
        assert "async" not in v2.properties(V2_ROUTES[cls.endpoint], "multipart/form-data")
        with pytest.raises(ValueError, match="takes no async"):
            capture.client.start(spec)
        assert capture.client.quote(spec).source == "price table" and capture.seen == []
        return
    with pytest.raises(ig.BadRequestError):
        capture.client.start(spec)
    decoded = check(capture.last(), spec, None)
    if cls.endpoint in V2_ALWAYS_ASYNC_ENDPOINTS:  # always a job upstream: the request has no async field
        assert "async" not in v2.properties(V2_ROUTES[cls.endpoint], "multipart/form-data")
        assert "async" not in (decoded.json if decoded.json is not None else decoded.fields)
    else:
        sent = decoded.json["async"] if decoded.json is not None else decoded.fields["async"] == ["true"]
        assert sent is True
    with pytest.raises(ig.BadRequestError):
        capture.client.quote(spec)
    request = capture.last()
    assert request.url.params.get("dry_run") == "true" and "dry_run" in v2.query_parameters(request.url.path)
    check(request, spec, None)


def test_every_enum_value_of_the_v2_schema_is_offered():
    offered = {
        ("/v2/image/generate/ideogram-4-5", "quality"): ig.Generate45.param["quality"],
        ("/v2/image/generate/ideogram-4-5", "magic_prompt"): ig.Generate45.param["magic_prompt"],
        ("/v2/image/precise-edit/ideogram-4-5", "quality"): ig.PreciseEdit45.param["quality"],
        ("/v2/image/inpaint/ideogram-3", "rendering_speed"): ig.Inpaint3.param["rendering_speed"],
        ("/v2/image/inpaint/ideogram-3", "magic_prompt"): ig.Inpaint3.param["magic_prompt"],
        ("/v2/image/inpaint/ideogram-3", "style_type"): ig.Inpaint3.param["style_type"],
        ("/v2/image/inpaint/ideogram-3", "style_preset"): ig.Inpaint3.param["style_preset"],
        ("/v2/image/remix/ideogram-4", "rendering_speed"): ig.Remix4.param["rendering_speed"],
        ("/v2/image/remix/ideogram-4", "resolution"): ig.Remix4.param["resolution"],
        ("/v2/image/replace-background/ideogram-3", "rendering_speed"): ig.ReplaceBackground3.param["rendering_speed"],
    }
    for (path, name), p in offered.items():
        enum = v2.properties(path, "multipart/form-data")[name]["enum"]
        assert {o for o in p.objects if o is not None} == set(enum), (path, name)
    assert set(QUALITIES) | set(V2_MAGIC_PROMPT) | set(V2_RENDERING_SPEEDS)  # the tables the specs read


def test_the_v2_schema_check_is_not_vacuous():
    path = "/v2/image/generate/ideogram-4-5"
    ok = oa.DecodedRequest(path, "application/json", json={"prompt": "x", "quality": "high"})
    assert v2.request_errors(ok) == []
    for bad in ({"prompt": "x", "quality": "HIGH"}, {"prompt": "x", "num_images": 9}, {"quality": "low"},
                {"prompt": "x", "magic_prompt": "AUTO"}):  # fmt: skip
        assert v2.request_errors(oa.DecodedRequest(path, "application/json", json=bad)), bad
    window = oa.DecodedRequest("/v2/image/precise-edit/ideogram-4-5", "multipart/form-data",
                               fields={"prompt": ["x"], "context_window": ["left half"]}, files={"image": [b"x"]})  # fmt: skip
    assert v2.request_errors(window)
