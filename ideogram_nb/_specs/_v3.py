"""The Ideogram 3.0 endpoints as specs: `Generate`, `Remix`, `Edit`, `Reframe`, `ReplaceBackground`.

Field names are the API's. The seed's fields come first (precedence < 10); what only
Ideogram's own schema has (`resolution`, `color_palette`, `style_codes`, `style_preset`, and
style references on edit) is declared with precedence >= 10, so forms fold it into an
"Advanced" section. Newer enum values (rendering speed FLASH, style types FICTION and
STYLIZED) cannot be folded per value; they are listed last and named as newer in the docs.

`color_palette` is Ideogram's ColorPalette object; the legacy generate/remix specs declare
the same field from here (sent as an object in their JSON, as a JSON string in multipart).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from typing import Any


from .. import _api
from .._errors import Problem
from ._base import (
    Choice,
    ConvertedParam,
    Spec,
    image_field,
    magic_prompt_field,
    negative_prompt_field,
    num_images_field,
    prompt_field,
    seed_field,
    style_reference_images_field,
    weight_field,
)


class StyleCodesParam(ConvertedParam):
    """A list of 8-hex-digit style codes, stored as a tuple (a single code is accepted too)."""

    __slots__: list[str] = []

    def convert(self, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ValueError(f"{self.name}: must be a list of 8-hex-digit codes, not {type(value).__name__}")
        for code in items:
            if not isinstance(code, str) or not re.match(_api.STYLE_CODE_PATTERN, code):
                raise ValueError(f"{self.name}: {code!r} is not a style code (8 hex digits, e.g. 'A1B2C3D4')")
        return tuple(items) or None


class ColorPaletteParam(ConvertedParam):
    """A preset name, or 1–8 hex colours with optional weights (see `normalize_color_palette`)."""

    __slots__: list[str] = []

    def convert(self, value: Any) -> Any:
        return normalize_color_palette(value, field=self.name or "color_palette")


ColorPalette = str | tuple[str, ...] | tuple[dict[str, Any], ...]


def normalize_color_palette(value: Any, *, field: str = "color_palette") -> ColorPalette | None:
    """Canonical form: a preset name, a tuple of hex strings, or (if any member is weighted)
    a tuple of `{"color_hex", "color_weight"?}` dicts. Accepts those, a single hex colour,
    `(hex, weight)` pairs and the wire forms `{"name": ...}` / `{"members": [...]}`."""
    presets = ", ".join(_api.COLOR_PALETTE_PRESETS)
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in _api.COLOR_PALETTE_PRESETS:
            return text.upper()
        if re.match(_api.HEX_COLOR_PATTERN, text):
            return (text,)
        raise ValueError(f"{field}: {value!r} is neither a preset ({presets}) nor a hex colour like '#ff0000'")
    if isinstance(value, Mapping):
        name = value.get("name")
        if set(value) == {"name"} and isinstance(name, str) and name.upper() in _api.COLOR_PALETTE_PRESETS:
            return name.upper()
        if set(value) != {"members"}:
            shapes = "{'name': <preset>} or {'members': [...]}"
            raise ValueError(f"{field}: a dict must be {shapes}; presets: {presets}")
        value = value["members"]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{field}: must be a preset name or a list of hex colours, not {type(value).__name__}")
    if not value:
        return None
    limit = _api.COLOR_PALETTE_MAX_MEMBERS
    if len(value) > limit:
        raise ValueError(f"{field}: at most {limit} colours, not {len(value)}")
    members = [_palette_member(item, f"{field}[{i}]") for i, item in enumerate(value)]
    if all(weight is None for _, weight in members):
        return tuple(hex_ for hex_, _ in members)
    return tuple({"color_hex": h, **({} if w is None else {"color_weight": w})} for h, w in members)


def _palette_member(item: Any, where: str) -> tuple[str, float | None]:
    weight: Any = None
    if isinstance(item, str):
        hex_ = item
    elif isinstance(item, Mapping) and "color_hex" in item and set(item) <= {"color_hex", "color_weight"}:
        hex_, weight = item["color_hex"], item.get("color_weight")
    elif isinstance(item, (list, tuple)) and len(item) == 2:
        hex_, weight = item
    else:
        raise ValueError(f"{where}: a colour is '#rrggbb', (hex, weight) or {{'color_hex': ..., 'color_weight': ...}}")
    if not isinstance(hex_, str) or not re.match(_api.HEX_COLOR_PATTERN, hex_):
        raise ValueError(f"{where}: {hex_!r} is not a hex colour like '#ff0000' or '#f00'")
    if weight is None:
        return hex_, None
    lo, hi = _api.COLOR_WEIGHT_MIN, _api.COLOR_WEIGHT_MAX
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not lo <= float(weight) <= hi:
        raise ValueError(f"{where}: color_weight {weight!r} must be a number from {lo} to {hi}")
    return hex_, float(weight)


# --- V3 field declarations ------------------------------------------------------------------
def color_palette_field(*, note: str = "", precedence: float = 11) -> ColorPaletteParam:
    return ColorPaletteParam(
        label="Color palette", precedence=precedence,
        doc=f"A preset ({', '.join(_api.COLOR_PALETTE_PRESETS)}) or 1–8 hex colours, optionally "
        f"weighted 0.05–1.0, e.g. ['#ff0000', '#00ff00'].{note} Service default: none.",
    )  # fmt: skip


def _rendering_speed() -> Choice:
    p = _api.V3_PRICE_PER_IMAGE
    return Choice(
        objects=[None, *_api.V3_RENDERING_SPEEDS], aliases=_api.V3_RENDERING_SPEED_ALIASES,
        label="Rendering speed", precedence=5,
        doc=f"Faster is cheaper: TURBO ${p['TURBO']}, DEFAULT ${p['DEFAULT']}, QUALITY ${p['QUALITY']} per "
        f"image (FLASH, ${p['FLASH']}, is newer). Service default: DEFAULT.",
    )  # fmt: skip


def _aspect_ratio() -> Choice:
    return Choice(
        objects=[None, *_api.V3_ASPECT_RATIOS], label="Aspect ratio", precedence=6,
        aliases={r.replace("x", ":"): r for r in _api.V3_ASPECT_RATIOS},  # "16:9" means 16x9
        doc="The image's shape, width x height (e.g. 16x9 is 1312x736). Not with resolution. "
        "Service default: 1x1.",
    )  # fmt: skip


def _resolution(*, precedence: float = 10, doc: str | None = None) -> Choice:
    return Choice(
        objects=[None, *_api.V3_RESOLUTIONS], label="Resolution", precedence=precedence,
        doc=doc or "An exact output size (one of 69, e.g. 1024x1024) instead of an aspect ratio; "
        "not with aspect_ratio.",
    )  # fmt: skip


def _style_type() -> Choice:
    return Choice(
        objects=[None, *_api.V3_STYLE_TYPES], label="Style", precedence=7.5,
        doc="AUTO, GENERAL, REALISTIC or DESIGN (FICTION and STYLIZED are newer). Not with "
        "style_codes. Service default: GENERAL (AiHubMix documents AUTO).",
    )  # fmt: skip


def _style_codes() -> StyleCodesParam:
    return StyleCodesParam(
        label="Style codes", precedence=12,
        doc="Codes of saved styles (8 hex digits each). Not with style_reference_images or style_type.",
    )  # fmt: skip


def _style_preset() -> Choice:
    return Choice(
        objects=[None, *_api.V3_STYLE_PRESETS], label="Style preset", precedence=13,
        doc="A named look such as WATERCOLOR or BAUHAUS (62 presets). Service default: none.",
    )  # fmt: skip


# --- the specs ------------------------------------------------------------------------------
class _V3Spec(Spec):
    """Shared by the Ideogram 3.0 endpoints: multipart bodies, priced by rendering speed."""

    family = "v3"

    def expected_size(self) -> tuple[int, int] | None:
        resolution = getattr(self, "resolution", None)
        if resolution:
            return _api.parse_size(resolution)
        aspect = getattr(self, "aspect_ratio", None) or _api.V3_DEFAULT_ASPECT_RATIO
        return _api.V3_ASPECT_SIZES[aspect]


class _FollowsInputSize(_V3Spec):
    """Edit and replace-background keep the input image's size."""

    def expected_size(self) -> tuple[int, int] | None:
        image = getattr(self, "image", None)
        return None if image is None else image.size


