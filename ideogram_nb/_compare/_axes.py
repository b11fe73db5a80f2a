"""Comparison axes: which spec field varies, and over which values.

Why A1111's syntax: users of X/Y/Z plots already type `1-10 (+2)` and `"a, b", c`; a grid
tool that made them learn another notation would lose them. Values are parsed and coerced by
the field's parameter type *here*, once, so every cell of a comparison gets real values and
a bad value is reported with its axis before anything runs (never half-way through a grid).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import param

from .._errors import Problem, SpecError

if TYPE_CHECKING:
    from .._specs._base import Spec

#: A typo like `1-1000000` should fail with a message, not plan a million calls.
MAX_AXIS_VALUES = 1000

# A1111's range forms: `1-10`, `1-10 (+2)` (step) and `10-90 [5]` (count, evenly spread).
_NUM = r"[+-]?\s*\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"
_RANGE = re.compile(
    rf"^\s*(?P<start>{_NUM})\s*-\s*(?P<end>{_NUM})"
    rf"(?:\s*\(\s*(?P<step>{_NUM})\s*\)|\s*\[\s*(?P<count>\d+)\s*\])?\s*$"
)

KINDS = ("int", "float", "bool", "enum", "str", "object")


@dataclass(frozen=True, init=False)
class PromptSR:
    """A1111's Prompt S/R: each value replaces the first occurrence of `search` in the field.

    The axis's first value is the search text itself (the original prompt), so the unchanged
    prompt is always the first column. `replacements` may be a list or a CSV string.

    >>> PromptSR("a cat", ["a dog", "a fox"]).values
    ('a cat', 'a dog', 'a fox')
    """

    search: str
    replacements: tuple[str, ...]

    def __init__(self, search: str, replacements: str | Iterable[str]) -> None:
        if not isinstance(search, str) or not search:
            raise ValueError(f"PromptSR search text must be a non-empty string, not {search!r}")
        items = parse_csv(replacements) if isinstance(replacements, str) else [str(r) for r in replacements]
        # Accept the A1111 habit of repeating the search text as the first value.
        items = [r for i, r in enumerate(items) if not (i == 0 and r == search)]
        object.__setattr__(self, "search", search)
        object.__setattr__(self, "replacements", tuple(items))

    @classmethod
    def parse(cls, text: str) -> PromptSR:
        """A1111's own form: one CSV string whose first value is the search text."""
        items = parse_csv(text)
        if not items:
            raise ValueError("PromptSR needs at least the search text")
        return cls(items[0], items[1:])

    @property
    def values(self) -> tuple[str, ...]:
        return (self.search, *self.replacements)

    def apply(self, text: str, value: str) -> str:
        return text.replace(self.search, value, 1)

    def to_json(self) -> dict[str, Any]:
        return {"search": self.search, "replacements": list(self.replacements)}


def parse_csv(text: str) -> list[str]:
    """`a, "b, c", d` → ['a', 'b, c', 'd']: quoted values may hold commas (A1111)."""
    rows = csv.reader(io.StringIO(text), skipinitialspace=True)
    return [item.strip() for row in rows for item in row if item.strip()]


def _number(text: str, kind: str) -> int | float:
    text = text.replace(" ", "")
    if kind == "int":
        value = float(text)
        if not value.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        return int(value)
    return float(text)


def _decimals(*texts: str) -> int:
    return max((len(t.split(".")[1]) if "." in t else 0) for t in texts)


def parse_range(text: str, kind: str = "int") -> list[int | float]:
    """One A1111 range, end included: `1-5`, `1-10 (+2)`, `10-1 (-3)`, `10-90 [5]`.

    A range that runs backwards without a step counts down. Raises ValueError for text that
    is not a range or a step that never reaches the end.
    """
    m = _RANGE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a range like '1-5', '1-10 (+2)' or '10-90 [5]'")
    start, end = _number(m["start"], kind), _number(m["end"], kind)
    if m["count"] is not None:
        count = int(m["count"])
        if count < 1:
            raise ValueError(f"{text!r}: the count in [ ] must be at least 1")
        if count == 1:
            return [start]
        span = (end - start) / (count - 1)
        if kind == "int":
            values: list[int | float] = [int(round(start + i * span)) for i in range(count)]
            return list(dict.fromkeys(values))  # a short range spread over many counts repeats
        digits = _decimals(m["start"], m["end"]) + 3
        return [round(start + i * span, digits) for i in range(count)]
    if m["step"] is not None:
        step = _number(m["step"], kind)
        if step == 0 or (end - start) * step < 0:
            raise ValueError(f"{text!r}: the step {m['step'].strip()} never reaches {end}")
    else:
        step = 1 if end >= start else -1
    n = int(math.floor((end - start) / step + 1e-9)) + 1
    if n > MAX_AXIS_VALUES:
        raise ValueError(f"{text!r} gives {n} values; an axis holds at most {MAX_AXIS_VALUES}")
    if kind == "int":
        return [int(start + i * step) for i in range(n)]
    digits = _decimals(m["start"], m["end"], m["step"] or "") + 3
    return [round(start + i * step, digits) for i in range(n)]


