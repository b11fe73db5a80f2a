"""A process killed with SIGKILL in the middle of a batch leaves a usable history.

Why SIGKILL: it is what the OOM killer, a kernel restart or a closed laptop lid do, and no
`finally` or `atexit` runs. The claims: the history opens, every row names files that exist
and hash to their names (outputs and inputs), SQLite's own integrity check passes, and the
batch resumes without re-sending a call that finished -- nor one that was in flight when the
process died: such a call may have been made and billed, so its row says "unknown" (written
before the request left) and it is sent again only on purpose (`resend_unknown=True`).

Resuming is done three ways here: `Client.run_many(..., resume=True)`, skipping specs whose
request hash `History.find_replay` finds, and running the whole batch with
`provider="record_or_replay"`.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

import ideogram_nb as ig
from ideogram_nb._client import IN_FLIGHT_MESSAGE
from ideogram_nb._specs._wire import request_hash
from ideogram_nb.simulator import SimulatorTransport

N_SPECS = 20

#: The child: a batch with simulator latency, so the kill lands mid-batch. `batch_specs` is
#: shared with the parent (the same source is exec'd on both sides), so hashes agree.
BATCH_SOURCE = textwrap.dedent(
    """
    import io
    import ideogram_nb as ig
    from PIL import Image

    def batch_specs(n):
        specs = []
        for i in range(n):
            buf = io.BytesIO()
            Image.new("RGB", (40, 40), (i * 11 % 256, 80, 160)).save(buf, format="PNG")
            if i % 2:
                specs.append(ig.Upscale(image=buf.getvalue(), prompt=f"kill test {i}", seed=i))
            else:
                specs.append(ig.ReplaceBackground(prompt=f"kill test {i}", image=buf.getvalue(), seed=i, num_images=2))
        return specs
    """
)
CHILD_MAIN = textwrap.dedent(
    """
    import sys
    from ideogram_nb.simulator import SimulatorTransport
    client = ig.Client(provider="offline", history=ig.History(sys.argv[1]), concurrency=2,
                       transport=SimulatorTransport(latency=float(sys.argv[2])))
    client.run_many(batch_specs(int(sys.argv[3])), progress=False)
    print("finished", flush=True)
    """
)


def batch_specs(n: int) -> list[ig.Spec]:
    namespace: dict[str, object] = {}
    exec(BATCH_SOURCE, namespace)  # noqa: S102  (our own source, shared with the child)
    return namespace["batch_specs"](n)  # type: ignore[operator]


def recorded_rows(db: Path) -> int:
    """Rows so far, read-only: polling must not take the write lock the child needs."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # the child is still creating the schema
        return 0


def run_and_kill(folder: Path, after_rows: int, latency: float = 0.15) -> int:
    """Start the batch in a child process, SIGKILL it once `after_rows` runs are recorded."""
    script = folder / "batch.py"
    script.write_text(BATCH_SOURCE + CHILD_MAIN)
    history_dir = folder / "history"
    env = {**os.environ, "IDEOGRAM_NB_HOME": str(folder / "home")}
    log = folder / "child.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, str(script), str(history_dir), str(latency), str(N_SPECS)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            rows = 0
            while time.monotonic() < deadline:
                rows = recorded_rows(history_dir / "history.sqlite")
                if rows >= after_rows:
                    break
                assert child.poll() is None, f"the batch ended before the kill: {log.read_text()}"
                time.sleep(0.005)
            assert child.poll() is None, "the batch finished before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return rows