class Generate(_V3Spec):
    """Text to image with Ideogram 3.0."""

    endpoint = "generate"
    required = ("prompt",)

    prompt = prompt_field("What to draw. Text in quotes is rendered as written.")
    rendering_speed = _rendering_speed()
    num_images = num_images_field()
    aspect_ratio = _aspect_ratio()
    magic_prompt = magic_prompt_field()
    style_type = _style_type()
    negative_prompt = negative_prompt_field()
    seed = seed_field()
    style_reference_images = style_reference_images_field()
    resolution = _resolution()
    color_palette = color_palette_field()
    style_codes = _style_codes()
    style_preset = _style_preset()


class Remix(_V3Spec):
    """A new image from a prompt and an input image (cropped to the aspect ratio)."""

    endpoint = "remix"
    required = ("prompt", "image")

    prompt = prompt_field("What the remixed image should show; the input image guides it.")
    image = image_field("The image to remix (JPEG, PNG or WebP, at most 10 MB); cropped to the aspect ratio.")
    image_weight = weight_field("Image weight", "How closely to follow the input image: higher is closer.")
    rendering_speed = _rendering_speed()
    num_images = num_images_field()
    aspect_ratio = _aspect_ratio()
    magic_prompt = magic_prompt_field()
    style_type = _style_type()
    negative_prompt = negative_prompt_field()
    seed = seed_field()
    style_reference_images = style_reference_images_field()
    resolution = _resolution()
    color_palette = color_palette_field()
    style_codes = _style_codes()
    style_preset = _style_preset()


