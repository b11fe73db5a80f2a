"""The Ideogram 3.0 endpoints as specs: `Generate`, `Remix`, `Edit`, `Reframe`, `ReplaceBackground`.

Field names are the API's. AiHubMix's documented fields come first (precedence < 10); what only
Ideogram's own schema has (`resolution`, `color_palette`, `style_codes`, `style_preset`,
character references and their masks, `custom_model_uri`, and style references on edit) is
declared with precedence >= 10, so forms fold it into an "Advanced" section. Newer enum values
(rendering speed FLASH, style types FICTION, STYLIZED and CUSTOM) cannot be folded per value;
they are listed last and named as newer in the docs.

`color_palette` is Ideogram's ColorPalette object; the legacy generate/remix specs declare
the same field from here (sent as an object in their JSON, as a JSON string in multipart).
"""

from __future__ import annotations

from .. import _api
from .._errors import Problem
from ._base import Spec
from ._fields import (
    Choice,
    ColorPaletteParam,
    StyleCodesParam,
    character_reference_images_field,
    character_reference_images_mask_field,
    custom_model_uri_field,
    image_field,
    magic_prompt_field,
    negative_prompt_field,
    num_images_field,
    prompt_field,
    seed_field,
    style_reference_images_field,
    weight_field,
)
from ._palette import ColorPalette, normalize_color_palette

__all__ = [  # the palette and style-code names are re-exported: older imports use this module
    "ColorPalette", "ColorPaletteParam", "Edit", "Generate", "Reframe", "Remix", "ReplaceBackground",
    "StyleCodesParam", "color_palette_field", "normalize_color_palette",
]  # fmt: skip


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
        doc="AUTO, GENERAL, REALISTIC or DESIGN (FICTION and STYLIZED are newer; CUSTOM goes with "
        "custom_model_uri). Not with style_codes. Service default: GENERAL (AiHubMix documents AUTO).",
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
    character_reference_images = character_reference_images_field()
    character_reference_images_mask = character_reference_images_mask_field()
    custom_model_uri = custom_model_uri_field()


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
    character_reference_images = character_reference_images_field()
    character_reference_images_mask = character_reference_images_mask_field()
    custom_model_uri = custom_model_uri_field()


class Edit(_FollowsInputSize):
    """Repaint the masked region of an image (mask: black = edit, white = keep)."""

    endpoint = "edit"
    required = ("prompt", "image", "mask")
    may_be_ignored = ("aspect_ratio", "negative_prompt")

    prompt = prompt_field("What the masked (black) region should become.")
    image = image_field("The image to edit (JPEG, PNG or WebP, at most 10 MB).")
    mask = image_field(
        "Black = edit, white = keep: exactly the image's size, at least 10 % black. Grey pixels "
        "(JPEG masks) are sent as the nearer of black and white, with a warning. A Mask or MaskPainter works here.",
        label="Mask", mask=True, precedence=3,
    )  # fmt: skip
    rendering_speed = _rendering_speed()
    num_images = num_images_field()
    aspect_ratio = _aspect_ratio()
    magic_prompt = magic_prompt_field()
    style_type = _style_type()
    negative_prompt = negative_prompt_field(
        "What must not appear. AiHubMix's documentation lists it, but Ideogram's edit schema lacks it."
    )
    seed = seed_field()
    style_reference_images = style_reference_images_field(precedence=14)  # Ideogram's schema only
    color_palette = color_palette_field()
    style_codes = _style_codes()
    style_preset = _style_preset()
    character_reference_images = character_reference_images_field()
    character_reference_images_mask = character_reference_images_mask_field()
    custom_model_uri = custom_model_uri_field()


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
