"""The V1/V2 ("legacy") endpoints as specs: `LegacyGenerate`, `LegacyRemix`, `LegacyEdit`,
`Upscale`, `Describe`.

Decisions:
* `model` defaults to "V_2" explicitly (the service's default too) rather than None, because
  the rules for `resolution`, `style_type`, `negative_prompt` and `color_palette` depend on
  it; it is always sent. `V_3` and `AUTO` (Ideogram's later additions) are listed last.
* A model-dependent field is refused only with models every source rules out; where the
  sources disagree (`negative_prompt` with V_3, which AiHubMix's own example sends; anything
  with AUTO, which picks the model itself) it is sent with a warning. See `_api`.
* The input image field is called `image` like on the V3 specs (forms, results' "remix this"
  actions and compare use one name); the wire sends it as `image_file`.
* AiHubMix's documentation's typo `SPECT_16_10` is accepted and stored as `ASPECT_16_10`.
* `LegacyEdit.model` only offers V_2 and V_2_TURBO, so any other model is refused when set.
"""

from __future__ import annotations

from typing import ClassVar

from .. import _api
from .._errors import Problem
from ._base import Spec
from ._fields import (
    Choice,
    ColorPaletteParam,
    Text,
    image_field,
    magic_prompt_field,
    magic_prompt_version_field,
    negative_prompt_field,
    num_images_field,
    prompt_field,
    seed_field,
    weight_field,
)
from ._v3 import color_palette_field


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
        doc="AUTO, GENERAL, REALISTIC, DESIGN, RENDER_3D or ANIME (FICTION, STYLIZED and CUSTOM are newer); "
        "V_2 and later only (not V_1/V_1_TURBO). Empty: not sent, the service chooses.",
    )  # fmt: skip


def _negative_prompt() -> Text:
    documented = [m for m in _api.LEGACY_MODELS_WITH_NEGATIVE if m not in _api.LEGACY_MODELS_WITH_NEGATIVE_DISPUTED]
    return negative_prompt_field(
        f"What must not appear; the prompt wins where they conflict. Documented for {', '.join(documented)}; "
        f"sent with a warning for {', '.join(_api.LEGACY_MODELS_WITH_NEGATIVE_DISPUTED)}."
    )


def _color_palette() -> ColorPaletteParam:
    return color_palette_field(note=f" Only for {', '.join(_api.LEGACY_MODELS_WITH_COLOR_PALETTE)}.")


class _LegacySpec(Spec):
    """Shared by the V1/V2 endpoints: the model decides which fields are allowed."""

    family = "legacy"

    #: field → (models it may be sent with, models among those where the sources disagree,
    #: the rule in words). Refused with any other model; warned with a disputed one.
    MODEL_RULES: ClassVar[dict[str, tuple[tuple[str, ...], tuple[str, ...], str]]] = {
        "resolution": (
            _api.LEGACY_MODELS_WITH_RESOLUTION, _api.LEGACY_MODELS_WITH_RESOLUTION_DISPUTED,
            "only for 2.0 models (Ideogram) / V_2-class models (AiHubMix)",
        ),
        "style_type": (
            tuple(m for m in _api.LEGACY_MODELS if m not in _api.LEGACY_MODELS_WITHOUT_STYLE), (),
            "only for V_2 and later",
        ),
        "negative_prompt": (
            _api.LEGACY_MODELS_WITH_NEGATIVE, _api.LEGACY_MODELS_WITH_NEGATIVE_DISPUTED,
            "documented only for V_1, V_1_TURBO, V_2 and V_2_TURBO",
        ),
        "color_palette": (
            _api.LEGACY_MODELS_WITH_COLOR_PALETTE, (), "not supported by V_1, V_1_TURBO, V_2A and V_2A_TURBO",
        ),
    }  # fmt: skip
    #: Why the sources disagree, where one source is specific.
    DISPUTES: ClassVar[dict[tuple[str, str], str]] = {
        ("negative_prompt", "V_3"): "AiHubMix's own example sends it with V_3",
        ("resolution", "V_2A"): "AiHubMix's 'V_2-class' may include 2a",
        ("resolution", "V_2A_TURBO"): "AiHubMix's 'V_2-class' may include 2a",
    }

    def _model_fields(self) -> list[tuple[str, object, tuple[str, ...], tuple[str, ...], str]]:
        fields = type(self).param
        model = getattr(self, "model", None) if "model" in fields else None
        if model is None:
            return []
        out = []
        for name, (allowed, disputed, rule) in self.MODEL_RULES.items():
            value = getattr(self, name) if name in fields else None
            if value not in (None, ""):
                out.append((name, value, allowed, disputed, rule))
        return out

    def _rule_problems(self) -> list[Problem]:
        found = super()._rule_problems()
        model = getattr(self, "model", None)
        for name, value, allowed, _disputed, rule in self._model_fields():
            if model not in allowed:
                found.append(Problem(name, value, f"{rule}, not with model={model!r}"))
        return found

    def warnings(self) -> list[Problem]:
        found = super().warnings()
        model = getattr(self, "model", None)
        for name, value, _allowed, disputed, rule in self._model_fields():
            if model in disputed:
                why = "AUTO lets the service pick the model" if model == "AUTO" else (
                    self.DISPUTES.get((name, str(model)), "the sources disagree")
                )  # fmt: skip
                found.append(Problem(
                    name, value, f"{rule}; sent with model={model!r} ({why}): the service may ignore or refuse it",
                ))  # fmt: skip
        magic, version = getattr(self, "magic_prompt_option", None), getattr(self, "magic_prompt_version", None)
        if version is not None and magic == "OFF":
            found.append(Problem(
                "magic_prompt_version", version, "is used only when magic_prompt_option is AUTO or ON, not OFF",
            ))  # fmt: skip
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
    magic_prompt_version = magic_prompt_version_field()
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
    magic_prompt_version = magic_prompt_version_field()
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
        "Black = edit, white = keep: exactly the image's size, at least 10 % black. Grey pixels "
        "(JPEG masks) are sent as the nearer of black and white, with a warning. A Mask or MaskPainter works here.",
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
    magic_prompt_version = magic_prompt_version_field()
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
        doc="Which model writes the description (V_2, V_3, or CUSTOM for a custom model). Service default: V_3.",
    )  # fmt: skip

    def expected_size(self) -> tuple[int, int] | None:
        return None
