"""The V1/V2 ("legacy") endpoints as specs: `LegacyGenerate`, `LegacyRemix`, `LegacyEdit`,
`Upscale`, `Describe`.

Decisions:
* `model` defaults to "V_2" explicitly (the service's default too) rather than None, because
  the rules for `resolution`, `style_type`, `negative_prompt` and `color_palette` depend on
  it; it is always sent. `V_3` (Ideogram's later addition) is listed last.
* The input image field is called `image` like on the V3 specs (forms, results' "remix this"
  actions and compare use one name); the wire sends it as `image_file`.
* The seed's typo `SPECT_16_10` is accepted and stored as `ASPECT_16_10`.
* `LegacyEdit.model` only offers V_2 and V_2_TURBO, so any other model is refused when set.
"""

from __future__ import annotations

from .. import _api
from .._errors import Problem
from ._base import (
    Choice,
    Spec,
    Text,
    image_field,
    magic_prompt_field,
    negative_prompt_field,
    num_images_field,
    prompt_field,
    seed_field,
    weight_field,
)
from ._v3 import ColorPaletteParam, color_palette_field


def _model(models: tuple[str, ...] = _api.LEGACY_MODELS) -> Choice:
    return Choice(
        default=_api.LEGACY_DEFAULT_MODEL, objects=list(models), label="Model", precedence=5,
        doc=f"Which model draws ({', '.join(models)}); some fields depend on it. Service default: "
        f"{_api.LEGACY_DEFAULT_MODEL}, sent explicitly.",
    )  # fmt: skip


def _aspect_ratio() -> Choice:
    return Choice(
        objects=[None, *_api.LEGACY_ASPECT_RATIOS], aliases=_api.LEGACY_ASPECT_ALIASES,
        label="Aspect ratio", precedence=6,
        doc="The image's shape, e.g. ASPECT_16_9. Not with resolution. Service default: ASPECT_1_1.",
    )  # fmt: skip


def _resolution() -> Choice:
    return Choice(
        objects=[None, *_api.LEGACY_RESOLUTIONS], label="Resolution", precedence=6.5,
        doc="An exact output size (RESOLUTION_W_H) instead of an aspect ratio; only for "
        f"{', '.join(_api.LEGACY_MODELS_WITH_RESOLUTION)}.",
    )  # fmt: skip


def _style_type() -> Choice:
    return Choice(
        objects=[None, *_api.LEGACY_STYLE_TYPES], label="Style", precedence=7.5,
        doc="AUTO, GENERAL, REALISTIC, DESIGN, RENDER_3D or ANIME; V_2 and later only (not "
        "V_1/V_1_TURBO). Empty: not sent, the service chooses.",
    )  # fmt: skip


def _negative_prompt() -> Text:
    return negative_prompt_field(
        "What must not appear; the prompt wins where they conflict. Only for "
        f"{', '.join(_api.LEGACY_MODELS_WITH_NEGATIVE)}."
    )


def _color_palette() -> ColorPaletteParam:
    return color_palette_field(note=f" Only for {', '.join(_api.LEGACY_MODELS_WITH_COLOR_PALETTE)}.")


class _LegacySpec(Spec):
    """Shared by the V1/V2 endpoints: the model decides which fields are allowed."""

    family = "legacy"

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        fields = type(self).param
        model = getattr(self, "model", None) if "model" in fields else None
        if model is None:
            return found

        def check(name: str, allowed: tuple[str, ...], rule: str) -> None:
            value = getattr(self, name) if name in fields else None
            if value not in (None, "") and model not in allowed:
                found.append(Problem(name, value, f"{rule}, not with model={model!r}"))

        check("resolution", _api.LEGACY_MODELS_WITH_RESOLUTION,
              f"only for {', '.join(_api.LEGACY_MODELS_WITH_RESOLUTION)}")  # fmt: skip
        allowed_style = tuple(m for m in _api.LEGACY_MODELS if m not in _api.LEGACY_MODELS_WITHOUT_STYLE)
        check("style_type", allowed_style, "only for V_2 and later")
        check("negative_prompt", _api.LEGACY_MODELS_WITH_NEGATIVE,
              f"only for {', '.join(_api.LEGACY_MODELS_WITH_NEGATIVE)}")  # fmt: skip
        check("color_palette", _api.LEGACY_MODELS_WITH_COLOR_PALETTE,
              f"only for {', '.join(_api.LEGACY_MODELS_WITH_COLOR_PALETTE)}")  # fmt: skip
        return found

    def expected_size(self) -> tuple[int, int] | None:
        resolution = getattr(self, "resolution", None)
        if resolution:
            return _api.parse_size(resolution)
        aspect = getattr(self, "aspect_ratio", None) or _api.LEGACY_DEFAULT_ASPECT_RATIO
        return _api.LEGACY_ASPECT_SIZES[aspect]


