"""How long `Mask` takes to rasterise a big, busy mask: 2048x2048, 200 strokes of 10 points,
radius 20 (the goal: under 150 ms). Also times undo (a replay from the nearest snapshot) and
the PNG export. Run: `python benchmarks/bench_mask.py`.

The painting figure is printed as a `RESULT |` line for `benchmarks/run_all.py`; the rest as
details.
"""

from __future__ import annotations

import time

import numpy as np

from ideogram_nb._mask import Mask

SIZE = 2048
STROKES = 200
POINTS = 10
RADIUS = 20.0
GOAL_MS = 150.0


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def random_strokes(seed: int = 0) -> list[list[list[float]]]:
    """Random-walk strokes: 10 points about 30 px apart, anywhere on the image."""
    rng = np.random.default_rng(seed)
    strokes = []
    for _ in range(STROKES):
        start = rng.uniform(0, SIZE, 2)
        steps = rng.normal(0, 30, (POINTS - 1, 2))
        points = np.vstack([start, start + np.cumsum(steps, axis=0)])
        strokes.append(points.tolist())
    return strokes


def best_of(repeats: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    strokes = random_strokes()

    def paint() -> Mask:
        mask = Mask(SIZE, SIZE)
        for points in strokes:
            mask.stroke(points, RADIUS)
        return mask

    mask = paint()
    print(f"{SIZE}x{SIZE}, {STROKES} strokes x {POINTS} points, radius {RADIUS:g}: coverage {mask.coverage:.1%}")
    paint_ms = best_of(5, paint) * 1000
    print(f"  paint all strokes : {paint_ms:7.1f} ms (best of 5; the RESULT line)")

    def undo_redo() -> None:
        mask.undo()
        mask.redo()

    print(f"  undo + redo       : {best_of(5, undo_redo) * 1000:7.1f} ms")
    print(f"  rebuild from ops  : {best_of(3, lambda: Mask.from_ops(SIZE, SIZE, mask.ops)) * 1000:7.1f} ms")
    print(f"  to_png            : {best_of(3, mask.to_png) * 1000:7.1f} ms")
    result(f"mask: paint {STROKES} strokes x {POINTS} points, radius {RADIUS:g}, {SIZE}x{SIZE} (best of 5)",
           f"{paint_ms:.1f} ms", f"< {GOAL_MS:.0f} ms", paint_ms < GOAL_MS)  # fmt: skip


if __name__ == "__main__":
    main()
