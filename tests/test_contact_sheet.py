"""Contact sheet drawing: readable legends, placeholders, pages, the PNG set-up chunk."""

from __future__ import annotations

from frozen_reference import wrap_one_character_at_a_time
from PIL import Image

from ideogram_nb._compare._contact_sheet import (
    FAILED_FILL,
    MIN_CAPTION_PX,
    MIN_FONT_PX,
    PENDING_FILL,
    SheetCell,
    SheetPage,
    cell_size_for,
    draw_page,
    font,
    line_height,
    page_paths,
    plan_layout,
    read_png_text,
    save_png,
    split_page,
    wrap,
)

RED = (200, 30, 30)


def _page(cols=3, rows=2, size=(1024, 768), title="", labels=None):
    img = Image.new("RGB", size, RED)
    cells = [[SheetCell([img], caption=f"seed {r}{c}") for c in range(cols)] for r in range(rows)]
    col_labels = labels or [f"prompt: value {c}" for c in range(cols)]
    return SheetPage(cells, col_labels, [f"seed: {r}" for r in range(rows)], title)


def test_cell_size_keeps_the_aspect_ratio_and_unions_mixed_shapes():
    assert cell_size_for([_page(size=(1024, 768))], 384) == (384, 288)
    mixed = _page()
    mixed.cells[0][0] = SheetCell([Image.new("RGB", (512, 1024))])
    assert cell_size_for([mixed], 384) == (384, 384)
    empty = SheetPage([[SheetCell(status="error")]], ["x: 1"])
    assert cell_size_for([empty], 300) == (300, 300)


def test_layout_sizes_add_up_and_legends_are_never_tiny():
    page = _page(cols=3, rows=2, title="aspect_ratio: 16x9")
    for cell_px in (96, 384, 1024):
        w, h = cell_size_for([page], cell_px)
        lay = plan_layout(page, w, h, captions=True)
        assert lay.font_px >= MIN_FONT_PX and lay.caption_px >= MIN_CAPTION_PX
        assert lay.font_px >= min(64, round(min(w, h) * 0.05))  # scales with the cell
        assert lay.header_h >= lay.font_px + 2 * lay.pad  # at least one full legend line
        assert lay.left_w >= 6 * lay.font_px
        assert lay.title_h > 0 and lay.caption_h > 0
        assert lay.width == lay.left_w + lay.pad + 3 * (lay.cell_w + lay.pad)
        assert lay.height == lay.title_h + lay.header_h + 2 * (lay.cell_h + lay.caption_h + lay.pad)
        assert draw_page(page, w, h, captions=True).size == (lay.width, lay.height)


def test_long_values_wrap_instead_of_shrinking():
    long = "prompt: " + "a very long prompt about a lighthouse at dusk " * 8
    short = _page(labels=["prompt: a", "prompt: b", "prompt: c"])
    wrapped = _page(labels=[long, "prompt: b", "prompt: c"])
    a, b = plan_layout(short, 384, 288), plan_layout(wrapped, 384, 288)
    assert a.font_px == b.font_px
    assert b.header_h > a.header_h
    f = font(b.font_px)
    lines = wrap(long, f, 384 - 2 * b.pad, 4)
    assert all(f.getlength(line) <= 384 - 2 * b.pad for line in lines)
    assert lines[-1].endswith("…")  # more than four lines: cut, and says so


def test_wrap_hard_cuts_one_enormous_word():
    f = font(20)
    lines = wrap("x" * 500, f, 100, 50)
    assert len(lines) > 1 and all(f.getlength(line) <= 100 for line in lines)


