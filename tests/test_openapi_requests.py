"""Every request the client can build, field by field and value by value, is one Ideogram's
official schema accepts (`shared/openapi/ideogram-v1-2026-06.json`).

The cases are derived from the spec classes themselves: every field of every one of the ten
specs, every value of every enum, both ends of every bound, every kind of image, palette and
style code. A field added later is covered without touching this file; a field of a type this
file cannot sample fails here until a sampler is added. Each case is built with the client's
own wire code, encoded exactly as the client sends it (checked against a real `Client` below),
decoded, and validated against the request schema of its route; then the field must be in the
body with the value the spec holds, and declared by the schema, except the seed-only fields
API.md keeps (named here one by one).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import openapi_support as oa
import param
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import ImageInput
from ideogram_nb._api import COLOR_PALETTE_PRESETS, ROUTES
from ideogram_nb._specs._fields import (
    Choice,
    ColorPaletteParam,
    ImageListParam,
    ImageParam,
    Int,
    StyleCodesParam,
    Text,
)
from ideogram_nb._specs._registry import SPEC_CLASSES
from ideogram_nb._specs._wire import build_request, color_palette_wire

pytestmark = oa.requires_schema

#: The v1 specs (the v2 ones are checked against the v2 subset in test_openapi_v2_requests.py).
SPECS: list[type[ig.Spec]] = [cls for cls in SPEC_CLASSES.values() if cls.family != "v2"]
V3_GENERATE = "/v1/ideogram-v3/generate"
#: Fields the seed lists but Ideogram's schema lacks, kept by API.md's decision (sent, with a
#: warning). Exactly these; nothing broader.
SEED_ONLY: set[tuple[str, str]] = {
    ("/v1/ideogram-v3/edit", "aspect_ratio"),
    ("/v1/ideogram-v3/edit", "negative_prompt"),
    ("/v1/ideogram-v3/replace-background", "style_type"),
}
#: The legacy specs call their input `image`; the legacy wire calls it `image_file`.
LEGACY_FILE_NAMES = {"image": "image_file"}


# --- sample inputs ------------------------------------------------------------------------------
def _encode(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _picture(size: int = 32) -> Image.Image:
    img = Image.new("RGB", (size, size), (30, 90, 200))
    img.paste((240, 200, 40), (4, 4, size // 2, size // 2))
    return img


def _mask_picture(size: int = 32) -> Image.Image:
    img = Image.new("L", (size, size), 255)
    img.paste(0, (0, 0, size, size // 2))
    return img


SQUARE_PNG = _encode(_picture(), "PNG")
SQUARE_JPEG = _encode(_picture(), "JPEG", quality=90)
SQUARE_WEBP = _encode(_picture(), "WEBP")
MASK_PNG = _encode(_mask_picture(), "PNG")
MASK_JPEG = _encode(_mask_picture().convert("RGB"), "JPEG", quality=60)  # grey pixels: binarised
GREY_MASK = _encode(Image.new("L", (32, 32), 128), "PNG")  # a character mask keeps its greys


def base_fields(cls: type[ig.Spec]) -> dict[str, Any]:
    """The required fields with values every rule accepts."""
    values = {"prompt": "a lighthouse at dusk", "image": SQUARE_PNG, "mask": MASK_PNG, "resolution": "1024x1024"}
    return {name: values[name] for name in cls.required}


#: A field whose values need another field to be valid: the companions that make them so.
COMPANIONS: dict[str, dict[str, Any]] = {
    "character_reference_images_mask": {"character_reference_images": [SQUARE_PNG]},
}


def sample_values(cls: type[ig.Spec], name: str) -> list[Any]:
    """Every value worth sending for this field, derived from its declaration."""
    p = cls.param[name]
    if isinstance(p, ImageParam):
        return [MASK_PNG, MASK_JPEG] if p.mask else [SQUARE_PNG, SQUARE_JPEG, SQUARE_WEBP]
    if isinstance(p, ImageListParam):
        if p.grey:
            return [[GREY_MASK]]
        if name == "character_reference_images":  # "currently only supports 1"
            return [[SQUARE_PNG], [SQUARE_JPEG], [SQUARE_WEBP]]
        return [[SQUARE_PNG], [SQUARE_JPEG, SQUARE_WEBP]]
    if isinstance(p, ColorPaletteParam):
        eight = ["#000", "#111111", "#222", "#333333", "#444", "#555555", "#666", "#777777"]
        return [*COLOR_PALETTE_PRESETS, ["#ff0000", "#0F0"], [("#123abc", 0.7), ("#ffffff", 0.05)], eight]
    if isinstance(p, StyleCodesParam):
        return [["A1B2C3D4"], ["A1B2C3D4", "0000ffff"]]
    if isinstance(p, Choice):
        return [o for o in p.objects if o is not None]
    if isinstance(p, Int):
        lo, hi = p.bounds
        return sorted({lo, (lo + hi) // 2, hi})
    if isinstance(p, Text):
        return ["brush strokes, “quotes” and ünïcode"] if name != "custom_model_uri" else ["model/my-model/version/1"]
    raise AssertionError(f"{cls.__name__}.{name}: no samples for {type(p).__name__}; add a sampler here")


def cases() -> Iterator[tuple[type[ig.Spec], str]]:
    for cls in SPECS:
        for name in cls.field_names():
            yield cls, name


# --- sending and reading back -----------------------------------------------------------------
def body_of(decoded: oa.DecodedRequest) -> dict[str, Any]:
    """The request's fields as the schema types them (legacy `image_request` unwrapped)."""
    if decoded.content_type == "application/json":
        return dict(decoded.json["image_request"])
    typed, errors = oa.coerce_multipart(decoded.path, decoded.fields, decoded.files)
    assert errors == [], errors
    if "image_request" in typed:  # legacy remix/upscale: a JSON part beside image_file
        return {**typed.pop("image_request"), **typed}
    return typed


