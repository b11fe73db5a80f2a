"""Ideogram's v2 image operations as specs: `Generate45`, `PreciseEdit45`, `Inpaint3`, `Remix4`,
`Describe4`, `ReplaceBackground3`.

Names are action + model, the model's dots dropped (4.5 → 45): one style, decided once. Which
to reach for first is in docs/v2.md (`Generate45` for new images, `PreciseEdit45` to change
part of one, `Inpaint3` where the deprecated V3 `Edit` was used).

Field names are the API's and enum values its lowercase ones. What v2 adds that a notebook
cannot use (asset identifiers, webhooks, collections) is left out; `async` and `dry_run` are
not fields but how a call is sent (`Client.start`, `Client.quote`). Rules: `_v2_rules`.
`ReplaceBackground3` is always asynchronous upstream: `Client.run` sends it as a job.
v2 exists on the direct provider and the simulator only: the client refuses these specs with
provider `aihubmix` before anything is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import param

from .. import _api, _api_v2
from .._errors import Problem
from .._images import ImageInput
from . import _v2_rules as rules
from ._base import Spec
from ._fields import (
    Choice,
    ImageListParam,
    StyleCodesParam,
    Text,
    image_field,
    num_images_field,
    prompt_field,
    seed_field,
    weight_field,
)

if TYPE_CHECKING:  # param >= 2.4 types a parameter by its value (see `_fields`)
    _Flag = param.Boolean[bool | None]
else:
    _Flag = param.Boolean

__all__ = [
    "ContextWindowText", "Describe4", "Generate45", "Inpaint3", "PreciseEdit45", "Remix4", "ReplaceBackground3",
    "SizeText",
]  # fmt: skip


class SizeText(Text):
    """4.5's `size`: "auto", "source" or an exact "WIDTHxHEIGHT" (empty: not sent). The form is
    checked at once; which sizes a request may use depends on its images (`_v2_rules`)."""

    __slots__: list[str] = []

    def _validate_value(self, value: Any, allow_None: bool) -> None:
        super()._validate_value(value, allow_None)
        if isinstance(value, str) and value and not rules.SIZE_TEXT.match(value):
            raise ValueError(f"{self.name}: must be 'auto', 'source' or WIDTHxHEIGHT such as '1024x1024'")


class ContextWindowText(Text):
    """precise edit's `context_window`: "none", "auto" or "y_min,x_min,y_max,x_max" (the
    schema's pattern, checked at once)."""

    __slots__: list[str] = []

    def _validate_value(self, value: Any, allow_None: bool) -> None:
        super()._validate_value(value, allow_None)
        if isinstance(value, str) and value and not rules.CONTEXT_TEXT.match(value):
            raise ValueError(f"{self.name}: must be 'none', 'auto' or y_min,x_min,y_max,x_max such as '0,0,512,512'")


# --- field declarations -----------------------------------------------------------------------
def _quality(default_doc: str) -> Choice:
    return Choice(
        objects=[None, *_api_v2.QUALITIES], label="Quality", precedence=5,
        doc=f"very_low (fastest, cheapest), low, medium or high (slower, dearer). Service default: {default_doc}.",
    )  # fmt: skip


def _magic_prompt() -> Choice:
    return Choice(
        objects=[None, *_api_v2.V2_MAGIC_PROMPT], label="Magic prompt", precedence=8,
        aliases={v.upper(): v for v in _api_v2.V2_MAGIC_PROMPT},  # v1's spelling is accepted
        doc="auto and on rewrite and expand the prompt; off keeps your wording. Service default: auto.",
    )  # fmt: skip


def _rendering_speed(prices: dict[str, float]) -> Choice:
    return Choice(
        objects=[None, *_api_v2.V2_RENDERING_SPEEDS], label="Rendering speed", precedence=5,
        aliases={v.upper(): v for v in _api_v2.V2_RENDERING_SPEEDS},
        doc=f"Faster is cheaper: turbo ${prices['turbo']}, default ${prices['default']}, quality "
        f"${prices['quality']} per image. Service default: default.",
    )  # fmt: skip


