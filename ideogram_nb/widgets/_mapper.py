"""From a spec's parameters to ipywidgets: one table from parameter type to widget factory.

Why a table looked up along the parameter's class hierarchy (as Panel's `pn.Param` does): a
new parameter type (say `Int(param.Integer)`) gets a sensible widget for free, and a field
that needs something special is one line in `FIELD_OVERRIDES`. Each factory returns a
`FieldView`: the control a user (or a test) sets, a message line under it, and the two
conversions between what the control holds and what the spec holds. Linking views to the
spec is the form's job (`_form.py`); nothing here touches the spec's values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import param

from ._field_view import (
    SERVICE_DEFAULT,
    SERVICE_DEFAULT_LABEL,
    FieldContext,
    FieldView,
    OptionalSlider,
)
from ._image_fields import ImageField, ImageListField, ResultShelf, make_mask_field

#: Fields at or above this precedence fold into the "Advanced" section.
ADVANCED_PRECEDENCE = 10
#: Up to this many choices show as toggle buttons; more become a dropdown.
TOGGLE_MAX_OPTIONS = 4
#: A bounded whole number whose range is wider than this gets a text box, not a slider
#: (nobody picks a seed out of two billion with a slider).
SLIDER_MAX_SPAN = 1000
DESCRIPTION_STYLE = {"description_width": "170px"}

Factory = Callable[[FieldContext], FieldView]


def _common(ctx: FieldContext, **extra: Any) -> dict[str, Any]:
    return {
        "description": ctx.label,
        "tooltip": ctx.doc,
        "style": DESCRIPTION_STYLE,
        "layout": W.Layout(width="95%", max_width="720px"),
        **extra,
    }


# --- text -------------------------------------------------------------------------------------
def text_field(ctx: FieldContext) -> FieldView:
    none_as_empty = bool(ctx.pobj.allow_None)
    control = W.Text(value=ctx.value or "", continuous_update=False, **_common(ctx))
    return FieldView(
        ctx.name, control,
        to_param=lambda v: (None if none_as_empty and v == "" else v),
        from_param=lambda v: v or "",
    )  # fmt: skip


def textarea_field(ctx: FieldContext, rows: int = 3) -> FieldView:
    control = W.Textarea(value=ctx.value or "", rows=rows, continuous_update=False, **_common(ctx))
    none_as_empty = bool(ctx.pobj.allow_None)
    return FieldView(
        ctx.name, control,
        to_param=lambda v: (None if none_as_empty and v == "" else v),
        from_param=lambda v: v or "",
    )  # fmt: skip


def string_field(ctx: FieldContext) -> FieldView:
    """Prompts and other long strings get a text area; short strings a line."""
    if ctx.name.endswith("prompt"):
        return textarea_field(ctx)
    return text_field(ctx)


# --- numbers ----------------------------------------------------------------------------------
def _finite_bounds(pobj: param.Parameter[Any]) -> tuple[float, float] | None:
    bounds = getattr(pobj, "bounds", None)
    if not bounds or bounds[0] is None or bounds[1] is None:
        return None
    lo, hi = bounds
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return lo, hi


def _parse_number(text: str, integer: bool, allow_none: bool) -> Any:
    text = str(text).strip().replace("_", "")
    if text == "":
        if allow_none:
            return None
        raise ValueError("a value is required")
    try:
        return int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{text!r} is not {kind}") from None


def number_field(ctx: FieldContext) -> FieldView:
    pobj = ctx.pobj
    integer = isinstance(pobj, param.Integer)
    allow_none = bool(pobj.allow_None)
    bounds = _finite_bounds(pobj)
    value = ctx.value
    if bounds is not None and (not integer or bounds[1] - bounds[0] <= SLIDER_MAX_SPAN):
        lo, hi = bounds
        inclusive = getattr(pobj, "inclusive_bounds", (True, True))
        step = getattr(pobj, "step", None) or (1 if integer else (hi - lo) / 100)
        lo = lo if inclusive[0] else lo + step
        hi = hi if inclusive[1] else hi - step
        cls = W.IntSlider if integer else W.FloatSlider
        start = value if value is not None else (pobj.default if pobj.default is not None else lo)
        slider_kw = dict(min=lo, max=hi, step=step, value=start, continuous_update=False)
        common = _common(ctx)
        if not allow_none:
            slider = cls(**slider_kw, **common)
            control: W.DOMWidget = slider
        else:
            slider = cls(**slider_kw, description=common.pop("description"), style=common.pop("style"))
            slider.tooltip = ctx.doc
            common.pop("tooltip", None)  # a Box with a tooltip is never drawn (ipywidgets#3860)
            control = OptionalSlider(slider, value, **common)
            control.doc = ctx.doc

        def follow(new_pobj: param.Parameter[Any], _current: Any) -> None:
            """New bounds: the slider's range follows (the spec re-validates its value)."""
            new_bounds = _finite_bounds(new_pobj)
            if new_bounds is None:
                return
            lo, hi = new_bounds
            if lo > slider.max:  # ipywidgets refuses min > max at every step: order matters
                slider.max, slider.min = hi, lo
            else:
                slider.min, slider.max = lo, hi

        return FieldView(ctx.name, control, follow=follow)
    if not allow_none:
        cls = W.IntText if integer else W.FloatText
        return FieldView(ctx.name, cls(value=value, continuous_update=False, **_common(ctx)))
    # Optional and unbounded (or a huge range): a text box where empty means None.
    hint = "random" if ctx.name == "seed" else SERVICE_DEFAULT_LABEL
    text = "" if value is None else str(value)
    control = W.Text(value=text, placeholder=hint, continuous_update=False, **_common(ctx))
    return FieldView(
        ctx.name, control,
        to_param=lambda v: _parse_number(v, integer, allow_none),
        from_param=lambda v: "" if v is None else str(v),
    )  # fmt: skip


