"""Client overhead: what `Client.run` costs on top of the HTTP work any client must do.

Both variants make the same calls against the same loopback simulator: `Client.run`
(validate, send, download, store with metadata, record in SQLite) and bare httpx (the same
multipart POST, the image GET, a plain file write). The simulator runs in its own process
(`python -m ideogram_nb.simulator`), so the images it draws do not share our GIL and only
client-side work differs between the variants. Rounds interleave the variants (alternating
which goes first) so drift in the machine hits both alike; the figure is the ratio of the
medians. The simulator answers at once, so this is the worst case: against the real service
(seconds per image) the same overhead is a far smaller share.

Both variants share one httpx transport, so one keep-alive connection, so one server
thread answers both. With a connection each, the server answered the second connection's
POSTs 3-8 ms slower than the first's, for the same request (two bare httpx clients showed
it alone; with glibc's `MALLOC_ARENA_MAX=1` in the server it vanished, so it is the second
thread's malloc arena, not anything the client sends). The client's connection was the
second, so that server-side gap read as client overhead: 1.35-1.48x, where the client's
own steps add up to ~2 ms.

The simulator's server writes a response's headers and body separately; with Nagle's
algorithm on, back-to-back requests on one keep-alive connection stalled ~40 ms on delayed
ACKs (bimodal timings that swamp the client's own cost). The server now sets `TCP_NODELAY`
itself, so the stock server is measured as shipped. The stall figure guards that fix: bare
calls against the stock server minus bare calls against a reference server with the flag
forced on in its own process (~0 while the fix holds, ~40 ms if it regresses). Component
timings and a cProfile pass then say where the client's extra time goes.

Run: `python benchmarks/bench_client.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

import ideogram_nb as ig
from ideogram_nb._config import USER_AGENT
from ideogram_nb._history._metadata import embed_metadata
from ideogram_nb._history._store import ImageStore
from ideogram_nb._specs._wire import build_request, request_hash
from ideogram_nb.simulator._server import _Handler

GOAL_RATIO = 1.10
BENCH_KEY = "bench-not-a-secret"


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


#: The reference for the stall figure only: the simulator's CLI with Nagle forced off on its
#: sockets (the handler class's own switch), whatever the stock server does.
_FORCED_NODELAY_SERVER = (
    "from ideogram_nb.simulator import _server\n"
    "_server._Handler.disable_nagle_algorithm = True\n"
    "from ideogram_nb.simulator.__main__ import main\n"
    "raise SystemExit(main(['--port', '0', '--quiet']))\n"
)


def start_simulator(force_nodelay: bool = False) -> tuple[subprocess.Popen[str], str]:
    """The stock simulator (or the forced-TCP_NODELAY reference) in its own process on a free
    port; returns it and its base URL."""
    if force_nodelay:
        argv = [sys.executable, "-c", _FORCED_NODELAY_SERVER]
    else:
        argv = [sys.executable, "-m", "ideogram_nb.simulator", "--port", "0", "--quiet"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Ideogram simulator on http://127.0.0.1:PORT (...)"
    for word in line.split():
        if word.startswith("http://"):
            return proc, word
    proc.kill()
    raise RuntimeError(f"the simulator did not start: {line!r}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


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


class DurableFloor:
    """The bare call plus the least any client must add to keep paid results safe: a row
    before the POST (a lost answer is then never paid for twice), the image's bytes synced
    before the row that names them, and that row. Plain sqlite3 (one table, WAL,
    `synchronous=NORMAL` as the history uses), one fsync, no metadata, no indexes: the part
    of the client's overhead that is durability, not code."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(folder / "floor.sqlite", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, status TEXT, spec TEXT, image TEXT)")

    def call(self, http: httpx.Client, base_url: str, spec: ig.Spec) -> float:
        path, parts = multipart_parts(spec)
        headers = {"Api-Key": BENCH_KEY, "Accept": "application/json"}
        run_id = f"r{spec.seed}"
        start = time.perf_counter()
        self.db.execute("INSERT INTO runs VALUES (?, 'unknown', ?, NULL)", (run_id, spec.prompt))
        response = http.post(base_url + path, headers=headers, files=parts)
        response.raise_for_status()
        for item in response.json()["data"]:
            image = http.get(item["url"])
            image.raise_for_status()
            sha = hashlib.sha256(image.content).hexdigest()
            tmp = self.folder / f".tmp-{sha}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                os.write(fd, image.content)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.folder / f"{sha}.png")
            self.db.execute("UPDATE runs SET status = 'ok', image = ? WHERE run_id = ?", (sha, run_id))
        return time.perf_counter() - start

    def close(self) -> None:
        self.db.close()


def client_call(client: ig.Client, spec: ig.Spec) -> float:
    start = time.perf_counter()
    client.run(spec)
    return time.perf_counter() - start


