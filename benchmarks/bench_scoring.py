"""What offline scoring adds to a comparison grid's makespan: the 16-cell grid of
bench_compare.py (4 prompts x 4 seeds, 1024² images, 0.5 s simulated latency, concurrency 8),
run side by side with `run()` and with `run(score=True)` (each cell scored on a background
thread as it finishes, while the others still run), timed until `run()` returns and until
`scores()` has every score. Two grids: prompts without quoted text (the pixel metrics:
sharpness, palette ΔE, near-duplicates) and prompts that quote text (adds tesseract OCR for
`text_accuracy`, about a third of a second per 1024² image, more than the grid's own work: it
delays only the scores, not the grid). Goal: scoring adds under 10 % to the makespan.

Runs alternate (plain, scored, plain, scored, ...) and the medians are compared, so a busy
moment of the machine lands on both. Run: `python benchmarks/bench_scoring.py`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import ideogram_nb as ig
from ideogram_nb._compare._comparison import compare
from ideogram_nb.simulator import SimulatorTransport

LATENCY_S = 0.5
CONCURRENCY = 8
SEEDS = [1, 2, 3, 4]
PLAIN = ["a red fox", "a grey fox", "a fox in snow", "a fox at dusk"]
QUOTED = ['a sign that says "OPEN"', 'a sign that says "FOX DEN"', 'a poster reading "SALE 50%"', 'a mug with "HELLO"']
ROUNDS = 5
GOAL_PCT = 10.0


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def makespan(tmp: Path, n: int, prompts: list[str], score: bool) -> tuple[float, float, object]:
    client = ig.Client(
        provider="offline", history=ig.History(tmp / f"h{n}"), concurrency=CONCURRENCY,
        transport=SimulatorTransport(latency=LATENCY_S),
    )  # fmt: skip
    cmp = compare(ig.Generate(prompt=prompts[0], rendering_speed="TURBO"), client, prompt=prompts, seed=SEEDS)
    start = time.perf_counter()
    cmp.run(progress=False, score=score)
    took = time.perf_counter() - start
    if score:
        cmp.scores()  # waits for the OCR still running in the background
    ready = time.perf_counter() - start
    client.close()
    return took, ready, cmp


def measure(tmp: Path, prompts: list[str], label: str) -> tuple[float, float]:
    plain, scored, ready = [], [], []
    n = 0
    for _ in range(ROUNDS):
        for score, into in ((False, plain), (True, scored)):
            n += 1
            took, all_scored, cmp = makespan(tmp / label, n, prompts, score)
            into.append(took)
            if score:
                ready.append(all_scored)
    rows = cmp.scores(compute=False)  # type: ignore[attr-defined]  # what the last scored run stored
    ok = all(r["sharpness"] is not None for r in rows) and len(rows) == 16
    text = [r["text_accuracy"] for r in rows if r["text_accuracy"] is not None]
    p, s, r = statistics.median(plain), statistics.median(scored), statistics.median(ready)
    added = (s - p) / p * 100
    print(f"{label}: run() {p:.2f} s, run(score=True) {s:.2f} s, every score ready {r:.2f} s "
          f"(medians of {ROUNDS}); 16 cells scored: {ok}")  # fmt: skip
    if text:
        print(f"  text_accuracy on the simulator's lettering: mean {statistics.mean(text):.2f} over {len(text)} images")
    start = time.perf_counter()
    cmp.scoring.rows(compute=True)  # type: ignore[attr-defined]  # all stored: a re-read
    print(f"  reading the stored scores again: {(time.perf_counter() - start) * 1000:.0f} ms")
    return (added, (r - p) / p * 100) if ok else (float("inf"), float("inf"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IDEOGRAM_NB_HOME"] = str(Path(tmp) / "home")
        pixel = measure(Path(tmp), PLAIN, "pixel metrics")
        ocr = measure(Path(tmp), QUOTED, "pixel metrics + OCR")
    goal = f"< {GOAL_PCT:g} %"
    name = (
        f"scoring a 16-cell grid of 1024² images: makespan added ({LATENCY_S:g} s latency, concurrency {CONCURRENCY})"
    )
    result(name + ", no quoted text, until every score is ready", f"{pixel[1]:+.1f} %", goal, pixel[1] < GOAL_PCT)
    result(name + ", quoted text: run() returns (OCR on a thread)", f"{ocr[0]:+.1f} %", goal, ocr[0] < GOAL_PCT)
    result(name + ", quoted text: until every score is ready (OCR done)", f"{ocr[1]:+.1f} %", "-", None)


if __name__ == "__main__":
    main()
