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
  Only what every source forbids is an error; where the sources disagree it is a warning
  and the request is sent (`_rules`, `docs/schema-conformance.md`).

Optional fields default to None (or "" for text) and mean "not sent": the service's own
default applies, and each `doc` names it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import param

from .._errors import ImageInputError, Problem, SpecError
from .._images import ImageInput
from ._fields import (  # noqa: F401  (re-exported: the types specs are declared with)
    ADVANCED_PRECEDENCE,
    Choice,
    ColorPaletteParam,
    ConvertedParam,
    ImageListParam,
    ImageParam,
    Int,
    StyleCodesParam,
    Text,
)
from ._pricing import estimate_cost as _estimate_cost
from ._rules import images_in, shared_problems, shared_warnings
from ._source import spec_call

_S = TypeVar("_S", bound="Spec")
#: `Spec.field_names` per spec class (weak: classes made in tests or notebooks can go).
_FIELD_NAMES: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


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
        # param leaves `Parameterized.__init__(**params)` unannotated.
        super().__init__(**({} if name is None else {"name": name}))  # type: ignore[no-untyped-call]
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
        names = _FIELD_NAMES.get(cls)
        if names is None:  # a class's params are fixed once it is made: listed once
            names = _FIELD_NAMES[cls] = tuple(n for n in cls.param if n != "name")
        return list(names)

    def _set_fields(self) -> dict[str, Any]:
        """The fields that differ from their defaults (each read once: on every call's path)."""
        params = type(self).param
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if not bool(value == params[name].default):
                out[name] = value
        return out

    def _field_problem(self, key: str, value: Any, exc: Exception) -> Problem:
        p = type(self).param[key]
        if isinstance(p, param.Selector):
            values = [str(o) for o in p.objects if o is not None]
            listed = ", ".join(values) if len(values) <= 16 else (
                f"the {len(values)} values of {type(self).__name__}.param.{key}.objects, e.g. {', '.join(values[:4])}"
            )  # fmt: skip
            rule = f"must be one of {listed}" + (", or None for the service default" if None in p.objects else "")
        elif isinstance(p, param.Integer) and p.bounds is not None:  # every `Int` field has bounds
            lo, hi = p.bounds
            rule = f"must be a whole number from {lo} to {hi}"
            rule += ", or None for the service default" if p.allow_None else ""
        elif isinstance(p, param.String) and not str(exc).startswith(f"{key}: "):
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
        """Cross-field rules shared by both families (see `_rules`); subclasses extend."""
        return shared_problems(self)

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
                    "AiHubMix's documentation lists it)",
                ))  # fmt: skip
        found.extend(shared_warnings(self))
        return found

    def validate(self) -> list[Problem]:
        """Raise `SpecError` listing every problem; otherwise return the warnings."""
        self._raise_problems()
        return self.warnings()

    def _raise_problems(self) -> None:
        """`validate` without the warnings: what `Client.run` checks before every call (the
        warnings were half of that check's time, and a call has no use for them)."""
        problems = self.problems()
        if problems:
            raise SpecError(problems, spec_name=type(self).__name__)

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
        return images_in({name: getattr(self, name) for name in self.field_names()})

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

    def to_python(self, *, var: str | None = None, store_expr: str = "ig.History().store") -> str:
        """The Python that rebuilds this spec: `ig.Generate(prompt="a fox", seed=7)`.

        Only fields that differ from the defaults are written (as `to_dict`); image inputs
        become paths in the image store named by `store_expr` (the default history's, where
        every run's inputs are kept), so the code sends the same bytes. `var="spec"` prefixes
        `spec = `. Why: "copy settings" is how a notebook user takes a result's recipe along.
        """
        fields = {k: v for k, v in self.to_dict().items() if k != "endpoint"}
        return spec_call(type(self), fields, var=var, store_expr=store_expr)

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
