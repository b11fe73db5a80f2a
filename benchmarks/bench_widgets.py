"""How fast the widgets build: the form for the largest spec (target < 50 ms) and a
64-thumbnail result grid of 1024×1024 PNGs (target < 500 ms cold).

The grid's images are stored as the client stores them (`ImageStore.put_output`), which has
their thumbnails made ahead on a background thread; "cold" is the first grid of them (empty
in-memory caches), once that thread is done (a real call takes seconds: it is), and also
right after storing (the grid then shares the work), and in a new session (disk cache).
Beside them, in the same run: the same grid from plain files, every thumbnail made from its
PNG (what every grid did before). Headless, no kernel, no network.
Run: `python benchmarks/bench_widgets.py`.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

FORM_TARGET_MS = 50.0
GRID_TARGET_MS = 500.0
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

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (1024, 1024, 3), dtype=np.uint8)
    images = []
    for i in range(count):
        path = folder / f"{i:03d}.png"
        Image.fromarray(np.roll(base, i * 7, axis=1)).save(path, compress_level=1)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        images.append(ig.ImageResult(path=path, sha256=sha, seed=i, resolution="1024x1024", prompt="bench"))
    return images


def old_widget_maker(source: Path, px: int, quality: int = 80) -> bytes:
    """The grid's own thumbnail maker before there was one for the package (for "before")."""
    with Image.open(source) as img:
        img.draft("RGB", (px, px))
        small = img if img.mode in ("RGB", "L") else img.convert("RGB")
        small.thumbnail((px, px), Image.Resampling.BILINEAR, reducing_gap=2.0)
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("IDEOGRAM_NB_HOME", str(Path(tmp) / "home"))
        from ideogram_nb.widgets import SpecForm
        from ideogram_nb.widgets._studio import SPEC_TABS

        largest = max((cls for cls, _ in SPEC_TABS), key=lambda c: len(c.field_names()))
        SpecForm(largest())  # warm imports and param's class caches
        form_s = best_of(10, lambda: SpecForm(largest()))
        print(f"form for {largest.__name__} ({len(largest.field_names())} fields): {form_s * 1000:.1f} ms (best of 10)")
        result(f"largest form build: SpecForm({largest.__name__}), {len(largest.field_names())} fields (best of 10)",
               f"{form_s * 1000:.1f} ms", f"< {FORM_TARGET_MS:.0f} ms", form_s * 1000 < FORM_TARGET_MS)  # fmt: skip
        bench_grid(Path(tmp))


def bench_grid(folder: Path) -> None:
    import ideogram_nb as ig
    from ideogram_nb._history._premade import PREMADE
    from ideogram_nb.widgets import ResultGrid, _thumbs

    def grid_ms(images: list) -> float:  # type: ignore[type-arg]
        run = ig.Result(run_id="bench", spec=ig.Generate(prompt="bench"), provider="offline", images=images)
        _thumbs._cache.clear()  # cold: nothing in memory
        start = time.perf_counter()
        ResultGrid([run])
        return (time.perf_counter() - start) * 1000

    plain = make_images(folder / "plain", THUMBS)
    datas = [im.path.read_bytes() for im in plain]
    before = grid_ms(plain)  # every thumbnail made from its PNG by the shared maker
    shared_maker = _thumbs.shrink_to_jpeg
    _thumbs.shrink_to_jpeg = old_widget_maker
    try:
        before_old = grid_ms(plain)  # exactly the old grid: its own BILINEAR maker
    finally:
        _thumbs.shrink_to_jpeg = shared_maker

    def store_all(name: str, plain_name: str | None = None) -> tuple[list, float, float]:  # type: ignore[type-arg]
        """Store every image as the client does; with `plain_name`, each also into a second
        store with nothing made ahead, interleaved, for the caller's cost side by side."""
        store = ig.ImageStore(folder / name, fsync=False)
        plain = ig.ImageStore(folder / plain_name, fsync=False) if plain_name else None
        images, on, off = [], 0.0, 0.0
        for i, data in enumerate(datas):
            if plain is not None:
                submit = PREMADE.submit
                PREMADE.submit = lambda *args: None  # type: ignore[method-assign]
                start = time.perf_counter()
                plain.put_output(data, {"endpoint": "generate", "seed": i})
                off += time.perf_counter() - start
                PREMADE.submit = submit  # type: ignore[method-assign]
            start = time.perf_counter()
            sha, path = store.put_output(data, {"endpoint": "generate", "seed": i})
            on += time.perf_counter() - start
            images.append(ig.ImageResult(path=path, sha256=sha, seed=i, resolution="1024x1024", prompt="bench"))
        return images, on * 1000, off * 1000

    stored, put_ms, plain_put_ms = store_all("store_a", "store_plain")
    start = time.perf_counter()
    PREMADE.wait()
    ahead_ms = (time.perf_counter() - start) * 1000
    cold = grid_ms(stored)  # thumbnails made ahead: taken from memory, written to the disk cache
    session = grid_ms(stored)  # a new session: read from the disk cache
    rushed_images, _, _ = store_all("store_b")
    rushed = grid_ms(rushed_images)  # right after storing: the grid takes the jobs not started
    PREMADE.wait()
    warm = best_of(3, lambda: ResultGrid([ig.Result(run_id="w", spec=ig.Generate(prompt="w"), provider="offline",
                                                    images=stored)])) * 1000  # fmt: skip
    print(f"grid of {THUMBS} thumbnails of 1024x1024 PNGs (noisy: a worst case for decoding):")
    print(f"  before: each made from its PNG when shown       : {before_old:7.0f} ms "
          f"(the grid's old maker; {before:.0f} ms with the shared one)")  # fmt: skip
    print(f"  stored, thumbnails made ahead, first grid (cold): {cold:7.0f} ms ({before_old / cold:.1f}x faster)")
    print(f"  the same in a new session (disk cache)           : {session:7.0f} ms")
    print(f"  grid right after storing (shares the work)       : {rushed:7.0f} ms")
    print(f"  warm (in-memory cache, best of 3)                : {warm:7.0f} ms")
    print(f"  storing them: put_output {put_ms / THUMBS:.1f} ms/image on the caller "
          f"({plain_put_ms / THUMBS:.1f} ms with nothing made ahead, interleaved); the background thread "
          f"then needed {ahead_ms:.0f} ms for all")  # fmt: skip
    result(f"ResultGrid of {THUMBS} thumbnails from 1024x1024 PNGs, cold (made ahead when stored)",
           f"{cold:.0f} ms", f"< {GRID_TARGET_MS:.0f} ms", cold < GRID_TARGET_MS)  # fmt: skip
    result(f"ResultGrid of {THUMBS} thumbnails, each made from its PNG when shown (before)", f"{before_old:.0f} ms",
           "-", None)  # fmt: skip
    result(f"ResultGrid of {THUMBS} thumbnails, right after storing", f"{rushed:.0f} ms", "-", None)
    result(f"ResultGrid of {THUMBS} thumbnails, warm (cached, best of 3)", f"{warm:.0f} ms", "-", None)


if __name__ == "__main__":
    main()