#: Where client time can go, by (file suffix, function name) as cProfile names them.
PROFILE_PARTS: list[tuple[str, str, str]] = [
    ("HTTP POST (httpx)", "ideogram_nb/_sending.py", "send"),
    ("  Api-Key auth flow (httpx.Auth)", "ideogram_nb/_sending.py", "auth_flow"),
    ("image GET + store (total)", "ideogram_nb/_sending.py", "_download"),
    ("  embed PNG metadata (spliced as written)", "ideogram_nb/_history/_metadata.py", "embed_metadata_parts"),
    ("  write image file (+fsync)", "ideogram_nb/_history/_files.py", "write_atomic"),
    ("    folder fsync(s) (+ a new shard's parent)", "ideogram_nb/_history/_files.py", "_fsync_dir"),
    ("history.record x2 (SQLite: in flight, outcome)", "ideogram_nb/_history/_database.py", "record"),
    ("spec.validate", "ideogram_nb/_specs/_base.py", "validate"),
    ("request_hash (once a call)", "ideogram_nb/_specs/_wire.py", "hash_spec_dict"),
    ("spec.to_dict", "ideogram_nb/_specs/_base.py", "to_dict"),
    ("os.fsync (file, folder, new shard's parent)", "~", "<built-in method posix.fsync>"),
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
        ms = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if fn == func and f.endswith(file_suffix))
        rows.append((label, ms / calls * 1000))
    return rows


def interleaved(variants: dict[str, Callable[[ig.Spec], float]], rounds: int, warmup: int,
                first_round: int = 0) -> dict[str, list[float]]:  # fmt: skip
    """Seconds per round for each variant, all on the same request each round (same prompt and
    seed: the server draws the same picture); the order rotates through every permutation, so
    no variant always leads or always follows another."""
    orders = list(itertools.permutations(variants))
    times: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(first_round, first_round + warmup + rounds):
        spec = spec_for(r)
        for name in orders[r % len(orders)]:
            seconds = variants[name](spec)
            if r >= first_round + warmup:
                times[name].append(seconds)
    return times


def median_ms(fn: Callable[[int], object], n: int = 40) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def component_timings(client: ig.Client, folder: Path) -> list[tuple[str, float]]:
    """The client's own steps, timed alone on the same image (medians, ms)."""
    result_ = client.run(spec_for(20_000))
    image = result_.images[0]
    assert image.path is not None
    data = image.path.read_bytes()
    record = client.history[result_.run_id]
    spec = spec_for(20_000)
    meta = {"endpoint": "generate", "spec": spec.to_dict(), "seed": image.seed, "resolution": image.resolution,
            "prompt": image.prompt, "provider": "offline"}  # fmt: skip
    history = client.history
    durable = ImageStore(folder / "store-fsync")
    loose = ImageStore(folder / "store-no-fsync", fsync=False)
    for store in (durable, loose):  # every shard folder made: what a store past ~1,500 images has
        for n in range(256):
            (store.root / f"{n:02x}").mkdir(exist_ok=True)
    fresh = [ImageStore(folder / f"store-fresh-{i}") for i in range(40)]

    def unique(i: int) -> bytes:  # new bytes each time, so every put really writes
        return data + i.to_bytes(4, "big")

    return [
        (f"image store put, fsync on ({len(data) / 1024:.0f} kB)", median_ms(lambda i: durable.put(unique(i), "png"))),
        ("image store put, fsync on, first in its shard", median_ms(lambda i: fresh[i].put(unique(i), "png"))),
        ("image store put, fsync off", median_ms(lambda i: loose.put(unique(i), "png"))),
        ("plain file write (what bare does)", median_ms(lambda i: (folder / f"plain{i}.png").write_bytes(unique(i)))),
        ("embed PNG metadata", median_ms(lambda i: embed_metadata(data, meta))),
        ("history.record (one SQLite row)", median_ms(lambda i: history.record(replace(record, run_id=f"b{i}")))),
        ("validate + to_dict + request_hash", median_ms(lambda i: per_call_spec_work(spec))),
    ]


def shard_folders(store: ImageStore) -> int:
    return sum(1 for d in store.root.iterdir() if len(d.name) == 2 and d.is_dir())


def per_call_spec_work(spec: ig.Spec) -> None:
    spec.validate()
    spec.to_dict()
    request_hash(spec)


STALL_CALLS = 16  # the first two of each server are warm-up


