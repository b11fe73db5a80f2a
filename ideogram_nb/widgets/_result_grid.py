"""`ResultGrid`: thumbnails that fill in as results arrive, and what to do with each image.

Why thumbnails only: the full PNGs stay in the history's image store; the notebook carries
small JPEGs (see `_thumbs`). Why buttons under the images: an `ipywidgets.Image` has no click
event in every front end, a Button does (JupyterLab, Notebook 7, Voilà). Selecting shows the
image larger with its full record, the next actions (`_actions`) and a save box. `add` may be
called from a worker thread (a finished run): tiles are appended under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as W

from .._callbacks import Callbacks
from .._config import THUMBNAIL_PX
from ._actions import ACTIONS, action_spec, available_actions, save_image
from ._followup import FollowUp, FormFactory
from ._thumbs import result_thumbnail

DETAIL_PX = 768
TILE_WIDTH = "180px"
_TILE_BORDER = "1px solid #d0d0d0"
_SELECTED_BORDER = "3px solid #1976d2"

SelectCallback = Callable[[Any], Any]
ActionCallback = Callable[[str, Any], Any]


def caption_text(image: Any, result: Any = None) -> str:
    """seed · size · cost per image · safety, in one short line."""
    parts = [f"seed {image.seed}" if image.seed is not None else "seed ?"]
    res = getattr(image, "upscaled_resolution", None) or image.resolution
    if res:
        parts.append(res.replace("x", "×"))
    if result is not None and result.images:
        parts.append(f"${result.cost_usd / len(result.images):.3f}")
    if image.withheld:
        parts.append("withheld (unsafe)")
    elif not image.is_image_safe:
        parts.append("flagged unsafe")
    return " · ".join(parts)


def record_rows(image: Any, result: Any = None) -> list[tuple[str, str]]:
    """The full record of one image, as (label, text) rows for the detail view."""
    rows = [
        ("seed", str(image.seed)),
        ("resolution", str(image.resolution)),
        ("upscaled", str(getattr(image, "upscaled_resolution", None) or "")),
        ("style type", str(image.style_type or "")),
        ("safe", "yes" if image.is_image_safe else "no (withheld)" if image.withheld else "no"),
        ("prompt", image.prompt or ""),
        ("sha256", image.sha256 or ""),
        ("file", str(image.path) if image.path is not None else "withheld by the service"),
    ]
    if result is not None:
        per_image = result.cost_usd / len(result.images) if result.images else result.cost_usd
        rows += [
            ("endpoint", result.endpoint),
            ("provider", result.provider),
            ("run", result.run_id),
            ("cost", f"${per_image:.3f} (run ${result.cost_usd:.3f})"),
        ]
    return [(k, v) for k, v in rows if v]


class ResultGrid(W.VBox):
    """Thumbnails with captions; click Select to see an image larger with its record and the
    next actions (remix, edit, upscale, describe, reframe, replace background, reuse seed, save).

    `grid.add(result)`, `grid.selected`, `grid.on_select(cb)` (`cb(image)`),
    `grid.on_action(cb)` (`cb(action, spec)`). With no action listener, the prefilled form
    opens under the grid.
    """

    def __init__(
        self,
        results: Iterable[Any] = (),
        *,
        store: Any = None,
        thumb_px: int = THUMBNAIL_PX,
        make_form: FormFactory | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.thumb_px = thumb_px
        self.results: list[Any] = []
        self.entries: list[tuple[Any, Any]] = []  # (ImageResult, Result or None)
        self._selected_index: int | None = None
        self._select_callbacks = Callbacks()
        self._action_callbacks = Callbacks()
        self._lock = threading.RLock()
        self._image_tiles: list[W.VBox] = []
        self.header = W.HTML()
        self.tiles = W.GridBox(
            layout=W.Layout(grid_template_columns=f"repeat(auto-fill, minmax({TILE_WIDTH}, 1fr))", grid_gap="8px")
        )
        self.detail_image = W.Image(format="jpeg", layout=W.Layout(max_width=f"{DETAIL_PX}px"))
        self.detail_record = W.HTML()
        self.action_buttons = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.save_path = W.Text(
            placeholder="file name or folder", description="Save to", layout=W.Layout(width="420px")
        )
        self.save_button = W.Button(description="Save", icon="save", tooltip="Copy the image file there")
        self.detail_message = W.HTML()
        self.save_button.on_click(lambda _b: self._save_clicked())
        self.detail = W.VBox(
            [self.detail_image, self.detail_record, self.action_buttons,
             W.HBox([self.save_path, self.save_button]), self.detail_message],
            layout=W.Layout(display="none", border=_TILE_BORDER, padding="8px", margin="8px 0"),
        )  # fmt: skip
        #: Where a prefilled form opens when no `on_action` listener takes the action.
        self.followup = FollowUp(make_form)
        self.children = (self.header, self.tiles, self.detail, self.followup)
        for result in results:
            self.add(result)
        self._update_header()

    # --- filling in ---------------------------------------------------------------------------
    def add(self, result: Any) -> None:
        """Show a `Result` (its images, descriptions or error), or a single `ImageResult`."""
        with self._lock:
            new: list[W.Widget] = []
            if hasattr(result, "images"):
                self.results.append(result)
                if result.error is not None:
                    new.append(self._message_tile(f"{type(result.error).__name__}: {result.error}", error=True))
                for text in result.descriptions:
                    new.append(self._message_tile(text))
                for image in result.images:
                    new.append(self._image_tile(image, result))
            else:
                new.append(self._image_tile(result, None))
            self.tiles.children = (*self.tiles.children, *new)
            self._update_header()

    def clear(self) -> None:
        with self._lock:
            self.results.clear()
            self.entries.clear()
            self._image_tiles.clear()
            self._selected_index = None
            self.tiles.children = ()
            self.detail.layout.display = "none"
            self._update_header()

    @property
    def images(self) -> list[Any]:
        return [image for image, _ in self.entries]

    def _image_tile(self, image: Any, result: Any) -> W.VBox:
        index = len(self.entries)
        self.entries.append((image, result))
        thumb = W.Image(value=result_thumbnail(image, self.thumb_px, self.store), format="jpeg",
                        layout=W.Layout(width="100%", object_fit="contain"))  # fmt: skip
        caption = W.HTML(f"<small>{escape(caption_text(image, result))}</small>")
        button = W.Button(
            description="Withheld" if image.withheld else "Select",
            tooltip="Show this image larger, with its record and actions",
            layout=W.Layout(width="100%"),
        )
        button.on_click(lambda _b: self.select(index))
        tile = W.VBox([thumb, caption, button], layout=W.Layout(border=_TILE_BORDER, padding="4px"))
        self._image_tiles.append(tile)
        return tile

    @staticmethod
    def _message_tile(text: str, *, error: bool = False) -> W.HTML:
        colour = "#b00020" if error else "inherit"
        return W.HTML(
            f"<div style='color:{colour};white-space:pre-wrap;font-size:90%'>{escape(text)}</div>",
            layout=W.Layout(border=_TILE_BORDER, padding="6px", grid_column="span 2"),
        )

    def _update_header(self) -> None:
        n = len(self.entries)
        if not self.results and not n:
            self.header.value = "<i>No results yet.</i>"
            return
        withheld = sum(1 for image, _ in self.entries if image.withheld)
        cost = sum(r.cost_usd for r in self.results)
        text = f"{n} image{'s' if n != 1 else ''}"
        if withheld:
            text += f" ({withheld} withheld)"
        self.header.value = f"<b>{text}</b> · ${cost:.2f}"

    # --- selection ----------------------------------------------------------------------------
    @property
    def selected(self) -> Any:
        """The selected `ImageResult`, or None."""
        with self._lock:
            return None if self._selected_index is None else self.entries[self._selected_index][0]

    def on_select(self, callback: SelectCallback, remove: bool = False) -> None:
        """Call `callback(image)` when an image is selected."""
        self._select_callbacks.register(callback, remove=remove)

    def on_action(self, callback: ActionCallback, remove: bool = False) -> None:
        """Call `callback(action, spec)` with the prefilled spec of a per-image action."""
        self._action_callbacks.register(callback, remove=remove)

    def select(self, which: int | Any) -> Any:
        """Select by position or by `ImageResult`; shows it larger and calls `on_select`."""
        with self._lock:
            index = which if isinstance(which, int) else next(
                i for i, (image, _) in enumerate(self.entries) if image is which or image == which
            )  # fmt: skip
            image, result = self.entries[index]
            if self._selected_index is not None:
                self._image_tiles[self._selected_index].layout.border = _TILE_BORDER
            self._selected_index = index
            self._image_tiles[index].layout.border = _SELECTED_BORDER
        self._show_detail(image, result)
        self._select_callbacks(image)
        return image

    def _show_detail(self, image: Any, result: Any) -> None:
        self.detail_image.value = result_thumbnail(image, DETAIL_PX, self.store)
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:8px;vertical-align:top'>{escape(k)}</th>"
            f"<td style='word-break:break-all'>{escape(v)}</td></tr>"
            for k, v in record_rows(image, result)
        )
        self.detail_record.value = f"<table style='font-size:90%'>{rows}</table>"
        source = result.spec if result is not None else None
        buttons = []
        for action in available_actions(image, source):
            button = W.Button(description=ACTIONS[action], tooltip=f"Open a {ACTIONS[action]} form for this image")
            button.on_click(lambda _b, a=action: self._action_clicked(a))
            buttons.append(button)
        self.action_buttons.children = tuple(buttons)
        can_save = image.path is not None
        self.save_path.disabled = self.save_button.disabled = not can_save
        self.save_path.value = Path(image.path).name if can_save else ""
        self.detail_message.value = ""
        self.detail.layout.display = None

    # --- actions ------------------------------------------------------------------------------
    def trigger(self, action: str, image: Any = None) -> Any:
        """Build the prefilled spec for `action` (on `image`, default the selected one) and
        hand it to the `on_action` listeners (or open it under the grid). Returns the spec."""
        with self._lock:
            if image is None:
                if self._selected_index is None:
                    raise ValueError("select an image first")
                image, result = self.entries[self._selected_index]
            else:
                result = next((r for im, r in self.entries if im is image), None)
        spec = action_spec(action, image, result.spec if result is not None else None)
        if self._action_callbacks:
            self._action_callbacks(action, spec)
        else:
            self.followup.open_form(ACTIONS[action], spec)
        return spec

    def _action_clicked(self, action: str) -> None:
        try:
            self.trigger(action)
        except ValueError as exc:
            self.detail_message.value = f"<span style='color:#b00020'>{escape(str(exc))}</span>"

    def save(self, target: str | Path | None = None) -> Path:
        """Copy the selected image's file to `target` (default: the Save box's text)."""
        image = self.selected
        if image is None:
            raise ValueError("select an image first")
        return save_image(image, self.save_path.value if target is None else target)

    def _save_clicked(self) -> None:
        try:
            dest = self.save()
        except (ValueError, OSError) as exc:
            self.detail_message.value = f"<span style='color:#b00020'>Not saved: {escape(str(exc))}</span>"
            return
        self.detail_message.value = f"<span style='color:#1b5e20'>Saved to {escape(str(dest))}</span>"
