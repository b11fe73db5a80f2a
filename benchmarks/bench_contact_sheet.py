"""How long a contact-sheet legend takes to wrap one 500-character word (a pasted URL, a
base64 blob, a prompt without spaces) at a 384-px cell's legend width. Goal: under 50 ms.

Side by side in the same run: the old wrap, which cut a long word one character at a time
(seconds), and a whole page drawn with that legend. Run: `python benchmarks/bench_contact_sheet.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from ideogram_nb._compare._contact_sheet import (
    MAX_LABEL_LINES,
    SheetCell,
    SheetPage,
    draw_page,
    font,
    font_px_for,
    plan_layout,
    wrap,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from frozen_reference import wrap_one_character_at_a_time  # noqa: E402  (the one frozen copy)

CELL = 384
GOAL_MS = 50.0
WORD = "".join("abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7) % 36] for i in range(500))


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def median_ms(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    f = font(font_px_for(CELL, CELL))
    page = SheetPage([[SheetCell([Image.new("RGB", (1024, 1024), (200, 30, 30))])]], [f"prompt: {WORD}"], [], "")
    width = CELL - 2 * plan_layout(page, CELL, CELL).pad
    text = f"prompt: {WORD}"
    assert wrap(text, f, width, MAX_LABEL_LINES) == wrap_one_character_at_a_time(text, f, width, MAX_LABEL_LINES)
    new_ms = median_ms(21, lambda: wrap(text, f, width, MAX_LABEL_LINES))
    all_lines_ms = median_ms(5, lambda: wrap(text, f, width, 1000))
    old_ms = median_ms(1, lambda: wrap_one_character_at_a_time(text, f, width, MAX_LABEL_LINES))
    page_ms = median_ms(5, lambda: draw_page(page, CELL, CELL))
    print(f"one 500-character word, legend font {f.size}px, line width {width}px, {MAX_LABEL_LINES} lines kept")
    print(f"  wrap (binary search, stops after the last kept line) : {new_ms:8.2f} ms (median of 21)")
    print(f"  wrap keeping every line                              : {all_lines_ms:8.2f} ms")
    print(f"  old wrap (one character at a time)                   : {old_ms:8.0f} ms ({old_ms / new_ms:.0f}x)")
    print(f"  draw_page, one cell with that legend                 : {page_ms:8.1f} ms")
    result("contact sheet: wrap one 500-character word in a 384 px legend", f"{new_ms:.2f} ms", f"< {GOAL_MS:.0f} ms",
           new_ms < GOAL_MS)  # fmt: skip


if __name__ == "__main__":
    main()
