"""Run every `benchmarks/bench_*.py` and print one table of what we promise and what we got.

Why subprocesses: each script gets a fresh interpreter (no warm caches or imports from the
previous one) and one script that crashes or hangs cannot stop the rest. Scripts report
figures with lines of the shared convention

    RESULT | <figure name> | <value> | <goal> | <met: yes/no/->

which become rows of the table; every other line is kept as the script's details. A script
that prints no `RESULT` line (or fails) has its raw output included instead, so nothing is
lost while scripts are being adapted.

Run: `python benchmarks/run_all.py` (what `make bench` does); `--write benchmarks/RESULTS.md`
also saves the report there, keeping any notes written below the `<!-- notes -->` line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "RESULT |"
NOTES_MARKER = "<!-- notes -->"
TIMEOUT_S = 900.0


@dataclass
class Row:
    figure: str
    value: str
    goal: str
    met: str


@dataclass
class ScriptRun:
    name: str
    returncode: int | None  # None: killed at the timeout
    seconds: float
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def parse_result(line: str) -> Row | None:
    """A `RESULT | name | value | goal | met` line → Row; None for any other line."""
    if not line.startswith(PREFIX):
        return None
    cells = [c.strip() for c in line[len(PREFIX) :].split("|")]
    if len(cells) != 4 or not cells[0]:
        return None
    met = cells[3].lower()
    return Row(cells[0], cells[1], cells[2], met if met in ("yes", "no") else "-")


def run_script(path: Path, timeout: float) -> ScriptRun:
    start = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run(
            [sys.executable, str(path)], cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=timeout
        )
        code: int | None = done.returncode
        out, err = done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    run = ScriptRun(path.name, code, time.perf_counter() - start, stderr=err)
    for line in out.splitlines():
        row = parse_result(line)
        if row is not None:
            run.rows.append(row)
        elif line.strip():
            run.details.append(line.rstrip())
    return run


def machine() -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} cores (nproc), CPU {model}, {platform.system()} {platform.release()}",
        f"- python: {platform.python_version()} ({sys.executable})",
        f"- load average before the run (1/5/15 min): {_load()}",
    ]


def _load() -> str:
    """Other work on the machine moves every figure: say how busy it was."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def report(runs: list[ScriptRun], header: list[str]) -> str:
    lines = ["# Benchmark results", "", *header, f"- load average after the run: {_load()}", "",
             "| script | figure | value | goal | met |",
             "|---|---|---|---|---|"]  # fmt: skip
    for run in runs:
        for row in run.rows:
            cells = (run.name, row.figure, row.value, row.goal, row.met)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        if not run.rows:
            state = "no RESULT lines (raw output below)" if run.ok else _state(run)
            lines.append(f"| {run.name} | {_cell(state)} | | | |")
        elif not run.ok:
            lines.append(f"| {run.name} | {_cell(_state(run))} | | | no |")
    missed = [r.figure for run in runs for r in run.rows if r.met == "no"]
    failed = [run.name for run in runs if not run.ok]
    lines += ["", f"{sum(len(r.rows) for r in runs)} figures from {len(runs)} scripts; "
              f"goals missed: {len(missed)}; scripts failed: {', '.join(failed) or 'none'}."]  # fmt: skip
    lines += ["", "## Details (each script's other output)"]
    for run in runs:
        lines += ["", f"### {run.name} ({run.seconds:.1f} s, {_state(run)})", "", "```"]
        lines += run.details or ["(nothing)"]
        if not run.ok and run.stderr.strip():
            lines += ["--- stderr (last 30 lines) ---", *run.stderr.rstrip().splitlines()[-30:]]
        lines.append("```")
    return "\n".join(lines) + "\n"


def _state(run: ScriptRun) -> str:
    if run.returncode is None:
        return "timed out"
    return "ok" if run.ok else f"failed (exit {run.returncode})"


def write_keeping_notes(target: Path, text: str) -> None:
    """Replace the measured part of `target`; hand-written notes after the marker stay."""
    notes = ""
    if target.exists():
        old = target.read_text(encoding="utf-8")
        if NOTES_MARKER in old:
            notes = old[old.index(NOTES_MARKER) :]
    target.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run every benchmarks/bench_*.py and tabulate the results")
    parser.add_argument("--write", type=Path, help="also save the report to this file (e.g. benchmarks/RESULTS.md)")
    parser.add_argument("--only", nargs="*", help="script names to run (default: all bench_*.py)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per script (default %(default)s)")
    args = parser.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.name in args.only or s.stem in args.only]
    header = machine()
    runs = []
    for path in scripts:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        runs.append(run_script(path, args.timeout))
    text = report(runs, header)
    print(text, end="")
    if args.write:
        write_keeping_notes(args.write, text)
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
