"""How long `import ideogram_nb` takes in a fresh interpreter, and what it pulls in.

Why a fresh interpreter each time: a notebook pays the import once, cold, at its first cell;
timing inside one process would measure cached modules. The goal's figure (issue #14) is
what `python -X importtime -c "import ideogram_nb"` reports as the cumulative time of
`ideogram_nb`, the median of several fresh interpreters. The wall-clock difference between
`python -c "import ideogram_nb"` and `python -c "pass"` (interleaved) is printed beside it.
`-X importtime` also names the heaviest imports; the script checks that the widget libraries
stay out of a plain import (the core's promise), and that httpx, numpy and Pillow wait for
the names that need them (`Client`, `Mask`, `compare`, decoding an image).

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

GOAL_MS = 300.0
#: Never loaded by a plain import (the widgets and the notebook exporter import them).
WIDGET_LIBRARIES = ("ipywidgets", "ipycanvas", "nbformat", "IPython")
#: Loaded on first use of the names that need them, not by `import ideogram_nb`.
LAZY_LIBRARIES = ("httpx", "numpy", "PIL")
#: Heavy libraries a plain import may load (the specs are `param` classes).
EXPECTED = ("param", "sqlite3")


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def run(code: str, env: dict[str, str], *flags: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *flags, "-c", code], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stderr + done.stdout


def cumulative_us(importtime_log: str, module: str = "ideogram_nb") -> int:
    """The cumulative µs `-X importtime` reports for `module` (its own line, not a child's)."""
    for line in importtime_log.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[2].rstrip() == " " + module:
            return int(parts[1])  # the top-level line: a child's name is indented
    raise RuntimeError(f"-X importtime printed no line for {module}")


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
        cumulative: list[int] = []
        log = ""
        for _ in range(args.runs):
            bare.append(run("pass", env)[0])
            full.append(run("import ideogram_nb", env)[0])
            log = run("import ideogram_nb", env, "-X", "importtime")[1]
            cumulative.append(cumulative_us(log))
        names = WIDGET_LIBRARIES + LAZY_LIBRARIES + EXPECTED
        check = f"import sys, ideogram_nb; print(','.join(m for m in {names!r} if m in sys.modules))"
        loaded = [m for m in run(check, env)[1].strip().split(",") if m]
    importtime_ms = statistics.median(cumulative) / 1000
    wall = statistics.median(full) - statistics.median(bare)
    print(f"-X importtime, cumulative for ideogram_nb: median {importtime_ms:.0f} ms "
          f"(runs: {', '.join(f'{us / 1000:.0f}' for us in cumulative)} ms)")  # fmt: skip
    print(f"wall clock: fresh interpreter {statistics.median(bare) * 1000:.0f} ms; with `import ideogram_nb` "
          f"{statistics.median(full) * 1000:.0f} ms (median of {args.runs}); difference {wall * 1000:.0f} ms")  # fmt: skip
    print("heaviest top-level imports (cumulative, -X importtime, the last run):")
    for us, name in heaviest(log):
        print(f"  {name:<24} {us / 1000:7.1f} ms")
    print(f"heavy libraries loaded by `import ideogram_nb`: {', '.join(loaded) or 'none'}")
    widgets = [m for m in loaded if m in WIDGET_LIBRARIES]
    eager = [m for m in loaded if m in LAZY_LIBRARIES]
    result(f"import ideogram_nb (-X importtime cumulative, median of {args.runs} fresh interpreters)",
           f"{importtime_ms:.0f} ms", f"< {GOAL_MS:.0f} ms", importtime_ms < GOAL_MS)  # fmt: skip
    result("import ideogram_nb, wall clock (fresh interpreter minus bare start-up)", f"{wall * 1000:.0f} ms", "-",
           None)  # fmt: skip
    result("widget/notebook libraries loaded by import ideogram_nb", ", ".join(widgets) or "none", "none",
           not widgets)  # fmt: skip
    result("httpx/numpy/Pillow loaded by import ideogram_nb (first use loads them)", ", ".join(eager) or "none",
           "none", not eager)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