# --- choices ----------------------------------------------------------------------------------
def choice_options(pobj: param.Parameter[Any], current: Any = None) -> list[tuple[str, Any]]:
    """(label, value) pairs; None becomes "service default"; a current value the parameter no
    longer allows stays listed (marked), so the control never silently changes the spec."""
    objects = list(pobj.objects)
    options: list[tuple[str, Any]] = []
    if None in objects or pobj.allow_None:
        options.append((SERVICE_DEFAULT_LABEL, SERVICE_DEFAULT))
    options.extend((str(o), o) for o in objects if o is not None)
    if current is not None and current not in objects:
        options.append((f"{current} (not allowed here)", current))
    return options


def _to_choice(value: Any) -> Any:
    return None if value is SERVICE_DEFAULT else value


def _from_choice(value: Any) -> Any:
    return SERVICE_DEFAULT if value is None else value


def selector_field(ctx: FieldContext) -> FieldView:
    pobj = ctx.pobj
    real = [o for o in pobj.objects if o is not None]
    options = choice_options(pobj, ctx.value)
    value = _from_choice(ctx.value)
    if len(real) <= TOGGLE_MAX_OPTIONS:
        control: W.DOMWidget = W.ToggleButtons(
            options=options, value=value, tooltips=[ctx.doc] * len(options), **_common(ctx)
        )
        control.style.button_width = "auto"
    else:
        control = W.Dropdown(options=options, value=value, **_common(ctx))

    def follow(new_pobj: param.Parameter[Any], current: Any) -> None:
        new_options = choice_options(new_pobj, current)
        if list(control.options) == new_options:
            return
        # Not under hold_trait_notifications: ipywidgets resets the index when options change,
        # and a held value assignment can lose to that reset. The form's guard stops the echo.
        control.options = new_options
        control.value = _from_choice(current)
        if isinstance(control, W.ToggleButtons):
            control.tooltips = [ctx.doc] * len(new_options)

    def show(value: Any) -> None:
        labels = [v for _, v in control.options]
        if _from_choice(value) not in labels:
            follow(ctx.spec.param[ctx.name], value)
        control.value = _from_choice(value)

    return FieldView(ctx.name, control, to_param=_to_choice, from_param=_from_choice, follow=follow, show=show)


def list_selector_field(ctx: FieldContext) -> FieldView:
    options = [(str(o), o) for o in ctx.pobj.objects]
    control = W.SelectMultiple(options=options, value=tuple(ctx.value or ()), **_common(ctx))
    return FieldView(
        ctx.name, control,
        to_param=lambda v: list(v) or (None if ctx.pobj.allow_None else []),
        from_param=lambda v: tuple(v or ()),
    )  # fmt: skip


def boolean_field(ctx: FieldContext) -> FieldView:
    if not ctx.pobj.allow_None:
        return FieldView(ctx.name, W.Checkbox(value=bool(ctx.value), **_common(ctx)))
    options = [(SERVICE_DEFAULT_LABEL, SERVICE_DEFAULT), ("on", True), ("off", False)]
    control = W.ToggleButtons(options=options, value=_from_choice(ctx.value), **_common(ctx))
    return FieldView(ctx.name, control, to_param=_to_choice, from_param=_from_choice)