class Edit(_FollowsInputSize):
    """Repaint the masked region of an image (mask: black = edit, white = keep)."""

    endpoint = "edit"
    required = ("prompt", "image", "mask")
    may_be_ignored = ("aspect_ratio", "negative_prompt")

    prompt = prompt_field("What the masked (black) region should become.")
    image = image_field("The image to edit (JPEG, PNG or WebP, at most 10 MB).")
    mask = image_field(
        "Black = edit, white = keep: exactly the image's size, only pure black and white, at "
        "least 10 % black. A Mask or MaskPainter works here.",
        label="Mask", mask=True, precedence=3,
    )  # fmt: skip
    rendering_speed = _rendering_speed()
    num_images = num_images_field()
    aspect_ratio = _aspect_ratio()
    magic_prompt = magic_prompt_field()
    style_type = _style_type()
    negative_prompt = negative_prompt_field(
        "What must not appear. In the seed's field list, but Ideogram's edit schema lacks it."
    )
    seed = seed_field()
    style_reference_images = style_reference_images_field(precedence=14)  # Ideogram's schema only
    color_palette = color_palette_field()
    style_codes = _style_codes()
    style_preset = _style_preset()


class Reframe(_V3Spec):
    """Extend a square image to a new size (outpainting); takes no prompt."""

    endpoint = "reframe"
    required = ("image", "resolution")

    image = image_field("The square image to extend (JPEG, PNG or WebP, at most 10 MB).")
    resolution = _resolution(precedence=3, doc="The target size, e.g. 1536x640 (required; one of 69).")
    rendering_speed = _rendering_speed()
    num_images = num_images_field()
    seed = seed_field()
    style_reference_images = style_reference_images_field()
    color_palette = color_palette_field()
    style_codes = _style_codes()
    style_preset = _style_preset()

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        image = self.image
        if image is not None and image.width != image.height:
            found.append(Problem("image", image, f"must be square to reframe, not {image.width}x{image.height}"))
        return found


class ReplaceBackground(_FollowsInputSize):
    """Keep the foreground of an image and replace its background from a prompt."""

    endpoint = "replace-background"
    required = ("prompt", "image")
    may_be_ignored = ("style_type",)

    prompt = prompt_field("The new background; the detected foreground is kept.")
    image = image_field("The image whose background to replace (JPEG, PNG or WebP, at most 10 MB).")
    rendering_speed = _rendering_speed()
    num_images = num_images_field()
    magic_prompt = magic_prompt_field()
    style_type = _style_type()
    seed = seed_field()
    style_reference_images = style_reference_images_field()
    color_palette = color_palette_field()
    style_codes = _style_codes()
    style_preset = _style_preset()
