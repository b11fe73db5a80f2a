"""Cross-field rules shared by every spec: which combinations are refused, which warned.

The rule for rules: refuse only what every source forbids (Ideogram's schema, its prose, the
seed, the vendors' published examples); where the sources disagree, warn and send. Each check
names its source in a comment; `docs/schema-conformance.md` lists them all. Checks go by field
presence (a spec without `mask` has no mask rules), so both families share them; the
model-dependent legacy rules live in `_legacy`.

Only facts are read here (from `_api`, `_config`, `_images`); nothing here knows the spec
classes, so `_base` can call in without a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import _api
from .._config import MAX_IMAGE_BYTES, MAX_STYLE_REFERENCE_TOTAL_BYTES
from .._errors import Problem
from .._images import ImageInput, mask_rule_violations, mask_warnings

if TYPE_CHECKING:
    from ._base import Spec

#: List fields whose files share one size budget: "maximum total size 10MB across all style
#: references" / "... across all character references" (schema prose; no source allows more).
_TOTAL_LIMITED = ("style_reference_images", "character_reference_images")


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def _fields(spec: Spec) -> dict[str, Any]:
    return {n: getattr(spec, n) for n in spec.field_names()}


def images_in(values: Mapping[str, Any]) -> dict[str, list[ImageInput]]:
    """The images among a spec's field values, by field: `Spec.input_images` over values
    already read (the rules read every field once, and each param read costs a microsecond)."""
    out: dict[str, list[ImageInput]] = {}
    for name, value in values.items():
        if isinstance(value, ImageInput):
            out[name] = [value]
        elif isinstance(value, tuple) and value and all(isinstance(i, ImageInput) for i in value):
            out[name] = list(value)
    return out


def shared_problems(spec: Spec) -> list[Problem]:
    """Errors: combinations every source forbids."""
    v = _fields(spec)
    found: list[Problem] = []
    # "Cannot be used in conjunction with resolution" (schema: AspectRatioV3, Resolution; seed).
    if v.get("resolution") and v.get("aspect_ratio"):
        found.append(Problem(
            "resolution", v["resolution"],
            f"cannot be combined with aspect_ratio={v['aspect_ratio']!r}; set only one of them",
        ))  # fmt: skip
    for name in _TOTAL_LIMITED:
        refs: tuple[ImageInput, ...] = v.get(name) or ()
        total = sum(len(r.data) for r in refs)
        if total > MAX_STYLE_REFERENCE_TOTAL_BYTES:
            found.append(Problem(
                name, f"{len(refs)} images, {_mb(total)}",
                f"together at most {MAX_STYLE_REFERENCE_TOTAL_BYTES / 2**20:.0f} MB",
            ))  # fmt: skip
    # style_codes: "Cannot be used in conjunction with style_reference_images or style_type" (schema).
    codes = list(v.get("style_codes") or ())
    if codes and v.get("style_reference_images"):
        found.append(Problem("style_codes", codes, "cannot be combined with style_reference_images"))
    if codes and v.get("style_type"):
        found.append(Problem("style_codes", codes, f"cannot be combined with style_type={v['style_type']!r}"))
    # "currently only supports 1 character reference image" (schema prose; no source allows more).
    chars: tuple[ImageInput, ...] = v.get("character_reference_images") or ()
    if len(chars) > _api.CHARACTER_REFERENCE_MAX_COUNT:
        found.append(Problem(
            "character_reference_images", f"{len(chars)} images",
            f"at most {_api.CHARACTER_REFERENCE_MAX_COUNT} (the service currently supports only "
            f"{_api.CHARACTER_REFERENCE_MAX_COUNT} character reference image)",
        ))  # fmt: skip
    # character masks: "When provided, must match the number of character_reference_images" (schema).
    masks: tuple[ImageInput, ...] = v.get("character_reference_images_mask") or ()
    if masks and len(masks) != len(chars):
        found.append(Problem(
            "character_reference_images_mask", f"{len(masks)} masks",
            f"one mask per character reference image: {len(chars)} given",
        ))  # fmt: skip
    if v.get("mask") is not None:
        found.extend(Problem("mask", v["mask"], rule) for rule in mask_rule_violations(v["mask"], v.get("image")))
    found.extend(_size_problems(spec, v))
    return found


def _file_limit(spec: Spec, name: str) -> tuple[int, int]:
    """(limit every source agrees on, largest limit any source gives) for one file field."""
    larger = _api.LARGER_IMAGE_LIMITS.get((type(spec).endpoint, name), MAX_IMAGE_BYTES)
    return MAX_IMAGE_BYTES, max(larger, MAX_IMAGE_BYTES)


def _size_problems(spec: Spec, v: Mapping[str, Any]) -> list[Problem]:
    # "max size 10MB" per file (2026-06 schema prose, seed); later v1 pages: 25MB on some fields.
    found: list[Problem] = []
    for name, images in images_in(v).items():
        agreed, largest = _file_limit(spec, name)
        for image in images:
            if len(image.data) > largest:
                where = "the largest any source allows here" if largest > agreed else "per file on this endpoint"
                found.append(Problem(name, image, f"is {_mb(len(image.data))}; at most {_mb(largest)} ({where})"))
    return found


def shared_warnings(spec: Spec) -> list[Problem]:
    """Warnings: allowed by some source, forbidden (or unknown) by another."""
    v = _fields(spec)
    found: list[Problem] = []
    for name, images in images_in(v).items():
        agreed, largest = _file_limit(spec, name)
        for image in images:
            if agreed < len(image.data) <= largest:
                found.append(Problem(
                    name, image,
                    f"is {_mb(len(image.data))}: Ideogram's later docs take up to {_mb(largest)} here, but its "
                    f"2026-06 schema and AiHubMix's docs say {_mb(agreed)}; the service may refuse it",
                ))  # fmt: skip
    chars: tuple[ImageInput, ...] = v.get("character_reference_images") or ()
    masks: tuple[ImageInput, ...] = v.get("character_reference_images_mask") or ()
    for i, (mask, char) in enumerate(zip(masks, chars, strict=False)):
        if mask.size != char.size:
            found.append(Problem(
                "character_reference_images_mask", mask,
                f"mask {i + 1} is {mask.width}x{mask.height}; it should be the size of its reference "
                f"image, {char.width}x{char.height} (schema prose)",
            ))  # fmt: skip
    if v.get("mask") is not None:
        found.extend(Problem("mask", v["mask"], text) for text in mask_warnings(v["mask"]))
    found.extend(_custom_model_warnings(spec, v))
    return found


def _custom_model_warnings(spec: Spec, v: dict[str, Any]) -> list[Problem]:
    # custom_model_uri: "in the format model/<model_name>/version/<version_name>. When provided,
    # the model version and style will be resolved from this URI, and style_type is not
    # required" (schema prose only: no pattern, no rule in the schema itself).
    found: list[Problem] = []
    uri, style = v.get("custom_model_uri") or "", v.get("style_type")
    if uri and not re.match(_api.CUSTOM_MODEL_URI_PATTERN, uri):
        found.append(Problem(
            "custom_model_uri", uri,
            "is not in the documented form model/<model_name>/version/<version_name>; the service may refuse it",
        ))  # fmt: skip
    if uri and style not in (None, "CUSTOM"):
        found.append(Problem(
            "style_type", style,
            "with custom_model_uri the style comes from the custom model; leave style_type empty or CUSTOM",
        ))  # fmt: skip
    if style == "CUSTOM" and not uri:
        takes_uri = "custom_model_uri" in type(spec).param
        how = "set custom_model_uri" if takes_uri else f"the {type(spec).endpoint} endpoint takes no custom_model_uri"
        found.append(Problem(
            "style_type", style, f"CUSTOM is the style of a custom model ({how}); the service may refuse it",
        ))  # fmt: skip
    return found
