"""`ResultGrid`: thumbnails that fill in as results arrive, and what to do with each image.

Why thumbnails only: the full PNGs stay in the history's image store; the notebook carries
small JPEGs (see `_thumbs`); the one full file in view goes to the front end only when the
large view (`_large_view`) shows it. A click on a picture opens that large view; Select shows
the image's full record, the next actions (`_actions`), Download (to the browser) and Save to
server. Describe's texts span the grid's width, each with "Use as prompt". `show_pending`
puts grey tiles of the expected shape where a run's images will land. `add` may be called from
a worker thread (a finished run): tiles change under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as W

import ideogram_nb as ig

from .._callbacks import Callbacks
from .._config import THUMBNAIL_PX
from ._actions import ACTIONS, action_spec, available_actions, save_image
from ._download import DownloadButton
from ._followup import FollowUp, FormFactory, close_tree
from ._image_button import ImageButton
from ._large_view import LargeView
from ._thumbs import result_thumbnail
from ._tiles import TILE_BORDER, USE_AS_PROMPT, DescriptionTile, aspect_ratio_of, pending_tile

DETAIL_PX = 768
TILE_WIDTH = "240px"
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
    """Thumbnails with captions. Click a picture to see it large (`grid.large_view`:
    previous/next, before/after, Download); click Select for its record and the next actions
    (remix, edit, upscale, describe, reframe, replace background, reuse seed), Download and
    Save to server.

    `grid.add(result)`, `grid.show_pending(count, aspect_ratio)`, `grid.open_large(index)`,
    `grid.selected`, `grid.on_select(cb)` (`cb(image)`), `grid.on_action(cb)` (`cb(action,
    spec)`; a description's "Use as prompt" fires `("use_as_prompt", Generate(prompt=text))`).
    With no action listener, the prefilled form opens under the grid.
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
        self._pending: list[list[W.Widget]] = []  # batches of placeholder tiles, oldest first
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
        self.save_button = W.Button(description="Save to server", icon="save",
                                    tooltip="Copy the image file there, on the Jupyter server")  # fmt: skip
        self.download_button = DownloadButton()
        self.detail_message = W.HTML()
        self.save_button.on_click(lambda _b: self._save_clicked())
        self.detail = W.VBox(
            [self.detail_image, self.detail_record, self.action_buttons, self.download_button,
             W.HBox([self.save_path, self.save_button]), self.detail_message],
            layout=W.Layout(display="none", border=TILE_BORDER, padding="8px", margin="8px 0"),
        )  # fmt: skip
        #: Where a prefilled form opens when no `on_action` listener takes the action.
        self.followup = FollowUp(make_form)
        #: One image at full resolution; its actions go through `trigger`, like the detail's.
        self.large_view = LargeView(act=self.trigger)
        self.children = (self.header, self.tiles, self.large_view, self.detail, self.followup)
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
                    new.append(DescriptionTile(text, self.use_as_prompt))
                for image in result.images:
                    new.append(self._image_tile(image, result))
            else:
                new.append(self._image_tile(result, None))
            self._place(new)
            self._update_header()

    def show_pending(self, count: int, aspect_ratio: Any = 1.0) -> None:
        """Show `count` grey tiles shaped like the images on their way (`aspect_ratio`: a
        number, "16x9", (width, height) or the spec being run). The next `add` puts its tiles
        in their place; `clear_pending` removes them (a run that was not sent)."""
        if count < 0:
            raise ValueError(f"count={count}: the number of images on their way cannot be negative.")
        ratio = aspect_ratio_of(aspect_ratio)
        with self._lock:
            batch = [pending_tile(self.thumb_px, ratio) for _ in range(count)]
            if batch:
                self._pending.append(batch)
                self.tiles.children = (*self.tiles.children, *batch)

    @property
    def pending(self) -> int:
        """How many placeholder tiles are shown."""
        with self._lock:
            return sum(len(batch) for batch in self._pending)

    def clear_pending(self) -> None:
        with self._lock:
            gone = [tile for batch in self._pending for tile in batch]
            self._pending.clear()
            self.tiles.children = tuple(t for t in self.tiles.children if all(t is not g for g in gone))
        for tile in gone:
            close_tree(tile)

    def _place(self, new: list[W.Widget]) -> None:
        """Append `new`, or put it where the oldest batch of placeholders stands."""
        children = list(self.tiles.children)
        if not self._pending:
            self.tiles.children = (*children, *new)
            return
        batch = self._pending.pop(0)
        at = next((i for i, t in enumerate(children) if t is batch[0]), len(children))
        kept = [t for t in children if all(t is not b for b in batch)]
        self.tiles.children = (*kept[:at], *new, *kept[at:])
        for tile in batch:
            close_tree(tile)

    def clear(self) -> None:
        with self._lock:
            self.results.clear()
            self.entries.clear()
            self._image_tiles.clear()
            self._pending.clear()
            self._selected_index = None
            old = self.tiles.children
            self.tiles.children = ()
            self.detail.layout.display = "none"
            self.large_view.hide()
            for tile in old:
                close_tree(tile)
            self._update_header()

    @property
    def images(self) -> list[Any]:
        return [image for image, _ in self.entries]

    def _image_tile(self, image: Any, result: Any) -> W.VBox:
        index = len(self.entries)
        self.entries.append((image, result))
        thumb = ImageButton(value=result_thumbnail(image, self.thumb_px, self.store), format="jpeg",
                            alt=image.prompt or "", layout=W.Layout(width="100%"))  # fmt: skip
        thumb.on_click(lambda _b: self.open_large(index))
        text = escape(caption_text(image, result))
        # one line whatever the tile's width: cut with an ellipsis (the whole line as its title),
        # never wrapped into an orphan "$0.030" under the rest
        caption = W.HTML(
            f"<div title='{text}' style='white-space:nowrap;overflow:hidden;text-overflow:ellipsis'>"
            f"<small>{text}</small></div>"
        )
        button = W.Button(
            description="Withheld" if image.withheld else "Select",
            tooltip="Show this image's record, its actions, Download and Save",
            layout=W.Layout(width="100%"),
        )
        button.on_click(lambda _b: self.select(index))
        tile = W.VBox([thumb, caption, button], layout=W.Layout(border=TILE_BORDER, padding="4px"))
        self._image_tiles.append(tile)
        return tile

    @staticmethod
    def _message_tile(text: str, *, error: bool = False) -> W.HTML:
        colour = "#b00020" if error else "inherit"
        return W.HTML(
            f"<div style='color:{colour};white-space:pre-wrap;font-size:90%'>{escape(text)}</div>",
            layout=W.Layout(border=TILE_BORDER, padding="6px", grid_column="span 2"),
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

    # --- the large view, descriptions ------------------------------------------------------------
    def open_large(self, index: int = 0) -> Any:
        """Open image `index` (in the grid's order) in the large view; returns it."""
        with self._lock:
            entries = list(self.entries)
        return self.large_view.show(entries, index)

    def use_as_prompt(self, text: str) -> Any:
        """Hand `Generate(prompt=text)` to the `on_action` listeners as "use_as_prompt" (or
        open a Generate form under the grid). Returns the spec."""
        spec = ig.Generate(prompt=text)
        if self._action_callbacks:
            self._action_callbacks(USE_AS_PROMPT, spec)
        else:
            self.followup.open_form("Generate", spec)
        return spec

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
                self._image_tiles[self._selected_index].layout.border = TILE_BORDER
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
        self.download_button.set_image(image, result)
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
