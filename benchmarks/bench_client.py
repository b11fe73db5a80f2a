"""Client overhead: what `Client.run` costs on top of the HTTP work any client must do.

Both variants make the same calls against the same loopback simulator: `Client.run`
(validate, send, download, store with metadata, record in SQLite) and bare httpx (the same
multipart POST, the image GET, a plain file write). The simulator runs in its own process
(`python -m ideogram_nb.simulator`), so the images it draws do not share our GIL and only
client-side work differs between the variants. Rounds interleave the variants (alternating
which goes first) so drift in the machine hits both alike; the figure is the ratio of the
medians. The simulator answers at once, so this is the worst case: against the real service
(seconds per image) the same overhead is a far smaller share.

A cProfile pass over extra client calls then says where the difference goes.

Run: `python benchmarks/bench_client.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

import ideogram_nb as ig
from ideogram_nb._config import USER_AGENT
from ideogram_nb._wire import build_request

GOAL_RATIO = 1.10
BENCH_KEY = "bench-not-a-secret"


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    """The simulator in its own process on a free port; returns it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ideogram_nb.simulator", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Ideogram simulator on http://127.0.0.1:PORT (...)"
    for word in line.split():
        if word.startswith("http://"):
            return proc, word
    proc.kill()
    raise RuntimeError(f"the simulator did not start: {line!r}")


def spec_for(round_no: int) -> ig.Generate:
    """One 1024x1024 image; a new seed per round so every round stores a new file."""
    return ig.Generate(prompt=f"a lighthouse at dusk, round {round_no}", seed=round_no, rendering_speed="TURBO")


def multipart_parts(spec: ig.Spec) -> tuple[str, list[tuple[str, Any]]]:
    """The route and the multipart parts exactly as the client sends them."""
    wire = build_request(spec)
    parts: list[tuple[str, Any]] = []
    for name, value in (wire.data or {}).items():
        for item in value if isinstance(value, list) else [value]:
            parts.append((name, (None, item)))
    parts.extend(wire.files or [])
    return wire.path, parts


def bare_call(http: httpx.Client, base_url: str, spec: ig.Spec, out_dir: Path) -> float:
    """The floor: POST, GET every image, write it to a file. Parts are built before timing."""
    path, parts = multipart_parts(spec)
    headers = {"Api-Key": BENCH_KEY, "Accept": "application/json"}
    start = time.perf_counter()
    response = http.post(base_url + path, headers=headers, files=parts)
    response.raise_for_status()
    for i, item in enumerate(response.json()["data"]):
        image = http.get(item["url"])
        image.raise_for_status()
        (out_dir / f"{spec.seed}-{i}.png").write_bytes(image.content)
    return time.perf_counter() - start


def client_call(client: ig.Client, spec: ig.Spec) -> float:
    start = time.perf_counter()
    client.run(spec)
    return time.perf_counter() - start


#: Where client time can go, by (file suffix, function name) as cProfile names them.
PROFILE_PARTS: list[tuple[str, str, str]] = [
    ("HTTP POST (httpx)", "ideogram_nb/_client.py", "_send"),
    ("image GET + store (total)", "ideogram_nb/_client.py", "_download"),
    ("  embed PNG metadata", "ideogram_nb/_metadata.py", "embed_metadata"),
    ("  write image file (+fsync)", "ideogram_nb/_store.py", "write_atomic"),
    ("history.record (SQLite)", "ideogram_nb/_history.py", "record"),
    ("spec.validate", "ideogram_nb/_spec_base.py", "validate"),
    ("request_hash", "ideogram_nb/_wire.py", "request_hash"),
    ("spec.to_dict", "ideogram_nb/_spec_base.py", "to_dict"),
    ("os.fsync", "~", "<built-in method posix.fsync>"),
]


def profile_client(client: ig.Client, first_round: int, calls: int) -> list[tuple[str, float]]:
    """Milliseconds per call spent in each part of `Client.run` (cumulative, so nested)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(calls):
        client.run(spec_for(first_round + i))
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if fn == "run" and f.endswith("_client.py"))
    rows = [("Client.run (total)", total / calls * 1000)]
    for label, file_suffix, func in PROFILE_PARTS:
        ms = sum(
            ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if fn == func and f.endswith(file_suffix)
        )
        rows.append((label, ms / calls * 1000))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    proc, base_url = start_simulator()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            os.environ["IDEOGRAM_NB_HOME"] = str(folder / "home")
            (folder / "bare").mkdir()
            client = ig.Client(provider="offline", base_url=base_url, history=ig.History(folder / "history"))
            with httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=60) as http:
                bare: list[float] = []
                full: list[float] = []
                for r in range(args.warmup + args.rounds):
                    spec = spec_for(r)
                    if r % 2 == 0:
                        b, c = bare_call(http, base_url, spec, folder / "bare"), client_call(client, spec)
                    else:
                        c, b = client_call(client, spec), bare_call(http, base_url, spec, folder / "bare")
                    if r >= args.warmup:
                        bare.append(b)
                        full.append(c)
            med_bare, med_full = statistics.median(bare), statistics.median(full)
            ratio = med_full / med_bare
            print(f"Generate, 1 image 1024x1024, {args.rounds} interleaved rounds, simulator in its own process")
            print(f"  bare httpx (POST + GET + write) median : {med_bare * 1000:7.1f} ms")
            print(f"  Client.run median                      : {med_full * 1000:7.1f} ms")
            rows = profile_client(client, 10_000, 10)
            print("  where Client.run's time goes (cProfile, ms per call, cumulative):")
            for label, ms in rows:
                print(f"    {label:<30} {ms:7.2f}")
            client.close()
        result("client overhead: Client.run / bare httpx (median)", f"{ratio:.3f}x", f"<= {GOAL_RATIO:.2f}x",
               ratio <= GOAL_RATIO)  # fmt: skip
        result("client overhead per call (median difference)", f"{(med_full - med_bare) * 1000:.1f} ms", "-", None)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