# --- lists and anything else ------------------------------------------------------------------
def _split_items(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def list_field(ctx: FieldContext) -> FieldView:
    """A list of short strings (e.g. style codes): comma- or space-separated."""
    control = W.Text(
        value=", ".join(map(str, ctx.value or ())), placeholder="comma-separated",
        continuous_update=False, **_common(ctx),
    )  # fmt: skip
    return FieldView(
        ctx.name, control,
        to_param=lambda v: _split_items(v) or (None if ctx.pobj.allow_None else []),
        from_param=lambda v: ", ".join(map(str, v or ())),
    )  # fmt: skip


def _palette_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = []
    for item in value:
        if isinstance(item, dict):
            weight = item.get("color_weight")
            parts.append(item["color_hex"] + (f":{weight:g}" if weight is not None else ""))
        else:
            parts.append(str(item))
    return ", ".join(parts)


def _palette_value(text: str) -> Any:
    items = _split_items(text)
    if not items:
        return None
    if len(items) == 1 and ":" not in items[0]:
        return items[0]
    out: list[Any] = []
    for item in items:
        hex_, _, weight = item.partition(":")
        out.append((hex_, float(weight)) if weight else hex_)
    return out


def palette_field(ctx: FieldContext) -> FieldView:
    """A preset name, or hex colours with optional weights: `#ff0000:0.6, #00ff00`."""
    control = W.Text(
        value=_palette_text(ctx.value), placeholder="EMBER, or #ff0000:0.6, #00ff00",
        continuous_update=False, **_common(ctx),
    )  # fmt: skip
    return FieldView(ctx.name, control, to_param=_palette_value, from_param=_palette_text)


def generic_field(ctx: FieldContext) -> FieldView:
    """Fallback: JSON (or plain text) in a text box; empty means None."""

    def to_param(text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text

    def from_param(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        try:
            return json.dumps(value)
        except TypeError:
            return repr(value)

    control = W.Text(value=from_param(ctx.value), continuous_update=False, **_common(ctx))
    return FieldView(ctx.name, control, to_param=to_param, from_param=from_param)


# --- images -----------------------------------------------------------------------------------
def image_field(ctx: FieldContext) -> FieldView:
    return FieldView(ctx.name, ImageField(ctx.label, ctx.doc, ctx.value, shelf=ctx.shelf))


def image_list_field(ctx: FieldContext) -> FieldView:
    return FieldView(ctx.name, ImageListField(ctx.label, ctx.doc, ctx.value, shelf=ctx.shelf))


def _painted_over(spec: Any) -> tuple[str | None, Any]:
    """The field a mask edits and its image now: `image`, or the first of `images` (4.5
    generate, where the first source image is the one edited through the mask)."""
    if "image" in spec.param:
        return "image", getattr(spec, "image", None)
    if "images" in spec.param:
        return "images", _first(getattr(spec, "images", None))
    return None, None


def _first(images: Any) -> Any:
    return images[0] if isinstance(images, list | tuple) and images else None


def mask_field(ctx: FieldContext) -> FieldView:
    """The mask: a painter over the image it edits when the painter exists, else an upload."""
    source, image = _painted_over(ctx.spec)
    control = make_mask_field(ctx.label, ctx.doc, ctx.value, image=image)
    set_image = getattr(control, "set_image", None)
    if source is not None and set_image is not None:
        pick = _first if source == "images" else (lambda value: value)
        ctx.spec.param.watch(lambda event: set_image(pick(event.new)), [source])
    return FieldView(ctx.name, control)


# --- the table ----------------------------------------------------------------------------------
WIDGET_FACTORIES: dict[type[param.Parameter[Any]], Factory] = {
    param.Parameter: generic_field,
    param.String: string_field,
    param.Number: number_field,
    param.Boolean: boolean_field,
    param.Selector: selector_field,
    param.ListSelector: list_selector_field,
    param.List: list_field,
}

#: Per-field overrides by name: they win over the type table.
FIELD_OVERRIDES: dict[str, Factory] = {
    "prompt": lambda ctx: textarea_field(ctx, rows=4),
    "negative_prompt": lambda ctx: textarea_field(ctx, rows=2),
    "color_palette": palette_field,
    "style_codes": list_field,
    "mask": mask_field,
}


def _register_image_params() -> None:
    """The spec layer's own image parameter types (imported here, not at the top: the form
    must still build for plain `param.Parameterized` classes)."""
    try:
        from .._specs._fields import ImageListParam, ImageParam
    except ImportError:  # pragma: no cover - the spec layer is part of the package
        return
    WIDGET_FACTORIES.setdefault(ImageParam, image_field)
    WIDGET_FACTORIES.setdefault(ImageListParam, image_list_field)


_register_image_params()


def factory_for(name: str, pobj: param.Parameter[Any], overrides: dict[str, Factory] | None = None) -> Factory:
    """Overrides by name first, then the most specific type along the parameter's MRO."""
    for table in (overrides or {}, FIELD_OVERRIDES):
        if name in table:
            return table[name]
    for cls in type(pobj).__mro__:
        if cls in WIDGET_FACTORIES:
            return WIDGET_FACTORIES[cls]
    return generic_field


def make_field(
    spec: param.Parameterized,
    name: str,
    *,
    shelf: ResultShelf | None = None,
    overrides: dict[str, Factory] | None = None,
) -> FieldView:
    pobj = spec.param[name]
    view = factory_for(name, pobj, overrides)(FieldContext(spec, name, pobj, shelf))
    if pobj.constant or getattr(pobj, "readonly", False):
        view.control.disabled = True
    return view


def form_fields(spec: param.Parameterized) -> tuple[list[str], list[str]]:
    """(basic, advanced) field names in precedence order; negative precedence is hidden."""
    names = [n for n in spec.param if n != "name"]
    order = {n: i for i, n in enumerate(names)}

    def prec(n: str) -> float:
        p = spec.param[n].precedence
        return 0.0 if p is None else float(p)

    shown = sorted((n for n in names if prec(n) >= 0), key=lambda n: (prec(n), order[n]))
    basic = [n for n in shown if prec(n) < ADVANCED_PRECEDENCE]
    advanced = [n for n in shown if prec(n) >= ADVANCED_PRECEDENCE]
    return basic, advanced