def _flag(label: str, doc: str, precedence: float) -> _Flag:
    return param.Boolean(default=None, allow_None=True, label=label, doc=doc, precedence=precedence)


def _copyright() -> _Flag:
    return _flag("Copyright detection", "Check outputs for copyright; adds latency. Flagged images come back "
                 "withheld (is_image_safe false). Service default: off.", 12)  # fmt: skip


def _private() -> _Flag:
    return _flag("Private", "Keep outputs private (the default); False publishes them to the public feed.", 13)


def _mask(what: str) -> Any:
    return image_field(
        f"Black = edit, white = keep: exactly the size of {what}, with both black and white areas. Grey "
        "pixels are sent as the nearer of the two. A Mask or MaskPainter works here.",
        label="Mask", mask=True, precedence=3,
    )  # fmt: skip


# --- the specs -----------------------------------------------------------------------------------
class _V2Spec(Spec):
    """Shared by the v2 operations: their own rules (not v1's 10 MB and 10 % mask minimum)."""

    family = "v2"
    #: The schema's `prompt` maxLength for this operation.
    prompt_max_chars: ClassVar[int] = _api_v2.PROMPT_MAX_CHARS

    def _rule_problems(self) -> list[Problem]:
        found = rules.file_problems(self)
        found += rules.prompt_problems(getattr(self, "prompt", "") or "", self.prompt_max_chars)
        return found


class Generate45(_V2Spec):
    """Text to image with Ideogram 4.5, or an edit of up to 5 source images (the first is
    edited, optionally through a mask; the others are references)."""

    endpoint = "v2-generate-4-5"
    required = ("prompt",)

    prompt = prompt_field("What to draw, or the edit instruction when source images are given.")
    images = ImageListParam(
        label="Source images", precedence=2,
        doc="Optional, up to 5 (JPEG, PNG or WebP, 25 MB each): the first is edited, the others guide it.",
    )  # fmt: skip
    mask = _mask("the first source image (at most 3 other source images with a mask; no size)")
    size = SizeText(
        default="", label="Size", precedence=6,
        doc="'auto', 'source' (the first source image's size) or WIDTHxHEIGHT. Without source images a 1K/2K "
        "preset such as 1024x1024 or 2048x2048. Up to 1024x1024 bills as 1K, above (and auto) as 2K. "
        "Service default: auto.",
    )  # fmt: skip
    quality = _quality("medium with source images, high without")
    num_images = num_images_field()
    magic_prompt = _magic_prompt()
    seed = seed_field()
    enable_copyright_detection = _copyright()
    private = _private()

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        images: tuple[ImageInput, ...] = self.images or ()
        if len(images) > _api_v2.GENERATE_MAX_IMAGES:
            found.append(Problem("images", f"{len(images)} images", f"at most {_api_v2.GENERATE_MAX_IMAGES}"))
        if self.quality == "very_low" and not images:
            found.append(Problem("quality", "very_low", "very_low requires source images (set images)"))
        if self.mask is not None:
            if not images:
                found.append(Problem("mask", self.mask, "limits the edit of the first source image: set images"))
            elif len(images) > _api_v2.GENERATE_MAX_IMAGES_WITH_MASK:
                found.append(Problem("images", f"{len(images)} images",
                                     "with a mask at most 4 (the edited image and 3 others)"))  # fmt: skip
            if self.size:
                found.append(Problem("size", self.size, "cannot be set with a mask: the output is the first "
                                                        "source image's own size"))  # fmt: skip
            found += rules.mask_problems(self.mask, images[0] if images else None, "the first source image")
        if self.size:
            found += rules.exact_size_problems(self.size, bool(images))
        found += rules.source_ratio_problems(images)
        return found

    def expected_size(self) -> tuple[int, int] | None:
        images: tuple[ImageInput, ...] = self.images or ()
        if self.mask is not None and images:
            return images[0].size
        parsed = rules.parse_size(self.size) if self.size else None
        return parsed


