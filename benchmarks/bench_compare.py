"""How close a comparison grid runs to ideal concurrency: a 16-cell grid (4 prompts x 4 seeds,
one image per cell) on the simulator with 0.5 s latency per call and concurrency 8. The ideal
makespan is 16 / 8 = 2 rounds of latency (1.0 s); the ratio printed is makespan / ideal
(1.00 is perfect; A1111's one-after-another grid would be 8.00; the goal is <= 1.10). Also
times the contact sheet. Run: `python benchmarks/bench_compare.py`.

The figure is printed as a `RESULT |` line for `benchmarks/run_all.py`; the rest as details.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import ideogram_nb as ig
from ideogram_nb._compare._comparison import compare
from ideogram_nb.simulator import SimulatorTransport

LATENCY_S = 0.5
CONCURRENCY = 8
PROMPTS = ["a red fox", "a grey fox", "a fox in snow", "a fox at dusk"]
SEEDS = [1, 2, 3, 4]
GOAL_RATIO = 1.10


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def run_grid(tmp: Path, latency: float) -> tuple[float, object]:
    client = ig.Client(
        provider="offline", history=ig.History(tmp / f"h{latency}"), concurrency=CONCURRENCY,
        transport=SimulatorTransport(latency=latency),
    )  # fmt: skip
    cmp = compare(ig.Generate(prompt=PROMPTS[0], rendering_speed="TURBO"), client, prompt=PROMPTS, seed=SEEDS)
    start = time.perf_counter()
    cmp.run(progress=False)
    makespan = time.perf_counter() - start
    client.close()
    return makespan, cmp


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IDEOGRAM_NB_HOME"] = str(Path(tmp) / "home")  # nothing lands in the cwd
        makespan, cmp = run_grid(Path(tmp), LATENCY_S)
        floor, _ = run_grid(Path(tmp), 0.0)
        ideal = LATENCY_S * -(-cmp.n_calls // CONCURRENCY)
        ok = cmp.counts()["ok"]
        print(f"{cmp.n_calls} cells, latency {LATENCY_S:g} s, concurrency {CONCURRENCY}: {ok}/{cmp.n_calls} ok")
        print(f"  makespan           : {makespan:6.2f} s (ideal {ideal:.2f} s)")
        # What the machine needs with no latency at all (make the images, store them): the
        # part of the makespan that no amount of concurrency can hide on this many cores.
        print(f"  same grid, 0 s latency: {floor:6.2f} s (CPU floor; makespan - floor = {makespan - floor:.2f} s)")
        start = time.perf_counter()
        paths = cmp.to_image(Path(tmp) / "grid.png", captions=True)
        print(f"  contact sheet      : {(time.perf_counter() - start) * 1000:6.0f} ms, {len(paths)} page(s)")
    ratio = makespan / ideal
    name = f"grid makespan / ideal ({cmp.n_calls} cells, {LATENCY_S:g} s latency, concurrency {CONCURRENCY})"
    # A grid with failed cells did not do the work the ideal assumes: not a pass.
    result(name, f"{ratio:.2f}x", f"<= {GOAL_RATIO:.2f}x", ratio <= GOAL_RATIO and ok == cmp.n_calls)


if __name__ == "__main__":
    main()
