"""How long `import ideogram_nb` takes in a fresh interpreter, and what it pulls in.

Why a fresh interpreter each time: a notebook pays the import once, cold, at its first cell;
timing inside one process would measure cached modules. The figure is the median of
`python -c "import ideogram_nb"` minus the median of `python -c "pass"` (interleaved), so
interpreter start-up is not counted. `-X importtime` then names the heaviest imports, and
the script checks the widget libraries stay out of a plain import (the core's promise).

Run: `python benchmarks/bench_import.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

GOAL_S = 0.5
HEAVY = ("ipywidgets", "ipycanvas", "nbformat", "IPython")


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def run(code: str, env: dict[str, str], *flags: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *flags, "-c", code], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stderr + done.stdout


def heaviest(importtime_log: str, top: int = 6) -> list[tuple[int, str]]:
    """The packages `import ideogram_nb` spends most time on: (cumulative µs, name).

    Lines read `import time: <self> | <cumulative> | <name>`; only top-level package names
    (no dot) count, each at its largest cumulative time (its first, cold import).
    """
    best: dict[str, int] = {}
    for line in importtime_log.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line, or anything else on stderr
        name = parts[2].strip()
        ours = name in ("ideogram_nb", "site", "encodings") or name.startswith("__editable")  # not dependencies
        if "." not in name and not ours:
            best[name] = max(best.get(name, 0), int(parts[1]))
    return sorted(((us, name) for name, us in best.items()), reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time `import ideogram_nb` in fresh interpreters")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "IDEOGRAM_NB_HOME": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        run("import ideogram_nb", env)  # compile .pyc files once, like any installed package
        bare: list[float] = []
        full: list[float] = []
        for _ in range(args.runs):
            bare.append(run("pass", env)[0])
            full.append(run("import ideogram_nb", env)[0])
        _, log = run("import ideogram_nb", env, "-X", "importtime")
        check = f"import sys, ideogram_nb; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
        _, loaded = run(check, env)
    cost = statistics.median(full) - statistics.median(bare)
    print(f"fresh interpreter: {statistics.median(bare) * 1000:.0f} ms; with `import ideogram_nb`: "
          f"{statistics.median(full) * 1000:.0f} ms (median of {args.runs})")  # fmt: skip
    print("heaviest top-level imports (cumulative, -X importtime):")
    for us, name in heaviest(log):
        print(f"  {name:<24} {us / 1000:7.1f} ms")
    heavy_loaded = loaded.strip()
    result("import ideogram_nb (fresh interpreter, minus bare start-up)", f"{cost * 1000:.0f} ms",
           f"<= {GOAL_S * 1000:.0f} ms", cost <= GOAL_S)  # fmt: skip
    result("widget/notebook libraries loaded by import ideogram_nb", heavy_loaded or "none", "none",
           not heavy_loaded)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