class PreciseEdit45(_V2Spec):
    """Change part of one image with Ideogram 4.5; the output keeps the image's exact size and
    everything the instruction does not mention."""

    endpoint = "v2-precise-edit-4-5"
    required = ("prompt", "image")

    prompt = prompt_field("The edit instruction: what to change.")
    image = image_field("The image to edit (JPEG, PNG or WebP, at most 50 MB); the output keeps its size.")
    mask = _mask("the image (at most 3 reference images with a mask)")
    reference_images = ImageListParam(
        label="Reference images", precedence=4,
        doc="Optional images that guide the edit and are never edited themselves (up to 4, 3 with a mask).",
    )  # fmt: skip
    context_window = ContextWindowText(
        default="", label="Context window", precedence=6,
        doc="Which region to edit: none (the whole image), auto (around the mask; needs one) or "
        "y_min,x_min,y_max,x_max in the image's pixels, rows first. Service default: none.",
    )  # fmt: skip
    quality = _quality("medium")
    num_images = num_images_field()
    seed = seed_field()
    enable_copyright_detection = _copyright()
    private = _private()

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        refs: tuple[ImageInput, ...] = self.reference_images or ()
        most = _api_v2.PRECISE_MAX_REFERENCES_WITH_MASK if self.mask is not None else _api_v2.PRECISE_MAX_REFERENCES
        if len(refs) > most:
            why = " with a mask (the mask takes one reference slot)" if self.mask is not None else ""
            found.append(Problem("reference_images", f"{len(refs)} images", f"at most {most}{why}"))
        found += rules.mask_problems(self.mask, self.image, "the image")
        found += rules.context_window_problems(self.context_window, self.image, self.mask)
        return found

    def expected_size(self) -> tuple[int, int] | None:
        return None if self.image is None else self.image.size


class Inpaint3(_V2Spec):
    """Repaint the masked region of an image with Ideogram 3.0 (v2's successor of the
    deprecated V3 `Edit`; mask: black = repaint, white = keep)."""

    endpoint = "v2-inpaint-3"
    required = ("prompt", "image", "mask")

    prompt = prompt_field("What the masked (black) region should become.")
    image = image_field("The image to repaint (JPEG, PNG or WebP, at most 25 MB).")
    mask = _mask("the image")
    rendering_speed = _rendering_speed(_api_v2.INPAINT3_PRICE)
    num_images = num_images_field()
    magic_prompt = _magic_prompt()
    style_type = Choice(
        objects=[None, *_api_v2.V2_STYLE_TYPES], label="Style", precedence=7.5,
        aliases={v.upper(): v for v in _api_v2.V2_STYLE_TYPES},
        doc="auto, general, realistic, design, fiction, stylized (custom: a custom model). Service default: none.",
    )  # fmt: skip
    seed = seed_field()
    style_reference_images = ImageListParam(
        label="Style reference images", precedence=11,
        doc="Images whose style (not content) to follow: up to 10, 25 MB each. Not with style_preset.",
    )  # fmt: skip
    style_codes = StyleCodesParam(label="Style codes", precedence=12, doc="Codes of saved styles (8 hex digits each).")
    style_preset = Choice(
        objects=[None, *(p.lower() for p in _api.V3_STYLE_PRESETS)], label="Style preset", precedence=13,
        aliases={p: p.lower() for p in _api.V3_STYLE_PRESETS},
        doc="A named look such as watercolor (62 presets). Not with style codes or style references.",
    )  # fmt: skip
    enable_copyright_detection = _copyright()
    private = _private()

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        refs: tuple[ImageInput, ...] = self.style_reference_images or ()
        if len(refs) > _api_v2.INPAINT_MAX_STYLE_REFERENCES:
            found.append(Problem("style_reference_images", f"{len(refs)} images",
                                 f"at most {_api_v2.INPAINT_MAX_STYLE_REFERENCES}"))  # fmt: skip
        # style_preset: "Cannot be combined with style codes or style references" (schema prose)
        if self.style_preset and (self.style_codes or refs):
            found.append(Problem("style_preset", self.style_preset,
                                 "cannot be combined with style_codes or style_reference_images"))  # fmt: skip
        found += rules.mask_problems(self.mask, self.image, "the image")
        return found

    def warnings(self) -> list[Problem]:
        found = super().warnings()
        if self.mask is not None:  # the sources disagree: warned, sent
            found += rules.coverage_warnings(self.mask)
        return found