def test_images_placeholders_and_legend_ink_are_drawn_where_the_layout_says():
    page = _page(cols=3, rows=1)
    page.cells[0][1] = SheetCell(status="error", message="HTTP 422: safety check")
    page.cells[0][2] = SheetCell(status="pending")
    w, h = cell_size_for([page], 200)
    lay = plan_layout(page, w, h)
    sheet = draw_page(page, w, h)
    boxes = [lay.cell_box(c, 0) for c in range(3)]
    centre = [((x0 + x1) // 2, (y0 + y1) // 2) for x0, y0, x1, y1 in boxes]
    assert sheet.getpixel(centre[0]) == RED
    assert sheet.getpixel((boxes[1][0] + 4, boxes[1][1] + 4)) == FAILED_FILL
    assert sheet.getpixel((boxes[2][0] + 4, boxes[2][1] + 4)) == PENDING_FILL
    header = sheet.crop((boxes[0][0], 0, boxes[0][2], lay.header_h)).convert("L")
    assert header.getextrema()[0] < 100  # dark legend text is there
    row_legend = sheet.crop((0, boxes[0][1], lay.left_w, boxes[0][3])).convert("L")
    assert row_legend.getextrema()[0] < 100


def test_several_images_in_one_cell_are_tiled():
    a, b = Image.new("RGB", (100, 100), RED), Image.new("RGB", (100, 100), (0, 0, 200))
    page = SheetPage([[SheetCell([a, b])]], ["x: 1"])
    lay = plan_layout(page, 200, 200)
    sheet = draw_page(page, 200, 200)
    x0, y0, x1, y1 = lay.cell_box(0, 0)
    assert sheet.getpixel((x0 + 50, (y0 + y1) // 2)) == RED
    assert sheet.getpixel((x1 - 50, (y0 + y1) // 2)) == (0, 0, 200)


def test_pages_split_by_cell_count_keeping_rows_whole():
    page = _page(cols=4, rows=5, title="t")
    parts = split_page(page, 100, 100, max_cells_per_page=8)
    assert [len(p.cells) for p in parts] == [2, 2, 1]
    assert all(len(row) == 4 for p in parts for row in p.cells)
    assert parts[1].row_labels == ["seed: 2", "seed: 3"]
    assert parts[2].title == "t (part 3/3)"


def test_pages_split_by_pixel_size_cutting_wide_rows_into_column_blocks():
    page = _page(cols=10, rows=1)
    parts = split_page(page, 300, 300, max_side_px=1500)
    assert len(parts) > 1
    for part in parts:
        lay = plan_layout(part, 300, 300)
        assert lay.width <= 1500
        assert part.row_labels == ["seed: 0"]  # each block repeats its row legend
    assert sum(len(p.col_labels) for p in parts) == 10
    assert split_page(page, 50, 50) == [page]  # small enough: untouched


def test_png_chunk_round_trip_and_page_names(tmp_path):
    img = Image.new("RGB", (10, 10))
    path = save_png(img, tmp_path / "sub" / "grid.png", {"compare": '{"a": "ü"}'})
    assert read_png_text(path, "compare") == '{"a": "ü"}'
    assert read_png_text(path, "other") is None
    assert page_paths(tmp_path / "g.png", 1) == [tmp_path / "g.png"]
    assert page_paths(tmp_path / "g.jpg", 2) == [tmp_path / "g-1.png", tmp_path / "g-2.png"]
    assert [p.name for p in page_paths("g.png", 12)][9] == "g-10.png"
    assert [p.name for p in page_paths("g.png", 12)][0] == "g-01.png"


def test_line_height_fits_the_font():
    f = font(30)
    assert line_height(f) >= 30


def test_wrap_gives_the_same_lines_as_cutting_one_character_at_a_time():
    import random

    rng = random.Random(4)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éßW.,;:-_/()'\" "
    texts = [
        "prompt: a lighthouse at dusk, oil painting, thick brush strokes",
        "style_type: REALISTIC\nseed: 12345",
        "supercalifragilisticexpialidocious-antidisestablishmentarianism and more",
        "",
        "   ",
        "W" * 70,
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen",
    ]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90))) for _ in range(20)]
    texts += [" ".join("x" * rng.randint(1, 30) for _ in range(rng.randint(1, 6))) for _ in range(12)]
    for size in (16, 27):
        f = font(size)
        for text in texts:
            for width, max_lines in ((100, 4), (240, 3), (57, 50), (8, 3)):
                if width == 8 and len(text) > 40:  # the old code is quadratic there: keep the test quick
                    continue
                assert wrap(text, f, width, max_lines) == wrap_one_character_at_a_time(text, f, width, max_lines), (
                    text, size, width, max_lines)  # fmt: skip


def test_a_500_character_word_wraps_into_lines_that_fit_the_cell():
    f = font(27)
    word = "".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(500))
    for max_lines in (4, 100):
        lines = wrap(f"prompt: {word} end", f, 340, max_lines)
        assert all(f.getlength(line) <= 340 for line in lines)
        assert len(lines) <= max_lines
    lines = wrap(word, f, 340, 100)
    assert "".join(lines) == word  # nothing lost when every line is kept
    used = 0
    for line in lines[:-1]:  # and every cut line is as long as fits: one more character would not
        used += len(line)
        assert f.getlength(line + word[used]) > 340