def sent_as(spec: ig.Spec, name: str) -> str:
    return LEGACY_FILE_NAMES.get(name, name) if type(spec).family == "legacy" else name


def check_request(spec: ig.Spec, name: str) -> oa.DecodedRequest:
    """Build, encode, decode and validate `spec`'s request; check that `name` went out as the
    spec holds it. Returns the decoded request."""
    path = ROUTES[type(spec).endpoint]
    request = oa.wire_to_httpx(build_request(spec))
    decoded = oa.decode_request(request)
    assert decoded.path == path
    errors = oa.http_request_errors(request)
    assert errors == [], f"{spec!r}: {errors}"

    content_type = decoded.content_type
    declared = set(oa.request_properties(path, content_type))
    if "image_request" in declared:  # legacy: the fields live inside image_request
        inner = oa.resolve(oa.request_properties(path, content_type)["image_request"])
        declared |= set(inner.get("properties", {}))
    body = body_of(decoded)
    undeclared = {f for f in body if f not in declared}
    assert undeclared <= {f for route, f in SEED_ONLY if route == path}, (
        f"{type(spec).__name__} sends {sorted(undeclared)}, which the schema of {path} does not declare"
    )
    for field in undeclared:  # a seed-only field still carries a value the service knows
        assert oa.property_errors(V3_GENERATE, "multipart/form-data", field, body[field]) == []

    value = getattr(spec, name)
    wire_name = sent_as(spec, name)
    assert wire_name in body, f"{name} was not sent"
    if isinstance(value, ImageInput):
        assert decoded.files[wire_name] == [value.data]  # exactly the bytes the spec identifies
    elif isinstance(value, tuple) and value and isinstance(value[0], ImageInput):
        assert decoded.files[wire_name] == [v.data for v in value]  # a repeated file part
    elif name == "color_palette":
        assert body[name] == color_palette_wire(value)
    elif isinstance(value, tuple):
        assert body[name] == list(value)  # a repeated part (style codes)
    else:
        assert body[name] == value
    return decoded


# --- the claims ---------------------------------------------------------------------------------
def test_every_spec_is_checked_against_its_route():
    assert {cls.endpoint for cls in SPECS} == set(ROUTES) and len(SPECS) == 10
    for route in ROUTES.values():
        oa.request_properties(route, "application/json" if route == "/generate" else "multipart/form-data")


@pytest.mark.parametrize(("cls", "name"), list(cases()), ids=lambda v: getattr(v, "__name__", v))
def test_every_value_of_every_field_is_a_valid_request(cls, name):
    values = sample_values(cls, name)
    assert values, f"{cls.__name__}.{name}: nothing to send"
    for value in values:
        spec = cls(**{**base_fields(cls), **COMPANIONS.get(name, {}), name: value})
        assert spec.problems() == [], (name, value, spec.problems())
        check_request(spec, name)


