"""How long `Mask` takes to rasterise a big, busy mask (2048x2048, radius 20), for two shapes:

- short strokes: 200 random walks of 10 points about 30 px apart;
- spread strokes: 200 strokes of 8 points anywhere on the image (long segments in every
  direction: the shape whose segment boxes are nearly the whole image).

Goal for both: under 150 ms to paint the strokes and read the mask (ops are drawn when the
mask is read, consecutive strokes in one pass). Also shown: a read after every stroke (what
the painter widget does), undo, rebuild from ops, PNG export, and the original box method
(every pixel of each segment's bounding box) in the same run, for the before/after ratio.
Run: `python benchmarks/bench_mask.py`. Figures are medians.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ideogram_nb._mask import Mask

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from frozen_reference import original_paint  # noqa: E402  (the one frozen copy)

SIZE = 2048
STROKES = 200
RADIUS = 20.0
GOAL_MS = 150.0
#: The original method takes seconds on the spread shape: time this many strokes and scale.
ORIGINAL_SPREAD_SAMPLE = 20


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def short_strokes(seed: int = 0) -> list[list[list[float]]]:
    """Random-walk strokes: 10 points about 30 px apart, anywhere on the image."""
    rng = np.random.default_rng(seed)
    strokes = []
    for _ in range(STROKES):
        start = rng.uniform(0, SIZE, 2)
        steps = rng.normal(0, 30, (9, 2))
        strokes.append(np.vstack([start, start + np.cumsum(steps, axis=0)]).tolist())
    return strokes


def spread_strokes(seed: int = 0) -> list[list[list[float]]]:
    """8 points each, uniformly anywhere on the image: segments ~1000 px long in all directions."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, SIZE, (8, 2)).tolist() for _ in range(STROKES)]


def median_ms(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def shape(name: str, strokes: list[list[list[float]]], original_sample: int) -> None:
    def paint() -> Mask:
        mask = Mask(SIZE, SIZE)
        for points in strokes:
            mask.stroke(points, RADIUS)
        _ = mask.coverage  # read it: the strokes are drawn here
        return mask

    def paint_reading_each() -> None:
        mask = Mask(SIZE, SIZE)
        for points in strokes:
            mask.stroke(points, RADIUS)
            _ = mask.coverage

    def original() -> None:
        arr = np.zeros((SIZE, SIZE), dtype=bool)
        for points in strokes[:original_sample]:
            original_paint(arr, points, RADIUS, True)

    mask = paint()
    paint_ms = median_ms(5, paint)
    each_ms = median_ms(3, paint_reading_each)
    scale = STROKES / original_sample
    before_ms = median_ms(3 if original_sample == STROKES else 1, original) * scale
    projected = "" if original_sample == STROKES else f" (projected from {original_sample} strokes)"
    print(f"{name}: {STROKES} strokes, radius {RADIUS:g}, {SIZE}x{SIZE}: coverage {mask.coverage:.1%}")
    print(f"  paint all, then read (RESULT) : {paint_ms:8.1f} ms")
    print(f"  paint, reading after each     : {each_ms:8.1f} ms ({each_ms / STROKES:.2f} ms a stroke)")
    print(f"  original box method           : {before_ms:8.1f} ms{projected}; ratio {before_ms / paint_ms:.0f}x")

    def undo_redo() -> None:
        mask.undo()
        _ = mask.coverage
        mask.redo()
        _ = mask.coverage

    print(f"  undo + redo (each read)       : {median_ms(5, undo_redo):8.1f} ms")
    print(f"  rebuild from ops              : {median_ms(3, lambda: Mask.from_ops(SIZE, SIZE, mask.ops)):8.1f} ms")
    print(f"  to_png                        : {median_ms(3, mask.to_png):8.1f} ms")
    result(f"mask: paint {name}, 2048x2048, then read (median of 5)", f"{paint_ms:.1f} ms",
           f"< {GOAL_MS:.0f} ms", paint_ms < GOAL_MS)  # fmt: skip
    result(f"mask: paint {name}, reading after each stroke (median of 3)", f"{each_ms:.1f} ms", "-", None)


def main() -> None:
    shape("200 short strokes x 10 points", short_strokes(), STROKES)
    shape("200 spread strokes x 8 points", spread_strokes(), ORIGINAL_SPREAD_SAMPLE)


if __name__ == "__main__":
    main()
