"""`MaskPainter`: paint the region to edit over an image; the `Mask` it builds lives in Python.

Why the canvas is only a view: ipycanvas keeps no state in the browser and cannot be read back
headless, so every decision (coverage, export, undo) is made on `painter.mask`, and the canvas
is redrawn from it whenever that matters (after undo/redo/clear/invert, at each stroke's end,
and when a browser connects late). During a drag only the new segment is drawn, batched, so a
mouse move costs one small message; the stroke becomes one op on mouse up, so Undo takes back
a whole stroke.

Layers: 0 = the image scaled to fit `max_display`, 1 = the mask as a translucent overlay,
2 = the rectangle tool's outline while dragging (and the layer that receives mouse events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np
from ipycanvas import MultiCanvas
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import Mask

from .._callbacks import Callbacks
from ._canvas_sync import batched, redraw_when_client_ready

#: The overlay: a colour that stands out on photos, translucent so the image shows.
OVERLAY_RGB = (255, 0, 80)
OVERLAY_ALPHA = 0.45
#: Tried in order when the image itself is close to the overlay colour (a red rose, a pink
#: sky): the first that is far enough from most pixels wins; the user can pick any other.
OVERLAY_CHOICES = ((255, 0, 80), (0, 200, 255), (255, 214, 0), (40, 255, 40))
#: A candidate is "visible" when at least this share of pixels is this far (RGB distance) away.
_FAR = 120.0
_FAR_SHARE = 0.85
#: Brush size is a diameter in % of the image's shorter side, so it means the same on any image.
DEFAULT_BRUSH_PERCENT = 5.0
TOOLS = (("Brush", "brush"), ("Eraser", "eraser"), ("Rectangle", "rect"))

ChangeCallback = Callable[[Mask], Any]
Point = tuple[float, float]


def _display_rgb(img: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """The (already flattened: `ig.open_image(..., flatten=True)`) image as RGB at display size."""
    rgb = img.convert("RGB")
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(rgb)


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb[:3])


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    text = hex_colour.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError:
        return OVERLAY_RGB


def contrasting_overlay(rgb: np.ndarray) -> tuple[int, int, int]:
    """The first of `OVERLAY_CHOICES` that stays visible on this image (an RGB array): far
    from most of its pixels. Why: a fixed red overlay vanishes on a red image."""
    sample = rgb.reshape(-1, 3)[:: max(1, rgb.shape[0] * rgb.shape[1] // 4096)].astype(np.float32)
    best, best_share = OVERLAY_CHOICES[0], -1.0
    for colour in OVERLAY_CHOICES:
        share = float(np.mean(np.linalg.norm(sample - np.array(colour, dtype=np.float32), axis=1) > _FAR))
        if share >= _FAR_SHARE:
            return colour
        if share > best_share:
            best, best_share = colour, share
    return best


class MaskPainter(widgets.VBox):
    """Paint a mask over `image` (path, bytes, PIL, result image): brush, eraser, rectangle,
    relative brush size, undo/redo, clear, invert, live coverage and a preview of the exact
    black/white PNG that `to_png()` sends.

    `painter.mask` is the `Mask` (source pixels); `painter.on_change(cb)` calls `cb(mask)`
    after every change. The programmatic methods (`stroke`, `rect`, `undo`, ...) take source
    pixels and behave exactly like the buttons and the mouse. The parts are attributes, for
    layouts and tests: `tool`, `size_slider`, `undo_button`, `redo_button`, `clear_button`,
    `invert_button`, `preview_toggle`, `canvas` (the `MultiCanvas`), `preview`, `status`,
    `warning`.
    """

    def __init__(
        self,
        image: Any,
        *,
        max_display: int = 800,
        mask: Mask | None = None,
        brush_percent: float = DEFAULT_BRUSH_PERCENT,
    ) -> None:
        super().__init__()
        if max_display < 1:
            raise ValueError(f"max_display must be >= 1, got {max_display}")
        self._max_display = int(max_display)
        self._callbacks = Callbacks()
        self._drag: list[Point] | None = None
        self._drag_tool = "brush"
        self._drag_radius = 1.0

        self.tool = widgets.ToggleButtons(
            options=TOOLS,
            value="brush",
            tooltips=["Paint the area to edit", "Erase from the area to edit", "Drag a rectangle to edit"],
        )
        self.tool.style.button_width = "90px"
        self.size_slider = widgets.FloatSlider(
            value=brush_percent,
            min=0.5,
            max=30.0,
            step=0.5,
            description="Brush %",
            readout_format=".1f",
            tooltip="Brush diameter, in % of the image's shorter side",
        )
        self.size_label = widgets.Label()
        self.undo_button = widgets.Button(description="Undo", icon="undo", tooltip="Undo the last change")
        self.redo_button = widgets.Button(description="Redo", icon="repeat", tooltip="Redo")
        self.clear_button = widgets.Button(description="Clear", icon="eraser", tooltip="Keep the whole image")
        self.invert_button = widgets.Button(description="Invert", icon="adjust", tooltip="Swap edit and keep")
        self.preview_toggle = widgets.ToggleButton(
            description="Preview mask",
            icon="eye",
            tooltip="Show the exact black/white PNG that will be sent (black = edit)",
        )
        # its own size, not stretched by the VBox to the output's width (Voilà: the whole page)
        self.canvas = MultiCanvas(
            3, width=1, height=1, layout=widgets.Layout(align_self="flex-start", max_width="100%")
        )
        self.overlay_picker = widgets.ColorPicker(
            concise=True, value=_hex(OVERLAY_RGB), description="Overlay",
            tooltip="The colour the painted area shows in",
            layout=widgets.Layout(width="auto"), style={"description_width": "initial"},
        )  # fmt: skip
        self.overlay_picker.observe(lambda _c: self._overlay_changed(), names="value")
        self._overlay_rgb = OVERLAY_RGB
        # bordered: the white (keep) part of the mask must not melt into a white page
        self.preview = widgets.Image(
            format="png", value=b"", layout=widgets.Layout(display="none", border="2px solid #666")
        )
        self.status = widgets.HTML()
        self.warning = widgets.HTML(layout=widgets.Layout(display="none"))

        for button in (self.undo_button, self.redo_button, self.clear_button, self.invert_button):
            button.layout.width = "auto"
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.clear_button.on_click(lambda _: self.clear())
        self.invert_button.on_click(lambda _: self.invert())
        self.preview_toggle.observe(lambda _: self._show_preview(), names="value")
        self.size_slider.observe(lambda _: self._update_size_label(), names="value")

        self.canvas.on_mouse_down(self._on_mouse_down)
        self.canvas.on_mouse_move(self._on_mouse_move)
        self.canvas.on_mouse_up(self._on_mouse_up)
        self.canvas.on_mouse_out(self._on_mouse_up)
        self.canvas.on_touch_start(self._on_touch_start)
        self.canvas.on_touch_move(self._on_touch_move)
        self.canvas.on_touch_end(lambda touches: self._on_mouse_up(*(touches[0] if touches else (None, None))))
        redraw_when_client_ready(self.canvas, self._redraw_all)

        toolbar = widgets.HBox(
            [
                self.tool,
                self.undo_button,
                self.redo_button,
                self.clear_button,
                self.invert_button,
                self.preview_toggle,
                self.overlay_picker,
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        self.children = (
            toolbar,
            widgets.HBox([self.size_slider, self.size_label]),
            self.canvas,
            self.preview,
            self.status,
            self.warning,
        )
        self.set_image(image, mask=mask, notify=False)

    # --- public API ---------------------------------------------------------------------
    @property
    def mask(self) -> Mask:
        return self._mask

    @property
    def coverage(self) -> float:
        """The fraction of the image to edit, 0..1."""
        return self._mask.coverage

    @property
    def scale(self) -> float:
        """Display pixels per source pixel (1.0 when the image fits in `max_display`)."""
        return self._scale

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the source image, which is also the mask's size."""
        return self._mask.size

    @property
    def brush_radius(self) -> float:
        """The brush radius in source pixels, from the slider's % of the shorter side."""
        return max(0.5, self.size_slider.value / 100 * min(self.image_size) / 2)

    @property
    def overlay_rgb(self) -> tuple[int, int, int]:
        """The overlay colour now: chosen to contrast with the image, or picked by the user."""
        return self._overlay_rgb

    def on_change(self, callback: ChangeCallback, remove: bool = False) -> None:
        """Call `callback(mask)` after every change: a stroke or rect, undo, redo, clear, invert."""
        self._callbacks.register(callback, remove=remove)

    def stroke(self, points: Sequence[Sequence[float]], radius: float, erase: bool = False) -> None:
        """Paint (or erase) a polyline in source pixels, as one undoable op."""
        self._mask.stroke(points, radius, erase=erase)
        self._changed()

    def rect(self, x0: float, y0: float, x1: float, y1: float, erase: bool = False) -> None:
        """Paint (or erase) a rectangle in source pixels, as one undoable op."""
        self._mask.rect(x0, y0, x1, y1, erase=erase)
        self._changed()

    def undo(self) -> bool:
        changed = self._mask.undo()
        if changed:
            self._changed()
        return changed

    def redo(self) -> bool:
        changed = self._mask.redo()
        if changed:
            self._changed()
        return changed

    def clear(self) -> None:
        self._mask.clear()
        self._changed()

    def invert(self) -> None:
        self._mask.invert()
        self._changed()

    def to_png(self) -> bytes:
        """Exactly the mask PNG the edit endpoints get (black = edit, white = keep)."""
        return self._mask.to_png()

    def refresh(self) -> None:
        """Redraw and notify after `painter.mask` was changed directly (not through the painter)."""
        self._changed()

    def set_image(self, image: Any, *, mask: Mask | None = None, notify: bool = True) -> None:
        """Paint on a new image; the mask starts empty at its size (or is `mask`, same size)."""
        img = ig.open_image(image, flatten=True)
        size = (img.width, img.height)
        if mask is not None and mask.size != size:
            raise ig.ImageInputError(f"mask is {mask.width}x{mask.height} but the image is {size[0]}x{size[1]}")
        self._drag = None
        self._mask = mask if mask is not None else Mask(*size)
        self._scale = min(1.0, self._max_display / max(size))
        display = (max(1, round(size[0] * self._scale)), max(1, round(size[1] * self._scale)))
        self._display_size = display
        self._image_rgb = _display_rgb(img, display)
        self._set_overlay(contrasting_overlay(self._image_rgb))
        self.canvas.width, self.canvas.height = display
        self.preview.layout.width = f"{display[0]}px"
        self.preview.layout.height = f"{display[1]}px"
        self._update_size_label()
        if notify:
            self._changed()
        else:
            self._redraw_all()
            self._update_status()

    def _set_overlay(self, rgb: tuple[int, int, int]) -> None:
        self._overlay_rgb = rgb
        if self.overlay_picker.value.lower() != _hex(rgb):
            self.overlay_picker.value = _hex(rgb)  # observed: redraws

    def _overlay_changed(self) -> None:
        self._overlay_rgb = _rgb(self.overlay_picker.value)
        if hasattr(self, "_mask"):
            self._redraw_overlay()

    @property
    def _overlay_css(self) -> str:
        r, g, b = self._overlay_rgb
        return f"rgba({r}, {g}, {b}, {OVERLAY_ALPHA})"

    # --- mouse --------------------------------------------------------------------------
    def _to_source(self, x: float, y: float) -> Point:
        return (x / self._scale, y / self._scale)

    def _on_mouse_down(self, x: float, y: float) -> None:
        if self.preview_toggle.value:
            return
        point = self._to_source(x, y)
        self._drag = [point]
        self._drag_tool = self.tool.value
        self._drag_radius = self.brush_radius
        if self._drag_tool != "rect":
            self._draw_live(point, point)

    def _on_touch_start(self, touches: list[tuple[float, float]]) -> None:
        if touches:
            self._on_mouse_down(*touches[0])

    def _on_touch_move(self, touches: list[tuple[float, float]]) -> None:
        if touches:
            self._on_mouse_move(*touches[0])

    def _on_mouse_move(self, x: float, y: float) -> None:
        drag = self._drag
        if drag is None:
            return
        point = self._to_source(x, y)
        if self._drag_tool == "rect":
            drag[1:] = [point]
            self._draw_outline(drag[0], point)
            return
        last = drag[-1]
        if abs(point[0] - last[0]) + abs(point[1] - last[1]) < 1 / self._scale:
            return  # less than a display pixel: nothing to see, nothing to record
        drag.append(point)
        self._draw_live(last, point)

    def _on_mouse_up(self, x: float | None, y: float | None) -> None:
        drag = self._drag
        if drag is None:
            return
        self._drag = None
        if x is not None and y is not None:
            point = self._to_source(x, y)
            if self._drag_tool == "rect":
                drag[1:] = [point]
            elif point != drag[-1]:
                drag.append(point)
        if self._drag_tool == "rect":
            (x0, y0), (x1, y1) = drag[0], drag[-1]
            with batched():
                self.canvas[2].clear()
            if x0 != x1 and y0 != y1:
                self.rect(x0, y0, x1, y1)
            return
        self.stroke(drag, self._drag_radius, erase=self._drag_tool == "eraser")

    # --- drawing ------------------------------------------------------------------------
    def _draw_live(self, a: Point, b: Point) -> None:
        """Draw one segment of the stroke being dragged onto the overlay.

        Cut the segment out first, then paint it translucent: overlapping segments would
        otherwise stack their alpha into dark blots.
        """
        layer = self.canvas[1]
        s = self._scale
        (ax, ay), (bx, by) = (a[0] * s, a[1] * s), (b[0] * s, b[1] * s)
        radius = self._drag_radius * s
        passes = [("destination-out", "black")]
        if self._drag_tool == "brush":
            passes.append(("source-over", self._overlay_css))
        with batched():
            layer.line_cap = "round"
            layer.line_width = 2 * radius
            for operation, colour in passes:
                layer.global_composite_operation = operation
                if a == b:
                    layer.fill_style = colour
                    layer.fill_circle(ax, ay, radius)
                else:
                    layer.stroke_style = colour
                    layer.stroke_line(ax, ay, bx, by)
            layer.global_composite_operation = "source-over"

    def _draw_outline(self, a: Point, b: Point) -> None:
        layer = self.canvas[2]
        s = self._scale
        x0, x1 = sorted((a[0] * s, b[0] * s))
        y0, y1 = sorted((a[1] * s, b[1] * s))
        with batched():
            layer.clear()
            layer.fill_style = self._overlay_css
            layer.fill_rect(x0, y0, x1 - x0, y1 - y0)
            layer.stroke_style = _hex(self._overlay_rgb)
            layer.line_width = 1
            layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)

    def _overlay_rgba(self) -> np.ndarray:
        """The mask at display size as RGBA; partly covered display pixels are partly opaque."""
        levels = Image.fromarray(self._mask.array.astype(np.uint8) * 255)
        if levels.size != self._display_size:
            levels = levels.resize(self._display_size, Image.Resampling.BOX)
        alpha = np.asarray(levels, dtype=np.float32) * OVERLAY_ALPHA
        rgba = np.empty((self._display_size[1], self._display_size[0], 4), dtype=np.uint8)
        rgba[..., :3] = self._overlay_rgb
        rgba[..., 3] = np.rint(alpha).astype(np.uint8)
        return rgba

    def _redraw_overlay(self) -> None:
        with batched():
            self.canvas[1].clear()
            self.canvas[1].put_image_data(self._overlay_rgba(), 0, 0)

    def _redraw_all(self) -> None:
        """Everything the browser should show, from Python state (also used on client ready)."""
        with batched():
            self.canvas[0].clear()
            self.canvas[0].put_image_data(self._image_rgb, 0, 0)
            self.canvas[2].clear()
            self._redraw_overlay()

    # --- state → widgets ----------------------------------------------------------------
    def _changed(self) -> None:
        self._redraw_overlay()
        self._update_status()
        if self.preview_toggle.value:
            self.preview.value = self._mask.to_png()
        self._callbacks(self._mask)

    def _update_status(self) -> None:
        coverage = self._mask.coverage
        width, height = self.image_size
        self.status.value = f"Edit area: <b>{coverage * 100:.1f} %</b> of {width}×{height} px"
        problem = self._mask.coverage_problem()
        self.warning.value = "" if problem is None else f"⚠ {escape(problem)}."
        self.warning.layout.display = None if self.warning.value else "none"
        self.undo_button.disabled = not self._mask.can_undo
        self.redo_button.disabled = not self._mask.can_redo

    def _update_size_label(self) -> None:
        self.size_label.value = f"{2 * self.brush_radius:.0f} px"

    def _show_preview(self) -> None:
        if self.preview_toggle.value:
            self.preview.value = self._mask.to_png()
            self.preview.layout.display = None
            self.canvas.layout.display = "none"
        else:
            self.preview.layout.display = "none"
            self.canvas.layout.display = None