def maximal(cls: type[ig.Spec]) -> ig.Spec:
    """One spec with every field set at once (the combinations the rules allow)."""
    fields: dict[str, Any] = {}
    for name in cls.field_names():
        fields[name] = sample_values(cls, name)[-1]
    fields.update(base_fields(cls))
    if "aspect_ratio" in fields and "resolution" in fields and "resolution" not in cls.required:
        fields.pop("aspect_ratio" if cls is ig.Edit else "resolution")  # "not in conjunction"
    fields.pop("style_codes", None)  # "cannot be used with style_reference_images or style_type"
    if "style_type" in fields:
        fields["style_type"] = "CUSTOM" if "custom_model_uri" in fields else fields["style_type"]
    if "character_reference_images" in fields:
        fields["character_reference_images"] = [SQUARE_PNG]
        fields["character_reference_images_mask"] = [GREY_MASK]
    spec = cls(**fields)
    assert spec.problems() == [], spec.problems()
    return spec


@pytest.mark.parametrize("cls", SPECS, ids=lambda c: c.__name__)
def test_every_field_at_once_is_a_valid_request(cls):
    spec = maximal(cls)
    for name in cls.field_names():
        if getattr(spec, name) not in (None, "", ()):
            check_request(spec, name)


@pytest.mark.parametrize("provider", ["ideogram", "aihubmix"])
@pytest.mark.parametrize("cls", SPECS, ids=lambda c: c.__name__)
def test_the_client_sends_exactly_the_encoding_checked_here(cls, provider):
    """`wire_to_httpx` is this file's stand-in for the client: the request a real `Client`
    sends (captured from its transport) decodes to the same parts, and is valid too."""
    spec = maximal(cls)
    sent = oa.capture_client_request(spec, provider=provider)
    assert sent.headers["api-key"] == "test-key-not-real"
    real, ours = oa.decode_request(sent), oa.decode_request(oa.wire_to_httpx(build_request(spec)))
    assert (real.path, real.content_type, real.json) == (ours.path, ours.content_type, ours.json)
    assert (real.fields, real.files, real.file_meta) == (ours.fields, ours.files, ours.file_meta)
    oa.validate_http_request(sent)