class Remix4(_V2Spec):
    """A new image from a prompt and an input image, with Ideogram 4.0 (the request takes no
    seed; each image's seed is reported)."""

    endpoint = "v2-remix-4"
    required = ("prompt", "image")

    prompt = prompt_field("What the remixed image should show; the input image guides it.")
    image = image_field("The image to remix (JPEG, PNG or WebP, at most 25 MB).")
    image_weight = weight_field("Image weight", "How closely to follow the input image: higher is closer.")
    rendering_speed = _rendering_speed(_api_v2.REMIX4_PRICE)
    num_images = num_images_field()
    resolution = Choice(
        objects=[None, *_api_v2.SIZE_PRESETS], label="Resolution", precedence=6,
        doc="An exact output size, one of the 4.0 1K/2K resolutions (e.g. 1024x1024, 2048x2048).",
    )  # fmt: skip
    # no seed: the 4.0 remix request takes none (its answer reports the one used)
    enable_copyright_detection = _copyright()
    private = _private()

    def expected_size(self) -> tuple[int, int] | None:
        return _api.parse_size(self.resolution) if self.resolution else None


class Describe4(_V2Spec):
    """A structured description of an image with Ideogram 4.0: its JSON prompt (a high-level
    description, the composition's elements, optionally style and tags), returned as one
    description (JSON text). That text is a valid structured prompt for `Generate45`."""

    endpoint = "v2-describe-4"
    required = ("image",)

    image = image_field("The image to describe (JPEG, PNG or WebP, at most 25 MB).")
    include_bbox = _flag("Bounding boxes", "Give each element its bounding box. Service default: on.", 5)
    include_tags = _flag("Tags", "Add tags to the description. Service default: off.", 6)
    include_style_descriptions = _flag("Style", "Describe the style too. Service default: off.", 7)

    def expected_size(self) -> tuple[int, int] | None:
        return None


class ReplaceBackground3(_V2Spec):
    """Keep an image's subject and replace its background from a prompt, with Ideogram 3.0 (no
    mask: the foreground is detected). Always asynchronous upstream: `Client.run` starts it as
    a job and waits (polling); `Client.start` returns the `Job` at once."""

    endpoint = "v2-replace-background-3"
    required = ("prompt", "image")
    prompt_max_chars = _api_v2.REPLACE_BACKGROUND_PROMPT_MAX_CHARS

    prompt = prompt_field("The new background only (up to 4000 characters); the detected subject is kept.")
    image = image_field(
        "The image whose background to replace (JPEG, PNG or WebP, at most 50 MB; the longer side at most 3 times "
        "the shorter)."
    )
    rendering_speed = _rendering_speed(_api_v2.REPLACE_BACKGROUND3_PRICE)
    num_images = num_images_field()
    # no seed, magic prompt or style: the v2 request takes none
    private = _private()

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        found += rules.aspect_problems("image", self.image, _api_v2.REPLACE_BACKGROUND_MAX_ASPECT)
        return found

    def expected_size(self) -> tuple[int, int] | None:
        return None if self.image is None else self.image.size
