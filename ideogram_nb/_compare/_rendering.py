"""Showing a comparison: its HTML table, labelled contact sheets and the single images.

Why separate from planning and judging: rendering only reads the grid. Contact sheets carry
the axis set-up so `Comparison.from_image` can rebuild the grid from the picture alone.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._config import HTML_THUMBNAIL_JPEG_QUALITY, HTML_THUMBNAIL_PX
from .._thumbnails import make_thumbnail
from ._cells import Cell, CellGrid
from ._contact_sheet import (
    DEFAULT_CELL_PX,
    DEFAULT_MAX_CELLS_PER_PAGE,
    SheetCell,
    SheetPage,
    cell_size_for,
    draw_page,
    page_paths,
    save_png,
    split_page,
)
from ._judging import Judging, diff_html

if TYPE_CHECKING:
    from .._results import ImageResult

#: PNG text chunk of a contact sheet holding the axis set-up (base spec, axes, seeds).
COMPARE_CHUNK = "compare"


def thumbnail_data_uri(path: Any, px: int = HTML_THUMBNAIL_PX) -> str | None:
    """A small inline JPEG (transparency on white): the HTML view never embeds full PNGs."""
    try:
        data = make_thumbnail(path, px, HTML_THUMBNAIL_JPEG_QUALITY)
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


class Rendering:
    """HTML, contact sheets and image copies of one grid (its A/B diff from `judging`)."""

    def __init__(
        self, grid: CellGrid, judging: Judging, setup: Callable[[], dict[str, Any]], title: Callable[[], str]
    ) -> None:
        self.grid = grid
        self.judging = judging
        self._setup = setup
        self._title = title

    # --- HTML -----------------------------------------------------------------------------
    def _cell_html(self, cell: Cell) -> str:
        tip = escape(f"{cell.legend} | {cell.state}" + (f" | run {cell.result.run_id}" if cell.result else ""))
        if cell.state == "error":
            return f"<td title='{tip}' style='color:#a00;max-width:200px'>failed: {escape(str(cell.error))[:200]}</td>"
        if cell.state != "ok":
            return f"<td title='{tip}' style='color:#777'>{escape(cell.state)}</td>"
        imgs = []
        for im in cell.images:
            uri = thumbnail_data_uri(im.path) if im.path else None
            imgs.append(f"<img src='{uri}' style='max-width:{HTML_THUMBNAIL_PX}px'/>" if uri else "<i>withheld</i>")
        seeds = ", ".join(str(s) for s in cell.seeds)
        return f"<td title='{tip}'>{''.join(imgs)}<br/><small>seed {escape(seeds)}</small></td>"

    def html(self) -> str:
        parts = [f"<div><b>{escape(self._title())}</b>"]
        if self.judging.is_ab:
            field, _, _ = self.judging.sides()
            a_html, b_html = diff_html(self.judging.diff())
            label = escape(field)
            parts.append(f"<div><b>A</b> ({label}): {a_html}</div><div><b>B</b> ({label}): {b_html}</div>")
        n = len(self.grid.axes)
        xs, ys = self.grid.axes[0], self.grid.axes[1] if n > 1 else None
        for p in range(self.grid.n_pages):
            if n > 2:
                parts.append(f"<h4>{escape(self.grid.axes[2].legend(p))}</h4>")
            head = "".join(f"<th>{escape(xs.legend(i))}</th>" for i in range(len(xs)))
            rows = [f"<tr>{'<th></th>' if ys else ''}{head}</tr>"]
            for y, cells in enumerate(self.grid.page_rows(p)):
                tds = "".join(self._cell_html(c) for c in cells)
                rows.append(f"<tr>{f'<th>{escape(ys.legend(y))}</th>' if ys else ''}{tds}</tr>")
            parts.append(f"<table>{''.join(rows)}</table>")
        parts.append("</div>")
        return "".join(parts)

    # --- contact sheet --------------------------------------------------------------------
    def _sheet_pages(self, captions: bool) -> list[SheetPage]:
        n = len(self.grid.axes)
        xs, ys = self.grid.axes[0], self.grid.axes[1] if n > 1 else None
        return [
            SheetPage(
                cells=[[_sheet_cell(c, captions) for c in row] for row in self.grid.page_rows(p)],
                col_labels=[xs.legend(i) for i in range(len(xs))],
                row_labels=[ys.legend(i) for i in range(len(ys))] if ys else [],
                title=self.grid.axes[2].legend(p) if n > 2 else "",
            )
            for p in range(self.grid.n_pages)
        ]

    def to_image(
        self, path: str | Path, captions: bool = False, max_cells_per_page: int = DEFAULT_MAX_CELLS_PER_PAGE,
        cell_px: int = DEFAULT_CELL_PX,
    ) -> list[Path]:  # fmt: skip
        """Stitch a labelled contact sheet (PNG, split into pages when huge) → written paths.

        One page per value of the third axis, each cut further past `max_cells_per_page` or
        the pixel limit (`grid-1.png`, `grid-2.png`, …). Each page carries the axis set-up in
        its `compare` text chunk, so `Comparison.from_image` rebuilds the grid. The single
        images stay reachable: `comparison[x, y].images[i].path`, or `to_records()["paths"]`.
        """
        pages = self._sheet_pages(captions)
        cell_w, cell_h = cell_size_for(pages, cell_px)
        parts = [
            part for page in pages
            for part in split_page(page, cell_w, cell_h, captions=captions, max_cells_per_page=max_cells_per_page)
        ]  # fmt: skip
        setup = self._setup()
        written = []
        for i, (part, out) in enumerate(zip(parts, page_paths(path, len(parts)), strict=True), start=1):
            chunk = json.dumps({**setup, "page": i, "pages": len(parts)}, sort_keys=True, ensure_ascii=False)
            written.append(save_png(draw_page(part, cell_w, cell_h, captions), out, {COMPARE_CHUNK: chunk}))
        return written

    def save_images(self, folder: str | Path) -> list[Path]:
        """Copy every cell's single images into `folder`, named by their axis values.

        The copies keep their embedded record (prompt, seed, …), so each one can be reopened
        with `spec_from_image`. Withheld images and cells not run are skipped.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for n, cell in enumerate(self.grid.cells, start=1):
            for k, im in enumerate(cell.images):
                if im.path is None:
                    continue
                out = folder / f"{n:03d}_{_slug(cell.legend)}_{k}{Path(im.path).suffix}"
                shutil.copyfile(im.path, out)
                written.append(out)
        return written


def _slug(text: str, limit: int = 80) -> str:
    """A file-name-safe version of a legend: `prompt-a-dog_seed-3`."""
    safe = re.sub(r"[^A-Za-z0-9._=-]+", "-", text.replace(": ", "=").replace(", ", "_")).strip("-")
    return safe[:limit] or "cell"


def _caption(images: list[ImageResult]) -> str:
    """`seed 42 · 1024x1024`: each distinct seed and size once."""
    seeds = list(dict.fromkeys(str(im.seed) for im in images if im.seed is not None))
    sizes = list(dict.fromkeys(im.resolution for im in images if im.resolution))
    parts = ([("seeds " if len(seeds) > 1 else "seed ") + ", ".join(seeds)] if seeds else []) + sizes
    return " · ".join(parts)


def _sheet_cell(cell: Cell, captions: bool) -> SheetCell:
    if cell.state == "ok" and cell.result is not None:
        images = [im.path for im in cell.result.images]
        return SheetCell(images=images, caption=_caption(cell.result.images) if captions else "")
    if cell.state == "error":
        return SheetCell(status="error", message=str(cell.error), caption=cell.legend if captions else "")
    return SheetCell(status="pending", message="running" if cell.state == "running" else "")