def field_kind(p: param.Parameter[Any]) -> str:
    """How axis text for this parameter is read: one of `KINDS`."""
    if isinstance(p, param.Boolean):
        return "bool"
    if isinstance(p, param.Integer):
        return "int"
    if isinstance(p, param.Number):
        return "float"
    if isinstance(p, param.ListSelector):
        return "object"
    if isinstance(p, param.Selector):
        return "enum"
    if isinstance(p, param.String):
        return "str"
    return "object"


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _coerce(item: Any, kind: str, p: param.Parameter[Any]) -> Any:
    """One value in the field's own type; text is read the way a user would mean it."""
    if not isinstance(item, str):
        return item
    text = item.strip()
    if text.lower() in ("none", "null") and p.allow_None:
        return None
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{text!r} is not true/false")
    if kind in ("int", "float"):
        return _number(text, kind)
    if kind == "enum":
        objects = list(p.objects or [])
        if text in objects:
            return text
        folded = {str(o).upper(): o for o in objects}
        return folded.get(text.upper(), text)  # an unknown name is reported by validation
    return item


def parse_values(raw: Any, kind: str, p: param.Parameter[Any]) -> list[Any]:
    """Axis values from a list (items may be range strings) or one CSV string (A1111).

    As in A1111, one string is always read as CSV: quote a value that holds a comma
    (`'"a cat, sitting", a dog'`), or pass a list.
    """
    if isinstance(raw, str):
        items: list[Any] = parse_csv(raw)
    elif isinstance(raw, Iterable) and not isinstance(raw, (bytes, dict, Path)):
        items = list(raw)
    else:
        items = [raw]
    out: list[Any] = []
    for item in items:
        if kind in ("int", "float") and isinstance(item, str) and _RANGE.match(item):
            out.extend(parse_range(item, kind))
        else:
            out.append(_coerce(item, kind, p))
        if len(out) > MAX_AXIS_VALUES:
            raise ValueError(f"more than {MAX_AXIS_VALUES} values on one axis")
    return out


def format_value(value: Any) -> str:
    """The human text of one axis value (legends, records, page names)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, Path):
        return value.name
    for attr in ("sha256",):
        sha = getattr(value, attr, None)
        if isinstance(sha, str):
            return f"image {sha[:10]}"
    path = getattr(value, "path", None)
    if isinstance(path, (str, Path)):
        return Path(path).name
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _same(a: Any, b: Any) -> bool:
    """Equal values, but True is not 1: a bool axis and an int key never match by accident."""
    if a is b:
        return True
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:  # arrays and other odd values compare by identity only
        return False


@dataclass(frozen=True)
class Axis:
    """One varied field: its values in order, and (for a text field) an optional S/R."""

    field: str
    values: tuple[Any, ...]
    sr: PromptSR | None = None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(format_value(v) for v in self.values)

    def legend(self, i: int) -> str:
        """`label: value`, the text every header of a grid shows."""
        return f"{self.field}: {self.labels[i]}"

    def index(self, key: Any) -> int:
        """Position of a value, found by the value itself or by its label text."""
        for i, v in enumerate(self.values):
            if _same(v, key):
                return i
        if isinstance(key, str):
            for i, label in enumerate(self.labels):
                if label == key:
                    return i
        raise KeyError(f"{key!r} is not a value of the {self.field!r} axis {list(self.labels)}")

    def changes(self, base: Spec, value: Any) -> dict[str, Any]:
        """The field changes that put `value` on this axis into a copy of `base`."""
        if self.sr is not None:
            return {self.field: self.sr.apply(str(getattr(base, self.field) or ""), value)}
        return {self.field: value}

    def to_json(self, jsonable: Sequence[Any] | None = None) -> dict[str, Any]:
        """JSON for the grid image. `jsonable` replaces values that JSON cannot hold."""
        values = list(jsonable) if jsonable is not None else list(self.values)
        out: dict[str, Any] = {"field": self.field, "values": values}
        if self.sr is not None:
            out["sr"] = self.sr.to_json()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Axis:
        sr = d.get("sr")
        if sr:
            pr = PromptSR(sr["search"], sr["replacements"])
            return cls(d["field"], pr.values, pr)
        return cls(d["field"], tuple(d["values"]))


def make_axis(spec: Spec, field: str, raw: Any) -> Axis:
    """Read one `field=values` argument against `spec`; SpecError names what is wrong."""
    names = [n for n in spec.param if n != "name"]
    if field not in names:
        rule = f"{type(spec).__name__} has no field {field!r}; fields: {', '.join(sorted(names))}"
        raise SpecError([Problem(field, raw, rule)], spec_name="comparison axis")
    p = spec.param[field]
    kind = field_kind(p)
    if isinstance(raw, PromptSR):
        if kind != "str":
            raise SpecError([Problem(field, raw.search, "search/replace works on text fields only")], "comparison axis")
        text = getattr(spec, field) or ""
        if raw.search not in text:
            rule = f"search text {raw.search!r} does not occur in the {field} {text!r}"
            raise SpecError([Problem(field, raw.search, rule)], "comparison axis")
        return Axis(field, raw.values, raw)
    try:
        values = parse_values(raw, kind, p)
    except ValueError as exc:
        raise SpecError([Problem(field, raw, str(exc))], "comparison axis") from None
    if not values:
        raise SpecError([Problem(field, raw, "an axis needs at least one value")], "comparison axis")
    return Axis(field, tuple(values))