def nagle_stall(folder: Path, calls: int = STALL_CALLS) -> tuple[float, float]:
    """Median bare call (ms) against the stock server and the forced-TCP_NODELAY reference.

    Both servers run at once and the calls alternate between them (each on its own
    keep-alive connection), so load on the machine hits both alike.
    """
    servers = [start_simulator(force_nodelay=False)]
    try:
        servers.append(start_simulator(force_nodelay=True))
        times: list[list[float]] = [[], []]
        with httpx.Client(timeout=60) as stock_http, httpx.Client(timeout=60) as ref_http:
            for i in range(calls):
                for k in (0, 1) if i % 2 == 0 else (1, 0):
                    http = (stock_http, ref_http)[k]
                    times[k].append(bare_call(http, servers[k][1], spec_for(30_000 + 2 * i + k), folder))
    finally:
        for proc, _ in servers:
            stop(proc)
    return statistics.median(times[0][2:]) * 1000, statistics.median(times[1][2:]) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Client.run against bare httpx on the loopback simulator")
    parser.add_argument("--rounds", type=int, default=200, help="measured rounds (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--settled-store", action="store_true",
                        help="make the store's 256 shard folders first, as any store past ~1,500 images has them "
                             "(default: a new store, where most images are the first in their folder)")  # fmt: skip
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["IDEOGRAM_NB_HOME"] = str(folder / "home")
        (folder / "bare").mkdir()
        proc, base_url = start_simulator()
        try:
            # One connection pool for both variants: the same keep-alive connection, so the
            # same server thread answers both (see the docstring: a second connection's
            # thread was answered 3-8 ms slower, which read as client overhead).
            shared = httpx.HTTPTransport()
            client = ig.Client(provider="offline", base_url=base_url, history=ig.History(folder / "history"),
                               transport=shared)  # fmt: skip
            if args.settled_store:
                for n in range(256):
                    (client.history.store.root / f"{n:02x}").mkdir(exist_ok=True)
            shards_before = shard_folders(client.history.store)
            http = httpx.Client(transport=shared, headers={"User-Agent": USER_AGENT}, timeout=60)
            floor = DurableFloor(folder / "floor")
            times = interleaved({
                "bare": lambda spec: bare_call(http, base_url, spec, folder / "bare"),
                "floor": lambda spec: floor.call(http, base_url, spec),
                "client": lambda spec: client_call(client, spec),
            }, args.rounds, args.warmup)  # fmt: skip
            bare, durable, full = times["bare"], times["floor"], times["client"]
            floor.close()
            stored = sum(1 for _ in client.history.store)
            first_in_shard = shard_folders(client.history.store) - shards_before
            profile = profile_client(client, 10_000, 10)
            parts = component_timings(client, folder)
            http.close()
            client.close()
            client.history.close()
        finally:
            stop(proc)
        stock, nodelay = nagle_stall(folder / "bare")

    med_bare, med_floor, med_full = statistics.median(bare), statistics.median(durable), statistics.median(full)
    ratio = med_full / med_bare
    diff_ms = (med_full - med_bare) * 1000
    paired = statistics.median(c / b for b, c in zip(bare, full, strict=True))
    over_floor = med_full / med_floor
    floor_ms = (med_floor - med_bare) * 1000
    print(f"Generate, 1 image 1024x1024, {args.rounds} interleaved rounds, stock simulator (0 s latency) in its own "
          f"process (server TCP_NODELAY: {_Handler.disable_nagle_algorithm})")  # fmt: skip
    print(f"  bare httpx (POST + GET + write) median : {med_bare * 1000:7.1f} ms")
    print(
        f"  bare + durable floor median            : {med_floor * 1000:7.1f} ms  (row, POST, GET, fsync'd write, row)"
    )
    print(f"  Client.run median                      : {med_full * 1000:7.1f} ms")
    print(f"  median of per-round ratios             : {paired:7.3f}x")
    print(f"  of the {diff_ms:.1f} ms the client adds, durability (one fsync, two rows) is {floor_ms:.1f} ms")
    for service_s in (1.0, 5.0):
        projected = (med_full + service_s) / (med_bare + service_s)
        print(f"  same overhead with a {service_s:g} s service: {projected:.4f}x (projected)")
    store_kind = "settled store (--settled-store)" if args.settled_store else "new store"
    print(f"  {store_kind}: {first_in_shard} of the {stored} images stored were the first in their shard folder "
          "(made, and its entry synced); a store past ~1,500 images has all 256")  # fmt: skip
    print("  the client's own steps, timed alone (median ms):")
    for label, ms in parts:
        print(f"    {label:<44} {ms:7.2f}")
    print("  where Client.run's time goes (cProfile, ms per call, cumulative; profiling inflates Python code):")
    for label, ms in profile:
        print(f"    {label:<44} {ms:7.2f}")
    print(f"  bare call median, {STALL_CALLS - 2} calls: stock simulator server {stock:.1f} ms; "
          f"reference with TCP_NODELAY forced {nodelay:.1f} ms")  # fmt: skip
    result("client overhead: Client.run / bare httpx (median, 0 s latency)", f"{ratio:.3f}x", f"<= {GOAL_RATIO:.2f}x",
           ratio <= GOAL_RATIO)  # fmt: skip
    result("client overhead per call (median difference)", f"{diff_ms:.1f} ms", "-", None)
    result("  of which durability: bare + one fsync'd write + two SQLite rows, minus bare", f"{floor_ms:.1f} ms", "-",
           None)  # fmt: skip
    result("client overhead over the durable floor: Client.run / (bare + fsync + 2 rows)", f"{over_floor:.3f}x", "-",
           None)  # fmt: skip
    result("simulator server stall on keep-alive (stock - TCP_NODELAY)", f"{stock - nodelay:.1f} ms", "~0 ms",
           stock - nodelay < 5)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
