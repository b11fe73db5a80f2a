"""The tiles a result grid shows beside its pictures: a Describe text with "Use as prompt",
and a grey placeholder shaped like an image on its way.

Why apart from the grid: each is a small decision about one tile (how wide a text runs, how
tall a placeholder stands) that the grid only places.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W

import ideogram_nb as ig

from ._thumbs import placeholder

TILE_BORDER = "1px solid #d0d0d0"

#: The action a description's "Use as prompt" fires: `on_action("use_as_prompt", Generate(prompt=text))`.
USE_AS_PROMPT = "use_as_prompt"
PENDING_TEXT = "generating"


def aspect_ratio_of(value: Any) -> float:
    """width / height from a number, "16x9" / "1024x768", a (width, height) pair or a spec
    (its expected output size); 1.0 when unknown."""
    if value is None:
        return 1.0
    if isinstance(value, ig.Spec):
        value = value.expected_size()
        if value is None:
            return 1.0
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").replace(":", "x").split("x")
        try:
            value = (float(parts[0]), float(parts[1]))
        except (IndexError, ValueError):
            raise ValueError(
                f"aspect_ratio={value!r} is not a shape; write it as width x height, e.g. '16x9'."
            ) from None
    if isinstance(value, (tuple, list)):
        w, h = float(value[0]), float(value[1])
        value = w / h if h > 0 else 0.0
    ratio = float(value)
    if not ratio > 0:
        raise ValueError(f"aspect_ratio={value!r}: a shape must be wider than 0 and taller than 0.")
    return ratio


class DescriptionTile(W.VBox):
    """One text of a Describe result, across the grid's full width, with "Use as prompt".

    `value` is the HTML shown, as on the grid's other text tiles (plain `HTML` widgets)."""

    def __init__(self, text: str, on_use: Callable[[str], Any]) -> None:
        self.text = text
        self.html = W.HTML(
            f"<div style='white-space:pre-wrap;line-height:1.45'>{escape(text)}</div>",
            layout=W.Layout(width="100%"),
        )
        self.use_button = W.Button(description="Use as prompt", icon="pencil",
                                   tooltip="Start a Generate with this text as its prompt")  # fmt: skip
        self.use_button.on_click(lambda _b: on_use(text))
        super().__init__([self.html, self.use_button],
                         layout=W.Layout(border=TILE_BORDER, padding="6px 8px", grid_column="1 / -1"))  # fmt: skip

    @property
    def value(self) -> str:
        return str(self.html.value)


def pending_tile(px: int, ratio: float) -> W.VBox:
    """A grey tile `px` wide and `px / ratio` tall, saying an image is on its way."""
    image = W.Image(value=placeholder(px, PENDING_TEXT, ratio), format="jpeg",
                    layout=W.Layout(width="100%", object_fit="contain"))  # fmt: skip
    caption = W.HTML("<small>on its way…</small>")
    return W.VBox([image, caption], layout=W.Layout(border=TILE_BORDER, padding="4px"))
