"""A comparison grid against the floor of the same work done by bare httpx threads.

`bench_compare.py` divides the grid's makespan by the *ideal* (rounds x latency), which hides
what the machine itself needs per call. This script measures the floor instead: the same
16 calls (0.5 s service time each, 8 at a time) sent to a canned loopback service that does
no drawing, once through `compare(...).run()` and once by 8 plain threads that each do what
the client must do at minimum -- POST, GET the image, sha256 it and write it with fsync.
The ratio is makespan / floor (goal <= 1.10): what the toolkit adds (metadata splice, SQLite
row, bookkeeping) on top of work that cannot be skipped.

Run: `python benchmarks/bench_makespan_floor.py` (about 10 s; everything in a temp folder).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

import ideogram_nb as ig

LATENCY_S = 0.5
CONCURRENCY = 8
PROMPTS = ["a red fox", "a grey fox", "a fox in snow", "a fox at dusk"]
SEEDS = [1, 2, 3, 4]
REPEATS = 3
GOAL_RATIO = 1.10
FAKE_KEY = "bench-key-not-real"


def result(name: str, value: str, goal: str, met: bool | None) -> None:
    """One line of the shared `RESULT |` convention that `run_all.py` collects."""
    verdict = "-" if met is None else ("yes" if met else "no")
    print(f"RESULT | {name} | {value} | {goal} | {verdict}", flush=True)


def canned_png() -> bytes:
    """A 1024x1024 PNG of about the size the service returns (a gradient with grain)."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 1024, dtype=np.float32)
    rgb = np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (1024, 1)), np.tile(ramp[:, None], (1, 1024))], -1)
    rgb += rng.normal(0, 6, rgb.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


class CannedService:
    """A loopback HTTP/1.1 server: every POST sleeps `latency` then names one image URL."""

    def __init__(self, png: bytes, latency: float) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(latency)
                with service.lock:
                    service.n += 1
                    n = service.n
                host = f"http://127.0.0.1:{service.port}"
                data = {"url": f"{host}/img/{n}.png", "seed": n, "resolution": "1024x1024", "prompt": "p",
                        "is_image_safe": True, "style_type": "GENERAL"}  # fmt: skip
                body = json.dumps({"created": "2026-12-01T00:00:00Z", "data": [data]}).encode()
                self._send(200, body, "application/json")

            def do_GET(self) -> None:
                self._send(200, png, "image/png")

        self.lock = threading.Lock()
        self.n = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_grid(service: CannedService, home: Path) -> float:
    client = ig.Client(
        "ideogram", FAKE_KEY, base_url=service.base_url, history=ig.History(home), concurrency=CONCURRENCY
    )
    cmp = ig.compare(ig.Generate(prompt=PROMPTS[0], rendering_speed="TURBO"), client, prompt=PROMPTS, seed=SEEDS)
    start = time.perf_counter()
    cmp.run(progress=False)
    makespan = time.perf_counter() - start
    client.close()
    if cmp.counts()["ok"] != cmp.n_calls:
        raise SystemExit(f"grid failed: {cmp.counts()}")
    return makespan


def run_bare(service: CannedService, folder: Path) -> float:
    """The floor: 8 threads over one httpx.Client, POST + GET + sha256 + fsync'd write."""
    folder.mkdir(parents=True, exist_ok=True)
    url = service.base_url + "/v1/ideogram-v3/generate"

    def one(http: httpx.Client, prompt: str, seed: int) -> None:
        fields = {"prompt": prompt, "seed": str(seed), "rendering_speed": "TURBO"}
        answer = http.post(url, headers={"Api-Key": FAKE_KEY}, files=[(k, (None, v)) for k, v in fields.items()])
        item = answer.json()["data"][0]
        data = http.get(item["url"]).content
        sha = hashlib.sha256(data).hexdigest()
        with open(folder / f"{sha}.png", "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    with httpx.Client(timeout=30) as http, ThreadPoolExecutor(CONCURRENCY) as pool:
        start = time.perf_counter()
        jobs = [pool.submit(one, http, p, s) for s in SEEDS for p in PROMPTS]
        for job in jobs:
            job.result()
        return time.perf_counter() - start


def main() -> None:
    png = canned_png()
    service = CannedService(png, LATENCY_S)
    ratios, grids, floors = [], [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["IDEOGRAM_NB_HOME"] = str(Path(tmp) / "home")
            for i in range(REPEATS):  # interleaved, so drift on a busy machine hits both alike
                grid = run_grid(service, Path(tmp) / f"h{i}")
                floor = run_bare(service, Path(tmp) / f"bare{i}")
                grids.append(grid)
                floors.append(floor)
                ratios.append(grid / floor)
    finally:
        service.close()
    ratio = statistics.median(ratios)
    print(f"16 cells, {LATENCY_S:g} s service time, concurrency {CONCURRENCY}, {len(png) / 1e6:.2f} MB images")
    print(f"  grid makespan : {statistics.median(grids):.3f} s (median of {REPEATS})")
    print(f"  bare floor    : {statistics.median(floors):.3f} s (8 httpx threads: POST + GET + sha256 + fsync)")
    print(f"  ratios        : {', '.join(f'{r:.3f}' for r in ratios)}")
    result("grid makespan / bare-httpx floor", f"{ratio:.3f}x", f"<= {GOAL_RATIO:.2f}x", ratio <= GOAL_RATIO)


if __name__ == "__main__":
    main()
