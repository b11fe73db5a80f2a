"""Frozen copies of code as it was before issue #14 made it fast.

Why kept: each is the definition of "the same output" for its replacement. The tests compare
the new code against them (`test_mask`, `test_contact_sheet`) and the benchmarks time them as
"before" (`bench_mask`, `bench_contact_sheet`). One copy each, never edited.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def original_paint(arr: np.ndarray, points: list[list[float]], radius: float, value: bool) -> None:
    """The rasteriser as it was before row spans (frozen copy): every pixel of each segment's
    bounding box tested with `(pixel - closest point)² <= r²`. The definition of "same bits"."""
    height, width = arr.shape
    r = float(radius)
    r2 = r * r
    pairs = list(zip(points[:-1], points[1:], strict=True)) if len(points) > 1 else [(points[0], points[0])]
    for (ax, ay), (bx, by) in pairs:
        x0 = max(math.ceil(min(ax, bx) - r), 0)
        x1 = min(math.floor(max(ax, bx) + r) + 1, width)
        y0 = max(math.ceil(min(ay, by) - r), 0)
        y1 = min(math.floor(max(ay, by) + r) + 1, height)
        if x0 >= x1 or y0 >= y1:
            continue
        xs = np.arange(x0, x1, dtype=np.float64) - ax
        ys = (np.arange(y0, y1, dtype=np.float64) - ay)[:, None]
        vx, vy = bx - ax, by - ay
        length2 = vx * vx + vy * vy
        if length2 > 0:
            t = xs * (vx / length2) + ys * (vy / length2)
            np.clip(t, 0.0, 1.0, out=t)
            ex = xs - t * vx
            ey = ys - t * vy
            hit = ex * ex + ey * ey <= r2
        else:
            hit = xs * xs + ys * ys <= r2
        region = arr[y0:y1, x0:x1]
        if value:
            region |= hit
        else:
            region &= ~hit


def wrap_one_character_at_a_time(text: str, f: Any, width: int, max_lines: int) -> list[str]:
    """`wrap` as it was before the binary search (frozen copy): the definition of "same output"."""
    lines = []
    for para in str(text).splitlines() or [""]:
        current = ""
        for word in para.split():
            trial = f"{current} {word}" if current else word
            if f.getlength(trial) <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            while f.getlength(word) > width and len(word) > 1:
                cut = len(word)
                while cut > 1 and f.getlength(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and f.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines
