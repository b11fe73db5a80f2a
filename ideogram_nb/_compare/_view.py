"""Looking at a comparison: A/B pairs and votes, the words that differ, HTML and contact sheets.

Why separate from planning and running: judging results is its own activity (look at the
pairs, see what changed, vote, tally later, save a sheet), and none of it changes which calls
are made. Votes live in the history's SQLite so they survive the notebook and can be tallied
across sessions. Contact sheets carry the axis set-up so `Comparison.from_image` can rebuild
the grid from the picture alone.
"""

from __future__ import annotations

import base64
import difflib
import io
import json
import re
import shutil
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._axes import Axis, format_value
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

if TYPE_CHECKING:
    from .._client import Client
    from ._comparison import Cell
    from .._results import ImageResult

#: PNG text chunk of a contact sheet holding the axis set-up (base spec, axes, seeds).
COMPARE_CHUNK = "compare"

CHOICES = ("A", "B", "tie")
_CHOICE_ALIASES = {"a": "A", "b": "B", "tie": "tie", "=": "tie", "draw": "tie", "same": "tie"}
HTML_THUMB_PX = 160


def word_diff(a: str, b: str) -> list[tuple[str, str, str]]:
    """Word-level difflib opcodes: (tag, words of A, words of B); tag is equal/replace/delete/insert."""
    aw, bw = a.split(), b.split()
    matcher = difflib.SequenceMatcher(None, aw, bw, autojunk=False)
    return [(tag, " ".join(aw[i1:i2]), " ".join(bw[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def diff_html(ops: list[tuple[str, str, str]]) -> tuple[str, str]:
    """A and B as HTML with the differing words in <mark>."""
    a_parts, b_parts = [], []
    for tag, a, b in ops:
        if tag == "equal":
            a_parts.append(escape(a))
            b_parts.append(escape(b))
            continue
        if a:
            a_parts.append(f"<mark>{escape(a)}</mark>")
        if b:
            b_parts.append(f"<mark>{escape(b)}</mark>")
    return " ".join(a_parts), " ".join(b_parts)


def normalise_choice(choice: str) -> str:
    folded = _CHOICE_ALIASES.get(str(choice).strip().lower())
    if folded is None:
        raise ValueError(f"vote for 'A', 'B' or 'tie', not {choice!r}")
    return folded


def thumbnail_data_uri(path: Any, px: int = HTML_THUMB_PX) -> str | None:
    """A small inline JPEG: the HTML view never embeds full PNGs."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((px, px))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=75)
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class ComparisonViews:
    """Pairs, diff, votes, HTML and contact sheets for `Comparison` (which provides the state)."""

    id: str
    axes: tuple[Axis, ...]
    cells: list[Cell]
    _by_index: dict[tuple[int, ...], Cell]

    def _client(self) -> Client:  # provided by Comparison
        raise NotImplementedError

    def setup(self) -> dict[str, Any]:  # provided by Comparison
        raise NotImplementedError

    def page_rows(self, page: int = 0) -> list[list[Cell]]:
        """The cells of one page (a value of the third axis) as rows (y) of columns (x)."""
        n = len(self.axes)
        rows = []
        for y in range(len(self.axes[1]) if n > 1 else 1):
            rest = (y, page)[: n - 1]
            rows.append([self._by_index[(x, *rest)] for x in range(len(self.axes[0]))])
        return rows

    @property
    def n_pages(self) -> int:
        return len(self.axes[2]) if len(self.axes) > 2 else 1

    # --- pairs ----------------------------------------------------------------------------
    @property
    def ab_axis(self) -> int | None:
        """Position of the A/B axis: the first two-valued axis that is not the seed."""
        two = [k for k, a in enumerate(self.axes) if len(a) == 2]
        for k in two:
            if self.axes[k].field != "seed":
                return k
        return two[0] if two else None

    @property
    def is_ab(self) -> bool:
        return self.ab_axis is not None

    def _require_ab(self) -> int:
        k = self.ab_axis
        if k is None:
            raise ValueError("not an A/B comparison: give one axis exactly two values, e.g. prompt=[a, b]")
        return k

    def pairs(self) -> list[tuple[Cell, Cell]]:
        """(A cell, B cell) for every combination of the other axes (e.g. each seed)."""
        k = self._require_ab()
        out = []
        for cell in self.cells:
            if cell.index[k] == 0:
                other = cell.index[:k] + (1,) + cell.index[k + 1 :]
                out.append((cell, self._by_index[other]))
        return out

    def _sides(self) -> tuple[str, str, str]:
        k = self._require_ab()
        a_cell, b_cell = self.pairs()[0]
        field = self.axes[k].field
        return field, format_value(getattr(a_cell.spec, field)), format_value(getattr(b_cell.spec, field))

    def diff(self) -> list[tuple[str, str, str]]:
        """The words that differ between side A and side B (of the whole field, after any S/R)."""
        _, a, b = self._sides()
        return word_diff(a, b)

    # --- votes ----------------------------------------------------------------------------
    def _pair_index(self, pair: int, pairs: list[tuple[Cell, Cell]]) -> int:
        """A pair index if in range, otherwise the seed both sides of a pair share."""
        if isinstance(pair, bool) or not isinstance(pair, int):
            raise TypeError(f"pair must be a pair index or a seed (int), not {pair!r}")
        if 0 <= pair < len(pairs):
            return pair
        by_seed = [i for i, (a, _) in enumerate(pairs) if getattr(a.spec, "seed", None) == pair]
        if len(by_seed) == 1:
            return by_seed[0]
        raise KeyError(f"{pair!r} is neither a pair index (0–{len(pairs) - 1}) nor the seed of one pair")

    def vote(self, pair: int, choice: str, *, note: str | None = None) -> dict[str, Any]:
        """Record which side of one pair is better ("A", "B" or "tie") in the history."""
        pairs = self.pairs()
        i = self._pair_index(pair, pairs)
        choice = normalise_choice(choice)
        a, b = pairs[i]
        field, a_text, b_text = self._sides()
        k = self._require_ab()
        meta = {
            "field": field, "a": a_text, "b": b_text, "seed": getattr(a.spec, "seed", None),
            "legend": ", ".join(s for j, s in enumerate(a.legends) if j != k), "note": note,
        }  # fmt: skip
        return self._client().history.add_vote(
            self.id, i, choice, a_run_id=a.result.run_id if a.result else None,
            b_run_id=b.result.run_id if b.result else None, meta=meta,
        )  # fmt: skip

    def votes(self) -> list[dict[str, Any]]:
        """The current vote of each voted pair (a later vote replaces an earlier one)."""
        return self._client().history.votes(self.id)

    def tally(self) -> dict[str, Any]:
        """Votes counted: {"field", "a", "b", "A", "B", "tie", "unvoted", "pairs"}."""
        field, a, b = self._sides()
        counts = {c: 0 for c in CHOICES}
        votes = self.votes()
        for v in votes:
            counts[v["choice"]] += 1
        n = len(self.pairs())
        return {"field": field, "a": a, "b": b, **counts, "unvoted": n - len(votes), "pairs": n}

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
            imgs.append(f"<img src='{uri}' style='max-width:{HTML_THUMB_PX}px'/>" if uri else "<i>withheld</i>")
        seeds = ", ".join(str(s) for s in cell.seeds)
        return f"<td title='{tip}'>{''.join(imgs)}<br/><small>seed {escape(seeds)}</small></td>"

    def _repr_html_(self) -> str:
        parts = [f"<div><b>{escape(repr(self))}</b>"]
        if self.is_ab:
            field, _, _ = self._sides()
            a_html, b_html = diff_html(self.diff())
            parts.append(f"<div><b>A</b> ({escape(field)}): {a_html}</div><div><b>B</b> ({escape(field)}): {b_html}</div>")
        n = len(self.axes)
        xs, ys = self.axes[0], self.axes[1] if n > 1 else None
        for p in range(self.n_pages):
            if n > 2:
                parts.append(f"<h4>{escape(self.axes[2].legend(p))}</h4>")
            head = "".join(f"<th>{escape(xs.legend(i))}</th>" for i in range(len(xs)))
            rows = [f"<tr>{'<th></th>' if ys else ''}{head}</tr>"]
            for y, cells in enumerate(self.page_rows(p)):
                tds = "".join(self._cell_html(c) for c in cells)
                rows.append(f"<tr>{f'<th>{escape(ys.legend(y))}</th>' if ys else ''}{tds}</tr>")
            parts.append(f"<table>{''.join(rows)}</table>")
        parts.append("</div>")
        return "".join(parts)

    # --- contact sheet --------------------------------------------------------------------
    def _sheet_pages(self, captions: bool) -> list[SheetPage]:
        n = len(self.axes)
        xs, ys = self.axes[0], self.axes[1] if n > 1 else None
        return [
            SheetPage(
                cells=[[_sheet_cell(c, captions) for c in row] for row in self.page_rows(p)],
                col_labels=[xs.legend(i) for i in range(len(xs))],
                row_labels=[ys.legend(i) for i in range(len(ys))] if ys else [],
                title=self.axes[2].legend(p) if n > 2 else "",
            )
            for p in range(self.n_pages)
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
        setup = self.setup()
        written = []
        for i, (part, out) in enumerate(zip(parts, page_paths(path, len(parts))), start=1):
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
        for n, cell in enumerate(self.cells, start=1):
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
