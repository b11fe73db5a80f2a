"""Colour palettes: Ideogram's ColorPalette object in one canonical form.

Why a module of its own: the same palette field is declared by V3 and legacy specs, written
to the wire in two shapes (an object in JSON, a JSON string in multipart) and read back by
the form; one normaliser keeps the spellings a user may type apart from what is stored.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from typing import Any

from .. import _api

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