def check_history_is_whole(history_dir: Path) -> ig.History:
    history = ig.History(history_dir)
    with sqlite3.connect(history_dir / "history.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    records = history.runs()
    assert records, "nothing was recorded before the kill"
    in_flight = [rec for rec in records if rec.status == "unknown"]
    # the calls cut off by the kill, at most one per worker thread (concurrency=2)
    assert len(in_flight) <= 2, in_flight
    for rec in records:
        if rec.status == "unknown":
            assert rec.error == IN_FLIGHT_MESSAGE and rec.images == [] and rec.cost_usd > 0, rec
        else:
            assert rec.status == "ok", rec  # no fault was injected: no call may have failed
        assert len(rec.inputs) == 1
        for sha in rec.image_shas():
            path = history.store.path(sha)
            assert path is not None, f"run {rec.run_id} names a missing image {sha}"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, "a stored image does not match its name"
    return history


class CountingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = SimulatorTransport()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
        return self.inner.handle_request(request)


def in_flight_hashes(history: ig.History) -> set[str]:
    return {rec.request_hash for rec in history.runs(status="unknown")}


def kill_then_check(tmp_path: Path, after_rows: int) -> None:
    recorded = run_and_kill(tmp_path, after_rows)
    history = check_history_is_whole(tmp_path / "history")
    finished = len(history.runs(status="ok"))
    cut_off = in_flight_hashes(history)
    assert finished + len(cut_off) == len(history) >= recorded and finished < N_SPECS

    # Resume 1: skip what is done and what may have been billed; only the rest is sent.
    specs = batch_specs(N_SPECS)
    todo = [s for s in specs if history.find_replay(request_hash(s)) is None and request_hash(s) not in cut_off]
    assert len(todo) == N_SPECS - finished - len(cut_off)
    transport = CountingTransport()
    client = ig.Client(provider="offline", history=history, transport=transport)
    results = client.run_many(todo, progress=False)
    assert all(r.ok for r in results) and transport.posts == len(todo)
    # ...then, on purpose, the calls cut off by the kill (after checking the usage page)
    retry = [s for s in specs if request_hash(s) in cut_off]
    assert all(r.ok for r in client.run_many(retry, progress=False, resend_unknown=True))
    client.close()
    assert transport.posts == len(todo) + len(cut_off)
    assert len(history) == N_SPECS + len(cut_off)  # the possibly-billed rows stay on record
    assert {rec.request_hash for rec in history.runs(status="ok")} == {request_hash(s) for s in specs}

    # Resume 2: the whole batch again through record_or_replay sends nothing at all now.
    transport = CountingTransport()
    client = ig.Client(provider="record_or_replay", history=history, transport=transport)
    again = client.run_many(specs, progress=False)
    client.close()
    assert transport.posts == 0 and all(r.ok and r.replayed_from for r in again)
    check_history_is_whole(tmp_path / "history")


def test_sigkill_mid_batch_leaves_a_whole_history_and_the_batch_resumes(tmp_path):
    kill_then_check(tmp_path, after_rows=3)


def test_run_many_resume_finishes_a_killed_batch_without_repeating_calls(tmp_path):
    run_and_kill(tmp_path, after_rows=4)
    history = ig.History(tmp_path / "history")
    done = {rec.request_hash: rec.run_id for rec in history.runs(status="ok")}
    cut_off = in_flight_hashes(history)
    rows = len(history)
    transport = CountingTransport()
    client = ig.Client(provider="offline", history=history, transport=transport)
    specs = batch_specs(N_SPECS)
    results = client.run_many(specs, progress=False, resume=True)
    assert transport.posts == N_SPECS - len(done) - len(cut_off)  # nothing that may be billed
    assert len(history) == rows + transport.posts  # no duplicate rows for the calls that had finished
    for spec, result in zip(specs, results, strict=True):
        if request_hash(spec) in done:
            assert result.run_id == done[request_hash(spec)] and result.paths
        elif request_hash(spec) in cut_off:
            assert isinstance(result.error, ig.OutcomeUnknownError), result
        else:
            assert result.ok
    # asked explicitly, resume sends the cut-off calls too
    again = client.run_many(specs, progress=False, resume=True, resend_unknown=True)
    client.close()
    assert all(r.ok for r in again) and transport.posts == N_SPECS - len(done)
    check_history_is_whole(tmp_path / "history")


def test_record_or_replay_resumes_a_killed_batch_sending_only_the_rest(tmp_path):
    run_and_kill(tmp_path, after_rows=4)
    history = ig.History(tmp_path / "history")
    finished = len(history.runs(status="ok"))
    cut_off = in_flight_hashes(history)
    transport = CountingTransport()
    client = ig.Client(provider="record_or_replay", history=history, transport=transport)
    results = client.run_many(batch_specs(N_SPECS), progress=False)
    client.close()
    assert transport.posts == N_SPECS - finished - len(cut_off)
    assert sum(1 for r in results if r.replayed_from) == finished
    assert sum(1 for r in results if isinstance(r.error, ig.OutcomeUnknownError)) == len(cut_off)
    assert sum(1 for r in results if r.ok) == N_SPECS - len(cut_off)


def test_a_call_is_on_record_as_in_flight_before_its_request_leaves(tmp_path):
    """What the kill tests rely on, shown directly: the row exists while the POST is sent."""
    seen: list[tuple[str, str | None]] = []

    class Peek(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = SimulatorTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                rows = history.runs()
                seen.extend((r.status, r.error, r.created_at) for r in rows)
                time.sleep(0.002)  # the answer comes later than the call was made
            return self.inner.handle_request(request)

    history = ig.History(tmp_path / "h")
    client = ig.Client(provider="offline", history=history, transport=Peek())
    result = client.run(ig.Generate(prompt="a lighthouse", seed=1))
    client.close()
    assert [(status, error) for status, error, _ in seen] == [("unknown", IN_FLIGHT_MESSAGE)]
    assert [(r.run_id, r.status, r.error) for r in history.runs()] == [(result.run_id, "ok", None)]
    # the outcome replaces the row in place: the run's time stays when its call was made
    assert history[result.run_id].created_at == seen[0][2]


@pytest.mark.soak
@pytest.mark.parametrize("after_rows", [1, 2, 5, 8, 11, 15, 18])
def test_sigkill_at_many_points(tmp_path, after_rows):
    kill_then_check(tmp_path, after_rows)
