"""The parameter types specs are declared with, and the field declarations they share.

Why a module of its own: the widget layer dispatches on these types (a param type → widget
table), so it may import them without reaching into the spec machinery; and the endpoint
modules (`_v3`, `_legacy`) declare their fields from one set of factories, so a doc, a bound
or a precedence is written once.

Every type refuses a bad value when it is assigned (a `ValueError` naming the field);
None means "not sent" for every optional field.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import param
from param.parameterized import instance_descriptor

from .. import _api
from .._images import ImageInput, to_image_input
from ._palette import ColorPalette, normalize_color_palette

#: Fields at or above this precedence are folded into an "Advanced" section by forms.
ADVANCED_PRECEDENCE = 10

_Setter = TypeVar("_Setter", bound=Callable[[Any, Any, Any], None])

if TYPE_CHECKING:
    # param >= 2.4 types each parameter by the value it holds; older param (this package needs
    # >= 2.1) cannot subscript its classes at run time, so only the checker sees the value types.
    _IntegerBase = param.Integer[int | None]
    _SelectorBase = param.Selector[str | None]
    _StringBase = param.String[str]
    _ParameterBase = param.Parameter[Any]
else:
    _IntegerBase, _SelectorBase, _StringBase, _ParameterBase = (
        param.Integer, param.Selector, param.String, param.Parameter,
    )  # fmt: skip


def _instance_descriptor(f: _Setter) -> _Setter:
    """param's `instance_descriptor`, typed: a `__set__` that hands the value to the instance's
    own copy of the parameter when there is one, as `param.Parameter.__set__` does."""
    wrapped: _Setter = instance_descriptor(f)  # type: ignore[no-untyped-call]  # unannotated in param
    return wrapped


# --- parameter types ------------------------------------------------------------------------
class Int(_IntegerBase):
    """A bounded whole number. Unlike `param.Integer` it refuses bools and callables."""

    __slots__: list[str] = []

    def _validate_value(self, value: Any, allow_None: bool) -> None:
        if value is None and allow_None:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{self.name}: must be a whole number, not {type(value).__name__}")
        super()._validate_value(value, allow_None)

    @_instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        if isinstance(val, numbers.Integral) and not isinstance(val, bool):
            val = int(val)  # numpy ints become plain ints, so to_dict stays JSON-safe
        super().__set__(obj, val)


class Choice(_SelectorBase):
    """One of a fixed list; `aliases` maps accepted spellings to the value that is stored."""

    __slots__ = ["aliases"]
    _slot_defaults = {**param.Selector._slot_defaults, "aliases": None}

    def __init__(self, default: Any = None, *, aliases: Mapping[str, str] | None = None, **params: Any) -> None:
        super().__init__(default=default, **params)
        self.aliases = dict(aliases or {})

    @_instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        if isinstance(val, str) and self.aliases:
            val = self.aliases.get(val, val)
        super().__set__(obj, val)


class Text(_StringBase):
    """Free text; None is stored as "" so text widgets always have a string to show.

    A lone surrogate (half of a UTF-16 pair, left by some copy-pastes from Windows apps and
    PDFs) is refused at once: it cannot be encoded as UTF-8, so no request, history row or
    image record could hold it, and the failure would otherwise surface far away as a raw
    `UnicodeEncodeError`.
    """

    __slots__: list[str] = []

    def _validate_value(self, value: Any, allow_None: bool) -> None:
        super()._validate_value(value, allow_None)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(
                    f"{self.name}: holds a lone surrogate ({value[exc.start]!r} at character {exc.start}), "
                    "which is not valid text and cannot be sent (often left by a copy-paste); "
                    "delete or retype that character"
                ) from None

    @_instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        super().__set__(obj, "" if val is None else val)


class ConvertedParam(_ParameterBase):
    """An optional field that normalises (and checks) a value when it is assigned.

    Why one base: images, image lists, style codes and colour palettes all store a canonical
    form and must refuse a bad value at once, naming the field; None always means "not sent".
    Subclasses implement `convert(value)` for non-None values and raise ValueError (or
    `ImageInputError`) with the field's name.
    """

    __slots__: list[str] = []
    _slot_defaults = {**param.Parameter._slot_defaults, "default": None, "allow_None": True}

    def __init__(self, default: Any = None, **params: Any) -> None:
        super().__init__(default=default, allow_None=True, **params)

    def convert(self, value: Any) -> Any:  # subclasses narrow the return type
        return value

    @_instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        super().__set__(obj, None if val is None else self.convert(val))


class ImageParam(ConvertedParam):
    """One image input, stored as an `ImageInput`; converts (and checks) on assignment.
    `mask=True`: an edit mask (greyscale, thresholded to pure black and white)."""

    __slots__ = ["mask"]
    _slot_defaults = {**ConvertedParam._slot_defaults, "mask": False}

    def __init__(self, default: Any = None, *, mask: bool = False, **params: Any) -> None:
        super().__init__(default=default, **params)
        self.mask = mask

    def convert(self, value: Any) -> ImageInput:
        return to_image_input(value, field=self.name or "image", mask=self.mask)


class ImageListParam(ConvertedParam):
    """Several image inputs, stored as a tuple of `ImageInput` (an empty list means None).
    `grey=True` encodes PIL images as greyscale (character reference masks)."""

    __slots__ = ["grey"]
    _slot_defaults = {**ConvertedParam._slot_defaults, "grey": False}

    def __init__(self, default: Any = None, *, grey: bool = False, **params: Any) -> None:
        super().__init__(default=default, **params)
        self.grey = grey

    def convert(self, value: Any) -> tuple[ImageInput, ...] | None:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        name = self.name or "images"
        converted = (to_image_input(v, field=f"{name}[{i}]", grey=self.grey) for i, v in enumerate(items))
        return tuple(converted) or None


class StyleCodesParam(ConvertedParam):
    """A list of 8-hex-digit style codes, stored as a tuple (a single code is accepted too)."""

    __slots__: list[str] = []

    def convert(self, value: Any) -> tuple[str, ...] | None:
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

    def convert(self, value: Any) -> ColorPalette | None:
        return normalize_color_palette(value, field=self.name or "color_palette")


# --- shared field declarations (each call makes a new Parameter: params cannot be shared) ---
def prompt_field(doc: str, *, precedence: float = 1) -> Text:
    return Text(default="", label="Prompt", doc=doc, precedence=precedence)


def negative_prompt_field(doc: str = "What must not appear in the image. The prompt wins where they conflict.") -> Text:
    return Text(default="", label="Negative prompt", doc=doc, precedence=8.5)


def image_field(doc: str, *, label: str = "Image", mask: bool = False, precedence: float = 2) -> ImageParam:
    return ImageParam(mask=mask, label=label, doc=doc, precedence=precedence)


def num_images_field() -> Int:
    return Int(
        default=1, bounds=(1, _api.NUM_IMAGES_MAX), label="Number of images", precedence=7,
        doc=f"How many images one call returns (1–{_api.NUM_IMAGES_MAX}); each is billed.",
    )  # fmt: skip


def seed_field() -> Int:
    return Int(
        default=None, allow_None=True, bounds=(0, _api.SEED_MAX), label="Seed", precedence=9,
        doc=f"Fix it to reproduce an image (0–{_api.SEED_MAX}). Empty: a random seed, reported with each image.",
    )  # fmt: skip


def weight_field(label: str, doc: str, *, precedence: float = 4) -> Int:
    return Int(
        default=None, allow_None=True, bounds=(_api.WEIGHT_MIN, _api.WEIGHT_MAX),
        label=label, doc=f"{doc} 1–100; service default: 50.", precedence=precedence,
    )  # fmt: skip


def magic_prompt_field(label: str = "Magic prompt") -> Choice:
    return Choice(
        objects=[None, *_api.MAGIC_PROMPT_OPTIONS], label=label, precedence=8,
        doc="Let the service rewrite the prompt for better images (AUTO, ON, OFF). Service default: AUTO.",
    )  # fmt: skip


def magic_prompt_version_field() -> Choice:
    return Choice(
        objects=[None, *_api.MAGIC_PROMPT_VERSIONS], label="Magic prompt version", precedence=14,
        doc="Which Magic Prompt version rewrites the prompt (V_0 … V_0_8), used when magic_prompt_option "
        "is AUTO or ON. Service default: its current version.",
    )  # fmt: skip


def style_reference_images_field(*, precedence: float = 8.8) -> ImageListParam:
    return ImageListParam(
        label="Style reference images", precedence=precedence,
        doc="Images whose style (not content) to follow; JPEG, PNG or WebP, 10 MB in total.",
    )  # fmt: skip


def character_reference_images_field() -> ImageListParam:
    p = _api.V3_CHARACTER_PRICE_PER_IMAGE
    return ImageListParam(
        label="Character reference", precedence=10.2,
        doc=f"A picture of a character (a person, a mascot) to keep in the new image; JPEG, PNG or WebP, "
        f"10 MB in total; the service takes {_api.CHARACTER_REFERENCE_MAX_COUNT} for now. Priced at "
        f"character-reference rates: TURBO ${p['TURBO']}, DEFAULT ${p['DEFAULT']}, QUALITY ${p['QUALITY']} per image.",
    )  # fmt: skip


def character_reference_images_mask_field() -> ImageListParam:
    return ImageListParam(
        grey=True, label="Character masks", precedence=10.3,
        doc="Optional: one greyscale mask per character reference, the same size as its reference, "
        "marking the character in it.",
    )  # fmt: skip


def custom_model_uri_field() -> Text:
    return Text(
        default="", label="Custom model", precedence=10.4,
        doc="A custom model as model/<name>/version/<version>; its version and style are used (style type "
        "CUSTOM or empty). Service default: none.",
    )  # fmt: skip
