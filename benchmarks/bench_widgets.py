"""How fast the widgets build: the form for the largest spec (target < 50 ms) and a
64-thumbnail result grid, cold (thumbnails made from 1024×1024 PNGs) and warm (cached).
Headless, no kernel, no network. Run: `python benchmarks/bench_widgets.py`.

The form and grid figures are printed as `RESULT |` lines for `benchmarks/run_all.py` (the
grid has no goal); the rest as details.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

FORM_TARGET_MS = 50.0
THUMBS = 64


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def best_of(repeats: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_images(folder: Path, count: int) -> list:  # type: ignore[type-arg]
    """Noisy 1024×1024 PNGs (a worst case for decoding), like a run's outputs."""
    import ideogram_nb as ig

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (1024, 1024, 3), dtype=np.uint8)
    images = []
    for i in range(count):
        path = folder / f"{i:03d}.png"
        Image.fromarray(np.roll(base, i * 7, axis=1)).save(path, compress_level=1)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        images.append(ig.ImageResult(path=path, sha256=sha, seed=i, resolution="1024x1024", prompt="bench"))
    return images


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("IDEOGRAM_NB_HOME", str(Path(tmp) / "home"))
        import ideogram_nb as ig
        from ideogram_nb.widgets import ResultGrid, SpecForm
        from ideogram_nb.widgets._studio import SPEC_TABS

        largest = max((cls for cls, _ in SPEC_TABS), key=lambda c: len(c.field_names()))
        SpecForm(largest())  # warm imports and param's class caches
        form_s = best_of(10, lambda: SpecForm(largest()))
        print(f"form for {largest.__name__} ({len(largest.field_names())} fields): {form_s * 1000:.1f} ms (best of 10)")

        images = make_images(Path(tmp), THUMBS)
        run = ig.Result(run_id="bench", spec=ig.Generate(prompt="bench"), provider="offline", images=images)
        start = time.perf_counter()
        grid = ResultGrid([run])
        cold = time.perf_counter() - start
        warm = best_of(3, lambda: ResultGrid([run]))
        thumb_bytes = sum(len(t.children[0].value) for t in grid.tiles.children)
        png_bytes = sum(im.path.stat().st_size for im in images)
        print(f"grid of {THUMBS} thumbnails: cold {cold * 1000:.0f} ms "
              f"({cold * 1000 / THUMBS:.1f} ms/thumb), warm {warm * 1000:.0f} ms")  # fmt: skip
        print(f"thumbnail bytes / full PNG bytes: {thumb_bytes / png_bytes:.4f} "
              f"({thumb_bytes / 1024:.0f} kB vs {png_bytes / 2**20:.0f} MB)")  # fmt: skip
        result(f"largest form build: SpecForm({largest.__name__}), {len(largest.field_names())} fields (best of 10)",
               f"{form_s * 1000:.1f} ms", f"< {FORM_TARGET_MS:.0f} ms", form_s * 1000 < FORM_TARGET_MS)  # fmt: skip
        result(f"ResultGrid of {THUMBS} thumbnails from 1024x1024 PNGs, cold", f"{cold * 1000:.0f} ms", "-", None)
        result(f"ResultGrid of {THUMBS} thumbnails, warm (cached, best of 3)", f"{warm * 1000:.0f} ms", "-", None)


if __name__ == "__main__":
    main()
