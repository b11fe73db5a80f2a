"""Contact sheets: a grid of images with `label: value` legends, drawn with PIL.

Why its own module and these rules: A1111 users' top complaints about X/Y/Z grids are
unreadable legends, grids too large to save, and losing the single images. So the legend
font scales with the cell (and never drops below a readable minimum), long values wrap
instead of shrinking, huge grids split into pages, and failed cells are drawn as labelled
placeholders rather than silently left blank. This module knows nothing of specs or
clients: it draws cells it is given and reads/writes PNG text chunks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from .._text_wrap import wrap
from .._thumbnails import fit_within

#: Longest side of one cell's image box, in sheet pixels, unless the caller says otherwise.
DEFAULT_CELL_PX = 384
#: Legends never get smaller than this (px), whatever the cell size.
MIN_FONT_PX = 16
MAX_FONT_PX = 64
#: Legend font size as a fraction of the cell's shorter side.
FONT_SCALE = 0.07
#: Captions and placeholder text: smaller than legends, never tiny.
MIN_CAPTION_PX = 14
MAX_LABEL_LINES = 4
MAX_CAPTION_LINES = 3
#: A page never grows past this many pixels on a side (browsers and viewers choke beyond).
MAX_SIDE_PX = 12_000
DEFAULT_MAX_CELLS_PER_PAGE = 100

BACKGROUND = (255, 255, 255)
INK = (25, 25, 25)
MUTED = (110, 110, 110)
FAILED_FILL = (252, 226, 226)
FAILED_INK = (160, 20, 20)
PENDING_FILL = (236, 236, 236)


@dataclass
class SheetCell:
    """What one cell shows: its images (None = withheld), or a placeholder, and a caption."""

    images: Sequence[Image.Image | str | Path | None] = ()
    status: str = "ok"  # "ok" | "error" | "pending"
    message: str = ""
    caption: str = ""


@dataclass(frozen=True)
class SheetLayout:
    """Every measure of one page, computed before drawing (and what tests check)."""

    cols: int
    rows: int
    cell_w: int
    cell_h: int
    font_px: int
    caption_px: int
    pad: int
    title_h: int
    header_h: int
    left_w: int
    caption_h: int
    width: int
    height: int

    def cell_box(self, col: int, row: int) -> tuple[int, int, int, int]:
        """The image box of a cell (captions go below it)."""
        x0 = self.left_w + self.pad + col * (self.cell_w + self.pad)
        y0 = self.title_h + self.header_h + row * (self.cell_h + self.caption_h + self.pad)
        return x0, y0, x0 + self.cell_w, y0 + self.cell_h


@dataclass
class SheetPage:
    """One page to draw: a title, column and row legends, and rows × cols cells."""

    cells: list[list[SheetCell]]
    col_labels: list[str]
    row_labels: list[str] = field(default_factory=list)
    title: str = ""


# --- text ---------------------------------------------------------------------------------
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """PIL's bundled font at `size` (Pillow ≥ 10.1 scales it; no system fonts needed)."""
    return ImageFont.load_default(size=size)


def font_px_for(cell_w: int, cell_h: int) -> int:
    return max(MIN_FONT_PX, min(MAX_FONT_PX, round(min(cell_w, cell_h) * FONT_SCALE)))