class LegacyGenerate(_LegacySpec):
    """Text to image with the V1/V2 models."""

    endpoint = "legacy-generate"
    required = ("prompt",)

    prompt = prompt_field("What to draw. Text in quotes is rendered as written.")
    model = _model()
    aspect_ratio = _aspect_ratio()
    resolution = _resolution()
    magic_prompt_option = magic_prompt_field()
    style_type = _style_type()
    negative_prompt = _negative_prompt()
    num_images = num_images_field()
    seed = seed_field()
    color_palette = _color_palette()


class LegacyRemix(_LegacySpec):
    """A new image from a prompt and an input image, with the V1/V2 models."""

    endpoint = "legacy-remix"
    required = ("prompt", "image")

    prompt = prompt_field("What the remixed image should show; the input image guides it.")
    image = image_field("The image to remix (JPEG, PNG or WebP, at most 10 MB); cropped to the aspect ratio.")
    image_weight = weight_field("Image weight", "How closely to follow the input image: higher is closer.")
    model = _model()
    aspect_ratio = _aspect_ratio()
    resolution = _resolution()
    magic_prompt_option = magic_prompt_field()
    style_type = _style_type()
    negative_prompt = _negative_prompt()
    num_images = num_images_field()
    seed = seed_field()
    color_palette = _color_palette()


class LegacyEdit(_LegacySpec):
    """Repaint the masked region with V_2 or V_2_TURBO (mask: black = edit, white = keep)."""

    endpoint = "legacy-edit"
    required = ("prompt", "image", "mask")
    rule_notes = {"model": "the legacy edit endpoint works only with V_2 and V_2_TURBO"}

    image = image_field("The image to edit (JPEG, PNG or WebP, at most 10 MB).")
    mask = image_field(
        "Black = edit, white = keep: exactly the image's size, only pure black and white, at "
        "least 10 % black. A Mask or MaskPainter works here.",
        label="Mask", mask=True, precedence=3,
    )  # fmt: skip
    prompt = prompt_field("What the masked (black) region should become.")
    model = _model(_api.LEGACY_EDIT_MODELS)
    magic_prompt_option = magic_prompt_field()
    num_images = num_images_field()
    seed = seed_field()
    style_type = _style_type()

    def expected_size(self) -> tuple[int, int] | None:
        return None if self.image is None else self.image.size


class Upscale(_LegacySpec):
    """Enlarge an image about 2x, optionally guided by a prompt. Priced per call."""

    endpoint = "upscale"
    required = ("image",)

    image = image_field("The image to enlarge (JPEG, PNG or WebP, at most 10 MB); the output is about 2x.")
    prompt = prompt_field("Optional guidance for the added detail.", precedence=3)
    resemblance = weight_field("Resemblance", "How closely to keep the input: higher is closer.")
    detail = weight_field("Detail", "How much new detail to add: higher adds more.", precedence=4.1)
    magic_prompt_option = magic_prompt_field()
    num_images = num_images_field()
    seed = seed_field()

    def expected_size(self) -> tuple[int, int] | None:
        return None if self.image is None else (2 * self.image.width, 2 * self.image.height)


class Describe(_LegacySpec):
    """Text descriptions of an image (answers text, no images)."""

    endpoint = "describe"
    required = ("image",)

    image = image_field("The image to describe (JPEG, PNG or WebP, at most 10 MB).")
    describe_model_version = Choice(
        objects=[None, *_api.DESCRIBE_MODEL_VERSIONS], label="Describe model", precedence=5,
        doc="Which model writes the description (V_2 or V_3). Service default: V_3.",
    )  # fmt: skip

    def expected_size(self) -> tuple[int, int] | None:
        return None
