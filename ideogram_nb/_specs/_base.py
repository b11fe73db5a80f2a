"""`Spec`: one declarative `param.Parameterized` per endpoint, and the machinery they share.

Why param: the declaration (bounds, enums, `doc`, `label`, `precedence`) is the one source
for the form, the validation messages and the tooltips. Two kinds of checks, on purpose:

* **Per field, at once.** Every value is checked when it is set. The constructor (and so
  `spec_from_dict` and `copy`) collects every bad value and raises one `SpecError` naming
  field, value and rule; a later assignment `spec.num_images = 9` raises a `SpecError` for
  that field (an invalid image raises `ImageInputError`). Both are `ValueError`s, which is
  what the widget layer relies on to refuse a value. A spec therefore never holds a value
  outside its declaration.
* **Across fields, on demand.** Rules that involve several fields (`resolution` vs
  `aspect_ratio`, model-dependent fields, mask vs image, required fields) are only checked
  by `problems()` / `validate()`, so a form can pass through invalid combinations while the
  user edits. `validate()` never emits Python warnings: it returns them as `Problem`s.

Optional fields default to None (or "" for text) and mean "not sent": the service's own
default applies, and each `doc` names it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import param
from param.parameterized import instance_descriptor

from .. import _api
from .._config import MAX_STYLE_REFERENCE_TOTAL_BYTES
from .._errors import ImageInputError, Problem, SpecError
from .._images import ImageInput, mask_rule_violations, to_image_input
from ._pricing import estimate_cost as _estimate_cost


#: Fields at or above this precedence are folded into an "Advanced" section by forms.
ADVANCED_PRECEDENCE = 10

_S = TypeVar("_S", bound="Spec")


# --- parameter types ------------------------------------------------------------------------
class Int(param.Integer):
    """A bounded whole number. Unlike `param.Integer` it refuses bools and callables."""

    __slots__: list[str] = []

    def _validate_value(self, value: Any, allow_None: bool) -> None:
        if value is None and allow_None:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{self.name}: must be a whole number, not {type(value).__name__}")
        super()._validate_value(value, allow_None)

    @instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        if isinstance(val, numbers.Integral) and not isinstance(val, bool):
            val = int(val)  # numpy ints become plain ints, so to_dict stays JSON-safe
        super().__set__(obj, val)


class Choice(param.Selector):
    """One of a fixed list; `aliases` maps accepted spellings to the value that is stored."""

    __slots__ = ["aliases"]
    _slot_defaults = {**param.Selector._slot_defaults, "aliases": None}

    def __init__(self, default: Any = None, *, aliases: Mapping[str, str] | None = None, **params: Any) -> None:
        super().__init__(default=default, **params)
        self.aliases = dict(aliases or {})

    @instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        if isinstance(val, str) and self.aliases:
            val = self.aliases.get(val, val)
        super().__set__(obj, val)


class Text(param.String):
    """Free text; None is stored as "" so text widgets always have a string to show."""

    __slots__: list[str] = []

    @instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        super().__set__(obj, "" if val is None else val)


class ConvertedParam(param.Parameter):
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

    def convert(self, value: Any) -> Any:
        return value

    @instance_descriptor
    def __set__(self, obj: Any, val: Any) -> None:
        super().__set__(obj, None if val is None else self.convert(val))


class ImageParam(ConvertedParam):
    """One image input, stored as an `ImageInput`; converts (and checks) on assignment."""

    __slots__ = ["mask"]
    _slot_defaults = {**ConvertedParam._slot_defaults, "mask": False}

    def __init__(self, default: Any = None, *, mask: bool = False, **params: Any) -> None:
        super().__init__(default=default, **params)
        self.mask = mask

    def convert(self, value: Any) -> Any:
        return to_image_input(value, field=self.name or "image", mask=self.mask)


class ImageListParam(ConvertedParam):
    """Several image inputs, stored as a tuple of `ImageInput` (an empty list means None)."""

    __slots__: list[str] = []

    def convert(self, value: Any) -> Any:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        name = self.name or "images"
        return tuple(to_image_input(v, field=f"{name}[{i}]") for i, v in enumerate(items)) or None


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


def style_reference_images_field(*, precedence: float = 8.8) -> ImageListParam:
    return ImageListParam(
        label="Style reference images", precedence=precedence,
        doc="Images whose style (not content) to follow; JPEG, PNG or WebP, 10 MB in total.",
    )  # fmt: skip


# --- the base class -------------------------------------------------------------------------
class Spec(param.Parameterized):
    """One request to one endpoint, as data: validated, priced, serialised, rendered."""

    endpoint: ClassVar[str] = ""  # a key of `_api.ROUTES`
    family: ClassVar[str] = ""  # "v3" or "legacy"
    #: Fields that must be set (and, for text, not blank) before sending.
    required: ClassVar[tuple[str, ...]] = ()
    #: Fields the seed lists but Ideogram's schema lacks: sent, with a warning.
    may_be_ignored: ClassVar[tuple[str, ...]] = ()
    #: Extra words for a field's rule in error messages (why the allowed values are so).
    rule_notes: ClassVar[dict[str, str]] = {}

    def __init__(self, **params: Any) -> None:
        name = params.pop("name", None)
        super().__init__(**({} if name is None else {"name": name}))
        fields = self.field_names()
        problems: list[Problem] = []
        for key, value in params.items():
            if key not in fields:
                rule = f"not a field of {type(self).__name__}; fields: {', '.join(fields)}"
                problems.append(Problem(key, value, rule))
                continue
            try:
                super().__setattr__(key, value)
            except (ValueError, TypeError) as exc:
                problems.append(self._field_problem(key, value, exc))
        if problems:
            # Name every problem at once: the cross-field rules over the values that were
            # accepted too, so a user fixes everything in one pass.
            bad = {p.field for p in problems}
            problems += [p for p in self.problems() if p.field not in bad]
            raise SpecError(problems, spec_name=type(self).__name__)

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "name" or key not in type(self).param:
            super().__setattr__(key, value)
            return
        before = getattr(self, key)
        try:
            super().__setattr__(key, value)
        except ImageInputError:
            raise
        except (ValueError, TypeError) as exc:
            if getattr(self, key) is not before:  # the value was stored: a watcher failed, not us
                raise
            raise SpecError([self._field_problem(key, value, exc)], spec_name=type(self).__name__) from None

    # --- introspection ----------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> list[str]:
        """The request fields, in declaration order (param's own `name` is not one)."""
        return [n for n in cls.param if n != "name"]

    def _is_default(self, name: str) -> bool:
        return getattr(self, name) == type(self).param[name].default

    def _set_fields(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.field_names() if not self._is_default(n)}

    def _field_problem(self, key: str, value: Any, exc: Exception) -> Problem:
        p = type(self).param[key]
        if isinstance(p, param.Selector):
            values = [str(o) for o in p.objects if o is not None]
            listed = ", ".join(values) if len(values) <= 16 else (
                f"the {len(values)} values of {type(self).__name__}.param.{key}.objects, e.g. {', '.join(values[:4])}"
            )  # fmt: skip
            rule = f"must be one of {listed}" + (", or None for the service default" if None in p.objects else "")
        elif isinstance(p, param.Integer):
            lo, hi = p.bounds
            rule = f"must be a whole number from {lo} to {hi}"
            rule += ", or None for the service default" if p.allow_None else ""
        elif isinstance(p, param.String):
            rule = "must be text (a str)"
        else:
            msg = str(exc)
            rule = msg[len(key) + 2 :] if msg.startswith(f"{key}: ") else msg
        note = self.rule_notes.get(key)
        return Problem(key, value, f"{rule} ({note})" if note else rule)

    # --- validation -------------------------------------------------------------------------
    def problems(self) -> list[Problem]:
        """Every broken rule (errors only), all at once."""
        found: list[Problem] = []
        for name in self.required:
            value = getattr(self, name)
            if value is None:
                found.append(Problem(name, None, "required"))
            elif isinstance(value, str) and not value.strip():
                found.append(Problem(name, value, "required: must not be blank"))
        found.extend(self._rule_problems())
        return found

    def _rule_problems(self) -> list[Problem]:
        """Cross-field rules shared by both families, by field presence; subclasses extend."""
        v = {n: getattr(self, n) for n in self.field_names()}
        found: list[Problem] = []
        if v.get("resolution") and v.get("aspect_ratio"):
            found.append(Problem(
                "resolution", v["resolution"],
                f"cannot be combined with aspect_ratio={v['aspect_ratio']!r}; set only one of them",
            ))  # fmt: skip
        refs: tuple[ImageInput, ...] = v.get("style_reference_images") or ()
        total = sum(len(r.data) for r in refs)
        if total > MAX_STYLE_REFERENCE_TOTAL_BYTES:
            found.append(Problem(
                "style_reference_images", f"{len(refs)} images, {total / 2**20:.1f} MB",
                f"together at most {MAX_STYLE_REFERENCE_TOTAL_BYTES / 2**20:.0f} MB",
            ))  # fmt: skip
        codes = list(v.get("style_codes") or ())
        if codes and refs:
            found.append(Problem("style_codes", codes, "cannot be combined with style_reference_images"))
        if codes and v.get("style_type"):
            found.append(Problem("style_codes", codes, f"cannot be combined with style_type={v['style_type']!r}"))
        if v.get("mask") is not None:
            found.extend(Problem("mask", v["mask"], rule) for rule in mask_rule_violations(v["mask"], v.get("image")))
        return found

    def warnings(self) -> list[Problem]:
        """Allowed but probably not what you want. Never emitted as Python warnings."""
        found: list[Problem] = []
        seed, count = getattr(self, "seed", None), self.image_count
        if seed is not None and count > 1:
            found.append(Problem(
                "seed", seed,
                f"with num_images={count} a fixed seed may give {count} identical images; leave seed "
                "empty for variety",
            ))  # fmt: skip
        for name in self.may_be_ignored:
            value = getattr(self, name)
            if value not in (None, ""):
                found.append(Problem(
                    name, value,
                    f"the upstream service may ignore this field (Ideogram's {self.endpoint} schema lacks it; "
                    "the seed documents it)",
                ))  # fmt: skip
        return found

    def validate(self) -> list[Problem]:
        """Raise `SpecError` listing every problem; otherwise return the warnings."""
        problems = self.problems()
        if problems:
            raise SpecError(problems, spec_name=type(self).__name__)
        return self.warnings()

    # --- derived facts ----------------------------------------------------------------------
    def estimate_cost(self) -> float:
        """US dollars this call is expected to cost (see `_pricing`)."""
        return _estimate_cost(self)

    @property
    def image_count(self) -> int:
        """Images one call returns: the service's concurrency unit. Describe counts as 1."""
        n = getattr(self, "num_images", None) if "num_images" in type(self).param else None
        return int(n) if n else 1

    def input_images(self) -> dict[str, list[ImageInput]]:
        """Every image this spec uploads, by field (what the history stores as inputs)."""
        out: dict[str, list[ImageInput]] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if isinstance(value, ImageInput):
                out[name] = [value]
            elif isinstance(value, tuple) and value and all(isinstance(i, ImageInput) for i in value):
                out[name] = list(value)
        return out

    def expected_size(self) -> tuple[int, int] | None:
        """The (width, height) the outputs should have, when it can be known beforehand."""
        return None

    # --- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-safe: `endpoint` plus the non-default fields; images as `sha256:` refs."""
        out: dict[str, Any] = {"endpoint": self.endpoint}
        for name, value in self._set_fields().items():
            out[name] = _json_value(value)
        return out

    def copy(self: _S, **changes: Any) -> _S:
        """A new spec of the same kind with `changes` applied (checked like the constructor)."""
        return type(self)(**{**self._set_fields(), **changes})

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._set_fields().items())
        return f"{type(self).__name__}({shown})"

    __str__ = __repr__


def _json_value(value: Any) -> Any:
    if isinstance(value, ImageInput):
        return value.ref
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value