@pytest.mark.parametrize("cls", SPECS, ids=lambda c: c.__name__)
def test_multipart_parts_are_encoded_as_the_schemas_encoding_block_says(cls):
    spec = maximal(cls)
    decoded = oa.decode_request(oa.wire_to_httpx(build_request(spec)))
    if decoded.content_type == "application/json":
        assert isinstance(decoded.json["image_request"], dict)  # legacy generate: an object
        if "color_palette" in decoded.json["image_request"]:
            assert isinstance(decoded.json["image_request"]["color_palette"], dict)  # not a string
        return
    declared = oa.encoding(decoded.path)
    for name, texts in decoded.fields.items():
        kind = declared.get(name, "text/plain")
        if kind == "application/json":  # colour palette, legacy image_request
            assert all(isinstance(json.loads(t), dict) for t in texts), name
        else:
            assert kind == "text/plain" and decoded.field_types[name] == ["text/plain"] * len(texts), name
    for name, filename, mime in decoded.file_meta:
        assert mime in ("image/png", "image/jpeg", "image/webp"), (name, mime)  # "JPEG, PNG or WebP"
        assert filename.rsplit(".", 1)[-1] == {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[mime]
    if "color_palette" in decoded.fields:
        assert declared["color_palette"] == "application/json"


def test_the_seed_only_exceptions_are_exactly_the_fields_the_schema_lacks():
    for route, name in SEED_ONLY:
        assert name not in oa.request_properties(route, "multipart/form-data")
    assert set(ig.Edit.may_be_ignored) == {n for r, n in SEED_ONLY if r == ROUTES["edit"]}
    assert set(ig.ReplaceBackground.may_be_ignored) == {n for r, n in SEED_ONLY if r == ROUTES["replace-background"]}


def test_every_schema_field_of_the_ten_routes_has_a_spec_field():
    """The other direction: what the schema offers on these routes, the specs can send."""
    for cls in SPECS:
        path = ROUTES[cls.endpoint]
        content_type = "application/json" if path == "/generate" else "multipart/form-data"
        props = oa.request_properties(path, content_type)
        if "image_request" in props:
            inner = oa.resolve(props.pop("image_request"))
            props.update(inner.get("properties", {}))
        names = {LEGACY_FILE_NAMES.get(n, n) if cls.family == "legacy" else n for n in cls.field_names()}
        assert set(props) <= names, f"{cls.__name__} lacks {sorted(set(props) - names)}"


def test_every_enum_value_of_the_schema_is_offered():
    """Each schema enum on these routes is offered in full (BALANCED as an alias of DEFAULT)."""
    for cls in SPECS:
        path = ROUTES[cls.endpoint]
        content_type = "application/json" if path == "/generate" else "multipart/form-data"
        props = oa.request_properties(path, content_type)
        if "image_request" in props:
            props.update(oa.resolve(props.pop("image_request")).get("properties", {}))
        for name, prop in props.items():
            field = "image" if name == "image_file" else name
            if "enum" not in prop or field not in cls.field_names():
                continue
            p = cls.param[field]
            offered = {o for o in p.objects if o is not None} | set(getattr(p, "aliases", {}))
            missing = set(prop["enum"]) - offered
            if cls is ig.LegacyEdit and field == "model":
                # "/edit is only supported for V_2 and V_2_TURBO" (the schema's own ModelEnum text)
                assert missing == set(prop["enum"]) - {"V_2", "V_2_TURBO"}
                continue
            assert not missing, f"{cls.__name__}.{field} lacks {sorted(missing)}"


# --- the oracle is not vacuous ----------------------------------------------------------------------
def test_the_schema_check_refuses_what_the_service_would():
    assert oa.multipart_request_errors(V3_GENERATE, {"prompt": ["x"], "num_images": ["9"]}, {})
    assert oa.multipart_request_errors(V3_GENERATE, {"prompt": ["x"], "style_type": ["ANIME"]}, {})
    assert oa.multipart_request_errors(V3_GENERATE, {"prompt": ["x"], "color_palette": ["EMBER"]}, {})
    assert oa.multipart_request_errors(V3_GENERATE, {"prompt": ["x"], "style_codes": ["XYZ"]}, {})
    assert oa.multipart_request_errors(V3_GENERATE, {}, {})  # no prompt
    assert oa.multipart_request_errors("/v1/ideogram-v3/edit", {"prompt": ["x"], "image": ["not a file"]},
                                       {"mask": [b"m"]})  # fmt: skip
    assert oa.json_request_errors("/generate", {"image_request": {"prompt": "x", "model": "V_4"}})
    assert oa.json_request_errors("/generate", {"prompt": "x"})  # not wrapped in image_request
    assert oa.multipart_request_errors("/remix", {"image_request": ['{"prompt": "x", "image_weight": 0}']},
                                       {"image_file": [b"x"]})  # fmt: skip
    assert oa.multipart_request_errors(V3_GENERATE, {"prompt": ["x"], "seed": ["-1"]}, {}) != []
    assert oa.multipart_request_errors(V3_GENERATE, {"prompt": ["x"], "seed": ["12"]}, {}) == []


def test_a_request_the_schema_refuses_fails_the_check(monkeypatch):
    spec = ig.Generate(prompt="p", num_images=2)
    wire = build_request(spec)
    broken = type(wire)(wire.path, data={**(wire.data or {}), "rendering_speed": "LUDICROUS"}, files=wire.files)
    with pytest.raises(oa.SchemaViolation, match="rendering_speed"):
        oa.validate_http_request(oa.wire_to_httpx(broken))


def test_json_answers_are_checked_too():
    ok = {"created": "2000-01-23T04:56:07+00:00", "data": [
        {"url": None, "prompt": "p", "resolution": "1024x1024", "is_image_safe": False, "seed": 1}]}  # fmt: skip
    oa.validate_response(V3_GENERATE, 200, ok)
    with pytest.raises(oa.SchemaViolation, match="seed"):
        oa.validate_response(V3_GENERATE, 200, {"created": ok["created"], "data": [{"prompt": "p"}]})
    oa.validate_response("/describe", 200, {"descriptions": [{"text": "a cat"}]})
    with pytest.raises(oa.SchemaViolation, match="not a documented answer"):
        oa.validate_response("/describe", 403, {})


def test_every_case_source_is_derived_from_the_declarations():
    """The field list is the spec classes' own; a parameter type without a sampler fails."""

    class Odd(ig.Generate):
        odd = param.Dict(default=None, allow_None=True, doc="A field of a kind never sampled.")

    with pytest.raises(AssertionError, match="no samples for Dict"):
        sample_values(Odd, "odd")