def line_height(f: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    if isinstance(f, ImageFont.FreeTypeFont):
        ascent, descent = f.getmetrics()
        return math.ceil((ascent + descent) * 1.15)
    return 12


# --- layout -------------------------------------------------------------------------------
def _open(item: Image.Image | str | Path) -> Image.Image:
    if isinstance(item, Image.Image):
        return item
    with Image.open(item) as img:
        img.load()
        return img.copy()


def cell_size_for(pages: Sequence[SheetPage], cell_px: int = DEFAULT_CELL_PX) -> tuple[int, int]:
    """One box size for all cells: every image fitted to `cell_px` on its longest side.

    Mixed shapes (an aspect-ratio axis) get the union box, so no image is cropped.
    """
    w = h = 0
    for page in pages:
        for row in page.cells:
            for cell in row:
                for item in cell.images:
                    if item is None:
                        continue
                    iw, ih = item.size if isinstance(item, Image.Image) else _image_size(item)
                    scale = cell_px / max(iw, ih)
                    w, h = max(w, round(iw * scale)), max(h, round(ih * scale))
    return (w, h) if w and h else (cell_px, cell_px)


def _image_size(path: str | Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def plan_layout(page: SheetPage, cell_w: int, cell_h: int, captions: bool = False) -> SheetLayout:
    """Measure a page: legend bands sized to their wrapped text, never smaller than one line."""
    font_px = font_px_for(cell_w, cell_h)
    caption_px = max(MIN_CAPTION_PX, round(font_px * 0.8))
    pad = max(6, font_px // 3)
    legend_font, caption_font = font(font_px), font(caption_px)
    lh, clh = line_height(legend_font), line_height(caption_font)
    rows, cols = len(page.cells), max((len(r) for r in page.cells), default=0)

    left_w = 0
    if page.row_labels:
        widest = max(legend_font.getlength(t) for t in page.row_labels)
        left_w = int(min(max(widest + 2 * pad, font_px * 6), max(cell_w, font_px * 6)))
        row_lines = max(len(wrap(t, legend_font, left_w - 2 * pad, MAX_LABEL_LINES)) for t in page.row_labels)
        cell_h = max(cell_h, row_lines * lh)  # a wrapped row legend must fit beside its row
    header_lines = max(
        (len(wrap(t, legend_font, cell_w - 2 * pad, MAX_LABEL_LINES)) for t in page.col_labels), default=1
    )
    header_h = max(1, header_lines) * lh + 2 * pad
    title_h = 0
    if page.title:
        width_guess = left_w + pad + cols * (cell_w + pad)
        title_lines = len(wrap(page.title, legend_font, max(width_guess - 2 * pad, cell_w), MAX_LABEL_LINES))
        title_h = title_lines * lh + 2 * pad
    caption_h = 0
    if captions:
        n = max(
            (len(wrap(c.caption, caption_font, cell_w, MAX_CAPTION_LINES)) for r in page.cells for c in r if c.caption),
            default=1,
        )
        caption_h = n * clh + pad // 2
    width = left_w + pad + cols * (cell_w + pad)
    height = title_h + header_h + rows * (cell_h + caption_h + pad)
    return SheetLayout(
        cols=cols, rows=rows, cell_w=cell_w, cell_h=cell_h, font_px=font_px, caption_px=caption_px,
        pad=pad, title_h=title_h, header_h=header_h, left_w=left_w, caption_h=caption_h,
        width=width, height=height,
    )  # fmt: skip


def split_page(
    page: SheetPage, cell_w: int, cell_h: int, *, captions: bool = False,
    max_cells_per_page: int = DEFAULT_MAX_CELLS_PER_PAGE, max_side_px: int = MAX_SIDE_PX,
) -> list[SheetPage]:  # fmt: skip
    """Cut a page into pieces that respect both the cell count and the pixel limit.

    Whole rows are kept together when they fit; a row wider than the limit is cut into
    column blocks, each repeating the row legends. Pieces are titled "(part i/n)".
    """
    if max_cells_per_page < 1:
        raise ValueError(f"max_cells_per_page={max_cells_per_page!r}: must be at least 1")
    full = plan_layout(page, cell_w, cell_h, captions)
    step_w, step_h = full.cell_w + full.pad, full.cell_h + full.caption_h + full.pad
    fit_cols = max(1, (max_side_px - full.left_w - full.pad) // step_w)
    cols_per = max(1, min(full.cols, fit_cols, max_cells_per_page))
    fit_rows = max(1, (max_side_px - full.title_h - full.header_h) // step_h)
    rows_per = max(1, min(full.rows, fit_rows, max_cells_per_page // cols_per))
    blocks = [(r, c) for r in range(0, full.rows, rows_per) for c in range(0, full.cols, cols_per)]
    if len(blocks) == 1:
        return [page]
    out: list[SheetPage] = []
    for i, (r, c) in enumerate(blocks, start=1):
        part = f"part {i}/{len(blocks)}"
        out.append(SheetPage(
            cells=[row[c : c + cols_per] for row in page.cells[r : r + rows_per]],
            col_labels=page.col_labels[c : c + cols_per],
            row_labels=page.row_labels[r : r + rows_per] if page.row_labels else [],
            title=f"{page.title} ({part})" if page.title else f"({part})",
        ))  # fmt: skip
    return out


# --- drawing ------------------------------------------------------------------------------
def _draw_lines(
    draw: ImageDraw.ImageDraw, lines: list[str], f: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    box: tuple[int, int, int, int], fill: tuple[int, int, int], lh: int,
) -> None:  # fmt: skip
    """Lines centred in a box, horizontally and vertically."""
    x0, y0, x1, y1 = box
    top = y0 + max(0, (y1 - y0 - lh * len(lines)) // 2)
    for i, line in enumerate(lines):
        x = x0 + max(0, (x1 - x0 - int(f.getlength(line))) // 2)
        draw.text((x, top + i * lh), line, font=f, fill=fill)


def _draw_cell(
    sheet: Image.Image, draw: ImageDraw.ImageDraw, cell: SheetCell, lay: SheetLayout, col: int, row: int
) -> None:
    box = lay.cell_box(col, row)
    small = font(lay.caption_px)
    clh = line_height(small)
    if cell.status != "ok" or not cell.images:
        failed = cell.status == "error"
        fill, ink = (FAILED_FILL, FAILED_INK) if failed else (PENDING_FILL, MUTED)
        draw.rectangle(box, fill=fill, outline=ink, width=2)
        head = "FAILED" if failed else ("no image" if cell.status == "ok" else "not run")
        inner = (box[0] + lay.pad, box[1] + lay.pad, box[2] - lay.pad, box[3] - lay.pad)
        max_lines = max(1, (inner[3] - inner[1]) // clh - 1)
        lines = [head, *wrap(cell.message, small, inner[2] - inner[0], max_lines)] if cell.message else [head]
        _draw_lines(draw, lines, small, inner, ink, clh)
    else:
        n = len(cell.images)
        tiles_x = math.ceil(math.sqrt(n))
        tiles_y = math.ceil(n / tiles_x)
        tw, th = lay.cell_w // tiles_x, lay.cell_h // tiles_y
        for i, item in enumerate(cell.images):
            tx, ty = box[0] + (i % tiles_x) * tw, box[1] + (i // tiles_x) * th
            if item is None:
                draw.rectangle((tx, ty, tx + tw - 1, ty + th - 1), fill=PENDING_FILL)
                _draw_lines(draw, ["withheld"], small, (tx, ty, tx + tw, ty + th), MUTED, clh)
                continue
            img = fit_within(_open(item), tw, th)  # the package's one shrink: transparency on white
            sheet.paste(img, (tx + (tw - img.width) // 2, ty + (th - img.height) // 2))
    if lay.caption_h and cell.caption:
        lines = wrap(cell.caption, small, lay.cell_w, MAX_CAPTION_LINES)
        cap_box = (box[0], box[3] + lay.pad // 4, box[2], box[3] + lay.caption_h)
        for i, line in enumerate(lines):
            draw.text((cap_box[0], cap_box[1] + i * clh), line, font=small, fill=MUTED)


def draw_page(page: SheetPage, cell_w: int, cell_h: int, captions: bool = False) -> Image.Image:
    """One stitched page: title band, column legends on top, row legends on the left."""
    lay = plan_layout(page, cell_w, cell_h, captions)
    sheet = Image.new("RGB", (lay.width, lay.height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    big = font(lay.font_px)
    lh = line_height(big)
    if page.title:
        lines = wrap(page.title, big, lay.width - 2 * lay.pad, MAX_LABEL_LINES)
        _draw_lines(draw, lines, big, (lay.pad, 0, lay.width - lay.pad, lay.title_h), INK, lh)
    for col, label in enumerate(page.col_labels):
        x0, _, x1, _ = lay.cell_box(col, 0)
        lines = wrap(label, big, lay.cell_w - 2 * lay.pad, MAX_LABEL_LINES)
        _draw_lines(draw, lines, big, (x0 + lay.pad, lay.title_h, x1 - lay.pad, lay.title_h + lay.header_h), INK, lh)
    for row, label in enumerate(page.row_labels):
        _, y0, _, y1 = lay.cell_box(0, row)
        lines = wrap(label, big, lay.left_w - 2 * lay.pad, MAX_LABEL_LINES)
        _draw_lines(draw, lines, big, (lay.pad, y0, lay.left_w - lay.pad, y1), INK, lh)
    for row, cells in enumerate(page.cells):
        for col, cell in enumerate(cells):
            _draw_cell(sheet, draw, cell, lay, col, row)
    return sheet


# --- PNG text chunks ------------------------------------------------------------------------
def save_png(img: Image.Image, path: str | Path, text: dict[str, str]) -> Path:
    """Write a PNG with text chunks (iTXt, so any Unicode survives)."""
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", pnginfo=info)
    return path


def read_png_text(path: str | Path, key: str) -> str | None:
    """One text chunk of a PNG, or None when the file has no such chunk."""
    with Image.open(path) as img:
        value = getattr(img, "text", {}).get(key)
    return str(value) if value is not None else None


def page_paths(path: str | Path, count: int) -> list[Path]:
    """`grid.png` for one page; `grid-1.png`, `grid-2.png`, … for several."""
    path = Path(path)
    if path.suffix.lower() != ".png":  # the set-up lives in a PNG text chunk: always PNG
        path = path.with_suffix(".png")
    if count == 1:
        return [path]
    width = len(str(count))
    return [path.with_name(f"{path.stem}-{i:0{width}d}{path.suffix}") for i in range(1, count + 1)]
