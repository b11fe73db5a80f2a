"""The run history: rows, filters, replay lookup, migrations, crashes and concurrent writers."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from PIL import Image

from ideogram_nb import HistoryVersionError
from ideogram_nb._config import HISTORY_DB_NAME
from ideogram_nb._history import _connections
from ideogram_nb._history import _database as _history
from ideogram_nb._history._database import History
from ideogram_nb._history._records import RunRecord, decode_json, new_run_id
from ideogram_nb._history._schema import MIGRATIONS

_PKG_PARENT = str(Path(_history.__file__).resolve().parent.parent)  # works for namespace installs too
_SUBPROCESS_TIMEOUT_S = 120  # a hang guard, not a speed check


def png(i: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, 7)).save(out, format="PNG")
    return out.getvalue()


def make_run(history: History, i: int = 0, **overrides: object) -> RunRecord:
    sha, _ = history.store.put_output(png(i), {"endpoint": "generate", "seed": i})
    fields: dict[str, object] = dict(
        provider="offline", endpoint="generate", spec={"endpoint": "generate", "prompt": f"prompt {i}"},
        request_hash=f"hash-{i}", cost_usd=0.03, latency_s=0.5,
        images=[{"sha256": sha, "seed": i, "resolution": "1024x1024", "is_image_safe": True,
                 "prompt": f"returned {i}", "style_type": "GENERAL"}],
    )  # fmt: skip
    fields.update(overrides)
    return RunRecord(**fields)  # type: ignore[arg-type]


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def run_script(source: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": _PKG_PARENT}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


# --- records -------------------------------------------------------------------------------
def test_record_roundtrip(tmp_path):
    history = History(tmp_path / "h")
    rec = make_run(history, 1, label="keeper", descriptions=["a fox"], http_status=200, attempts=2,
                   inputs=[{"field": "image", "sha256": history.store.put(png(50))[0]}])  # fmt: skip
    history.record(rec)
    got = history[rec.run_id]
    assert got == rec
    assert got.to_dict() == rec.to_dict() and isinstance(got.to_dict()["images"][0], dict)
    assert RunRecord.from_dict({**rec.to_dict(), "unknown": 1}) == rec
    assert len(history) == 1 and rec.run_id in history and "nope" not in history
    assert (tmp_path / "h" / HISTORY_DB_NAME).is_file()
    assert history.store.root == tmp_path / "h" / "images"


def test_defaults_and_run_ids():
    rec = RunRecord(provider="offline", endpoint="describe", spec={"endpoint": "describe"})
    assert rec.status == "ok" and rec.images == [] and rec.cost_usd == 0.0
    assert rec.created_at.endswith("+00:00")
    ids = {new_run_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == len(rec.run_id) for i in ids)


def test_default_folder_comes_from_the_environment(_isolated_env):
    history = History()
    assert history.path == _isolated_env
    assert (_isolated_env / HISTORY_DB_NAME).is_file()
    assert repr(history) == f"History({str(_isolated_env)!r}, 0 runs)"


def test_unknown_run_is_a_key_error_naming_it(tmp_path):
    history = History(tmp_path)
    with pytest.raises(KeyError, match="run-xyz"):
        history["run-xyz"]
    with pytest.raises(KeyError, match="run-xyz"):
        history.set_label("run-xyz", "x")


def test_row_naming_a_missing_image_is_refused_whole(tmp_path):
    history = History(tmp_path)
    rec = make_run(history, 1)
    rec.images.append({"sha256": "ab" * 32, "seed": 2})
    with pytest.raises(ValueError, match="sha256:" + "ab" * 32):
        history.record(rec)
    rec.images.pop()
    rec.inputs.append({"field": "mask", "sha256": "cd" * 32})
    with pytest.raises(ValueError, match="not in the store"):
        history.record(rec)
    assert len(history) == 0


def test_withheld_image_and_error_rows(tmp_path):
    history = History(tmp_path)
    withheld = make_run(history, 1, images=[{"sha256": None, "seed": 3, "is_image_safe": False}])
    failed = make_run(history, 2, status="error", images=[], error="bad prompt", error_type="BadRequestError",
                      http_status=400, cost_usd=0.0)  # fmt: skip
    history.record(withheld)
    history.record(failed)
    assert history[withheld.run_id].images[0]["sha256"] is None
    assert history[failed.run_id].error_type == "BadRequestError"
    with pytest.raises(ValueError, match="status"):
        history.record(make_run(history, 3, status="maybe"))


def test_duplicate_run_id_is_refused(tmp_path):
    history = History(tmp_path)
    rec = make_run(history, 1)
    history.record(rec)
    with pytest.raises(ValueError, match="already recorded"):
        history.record(make_run(history, 2, run_id=rec.run_id))
    assert len(history) == 1 and history[rec.run_id].spec["prompt"] == "prompt 1"


# --- queries -------------------------------------------------------------------------------
def _populate(history: History) -> list[RunRecord]:
    recs = [
        make_run(history, 0, created_at="2025-01-01T00:00:00.000000+00:00"),
        make_run(history, 1, created_at="2025-01-02T00:00:00.000000+00:00", provider="aihubmix", cost_usd=0.09),
        make_run(history, 2, created_at="2025-01-03T00:00:00.000000+00:00", endpoint="remix",
                 spec={"endpoint": "remix", "prompt": "100% Cotton_Shirt"}),
        make_run(history, 3, created_at="2025-01-04T00:00:00.000000+00:00", status="error", images=[],
                 cost_usd=0.0, error="HTTP 500"),
        make_run(history, 4, created_at="2025-01-05T00:00:00.000000+00:00", endpoint="describe", images=[],
                 spec={"endpoint": "describe"}, descriptions=["A Lighthouse at dusk"], label="best"),
    ]  # fmt: skip
    for rec in reversed(recs):  # insertion order must not matter: time does
        history.record(rec)
    return recs


def test_filters_order_and_paging(tmp_path):
    history = History(tmp_path)
    recs = _populate(history)
    ids = [r.run_id for r in recs]
    assert [r.run_id for r in history.runs()] == ids[::-1]
    assert [r.run_id for r in history.runs(newest_first=False)] == ids
    assert [r.run_id for r in history] == ids
    assert [d["run_id"] for d in history.to_records()] == ids
    assert [r.run_id for r in history.runs(endpoint="generate")] == [ids[3], ids[1], ids[0]]
    assert [r.run_id for r in history.runs(provider="aihubmix")] == [ids[1]]
    assert [r.run_id for r in history.runs(status="error")] == [ids[3]]
    assert [r.run_id for r in history.runs(label="best")] == [ids[4]]
    assert [r.run_id for r in history.runs(endpoint="generate", status="ok", provider="offline")] == [ids[0]]
    assert [r.run_id for r in history.runs(limit=2, offset=1)] == [ids[3], ids[2]]
    assert history.count() == len(history) == 5
    assert history.count(endpoint="generate", status="ok") == 2


def test_text_search_covers_prompts_and_descriptions_literally(tmp_path):
    history = History(tmp_path)
    recs = _populate(history)
    assert [r.run_id for r in history.runs(text="lighthouse")] == [recs[4].run_id]  # description, any case
    assert [r.run_id for r in history.runs(text="RETURNED 1")] == [recs[1].run_id]  # returned prompt
    assert [r.run_id for r in history.runs(text="100%")] == [recs[2].run_id]
    assert [r.run_id for r in history.runs(text="cotton_shirt")] == [recs[2].run_id]
    assert history.runs(text="100_") == []  # '_' is not a wildcard (it would match '100%')
    assert history.runs(text="Cotton%Shirt") == []  # nor is '%'
    assert history.count(text="prompt") == 3  # spec prompts 0, 1, 3


def test_total_cost_with_filters(tmp_path):
    history = History(tmp_path)
    _populate(history)
    assert history.total_cost() == pytest.approx(0.03 * 3 + 0.09)
    assert history.total_cost(provider="aihubmix") == pytest.approx(0.09)
    assert history.total_cost(status="error") == 0.0
    assert History(tmp_path / "empty").total_cost() == 0.0


def test_to_records_are_plain_with_the_contract_keys(tmp_path):
    history = History(tmp_path)
    _populate(history)
    records = history.to_records()
    required = {"run_id", "created_at", "provider", "endpoint", "status", "spec", "images", "cost_usd",
                "latency_s", "error", "label"}  # fmt: skip
    for d in records:
        assert required <= set(d)
        assert d["status"] in ("ok", "error")
        for im in d["images"]:
            assert {"sha256", "seed", "resolution", "is_image_safe"} <= set(im)
    records[0]["images"].clear()  # a copy: the history is untouched
    assert history.to_records()[0]["images"]


def test_set_label_filters_and_searches(tmp_path):
    history = History(tmp_path)
    recs = _populate(history)
    history.set_label(recs[0].run_id, "hero shot")
    assert history[recs[0].run_id].label == "hero shot"
    assert [r.run_id for r in history.runs(label="hero shot")] == [recs[0].run_id]
    assert [r.run_id for r in history.runs(text="hero")] == [recs[0].run_id]
    history.set_label(recs[0].run_id, None)
    assert history.runs(text="hero") == [] and history[recs[0].run_id].label is None


def test_find_replay(tmp_path):
    history = History(tmp_path)
    assert history.find_replay("hash-1") is None
    old = make_run(history, 1, created_at="2025-01-01T00:00:00+00:00")
    failed = make_run(history, 1, created_at="2025-01-03T00:00:00+00:00", status="error", images=[])
    history.record(old)
    history.record(failed)
    assert history.find_replay("hash-1").run_id == old.run_id
    replayed = make_run(history, 1, created_at="2025-01-02T00:00:00+00:00", provider="replay",
                        images=list(old.images), replayed_from=old.run_id, cost_usd=0.0)  # fmt: skip
    history.record(replayed)
    assert history.find_replay("hash-1").run_id == replayed.run_id  # newest ok run, same images
    assert history.find_replay("hash-1").images == old.images
    newer = make_run(history, 2, request_hash="hash-1", created_at="2025-01-04T00:00:00+00:00")
    history.record(newer)
    assert history.find_replay("hash-1").run_id == newer.run_id
    history.store.path(newer.images[0]["sha256"]).unlink()  # deleted by hand: not replayable
    assert history.find_replay("hash-1").run_id == replayed.run_id


# --- schema --------------------------------------------------------------------------------
def _pragma(db: Path, name: str) -> object:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def test_wal_and_schema_version(tmp_path):
    history = History(tmp_path)
    assert _pragma(history.db_path, "journal_mode") == "wal"
    assert _pragma(history.db_path, "user_version") == len(MIGRATIONS)


def test_migrations_run_once_in_order(tmp_path, monkeypatch):
    history = History(tmp_path)
    history.record(make_run(history, 1))
    calls: list[int] = []

    def add_votes(conn: sqlite3.Connection) -> None:
        calls.append(1)
        conn.execute("ALTER TABLE runs ADD COLUMN votes INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(_connections, "MIGRATIONS", [*MIGRATIONS, add_votes])
    reopened = History(tmp_path)
    History(tmp_path)
    assert calls == [1]
    assert _pragma(tmp_path / HISTORY_DB_NAME, "user_version") == len(MIGRATIONS) + 1
    assert len(reopened) == 1  # old rows kept


def test_failed_migration_leaves_the_schema_untouched(tmp_path, monkeypatch):
    History(tmp_path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(_connections, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="migration bug"):
        History(tmp_path)
    monkeypatch.setattr(_connections, "MIGRATIONS", list(MIGRATIONS))
    assert _pragma(tmp_path / HISTORY_DB_NAME, "user_version") == len(MIGRATIONS)
    conn = sqlite3.connect(tmp_path / HISTORY_DB_NAME)
    try:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    finally:
        conn.close()


def test_newer_schema_is_refused(tmp_path):
    History(tmp_path)
    conn = sqlite3.connect(tmp_path / HISTORY_DB_NAME)
    try:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    finally:
        conn.close()
    with pytest.raises(HistoryVersionError, match="newer ideogram_nb") as info:
        History(tmp_path)
    assert info.value.path == tmp_path / HISTORY_DB_NAME and info.value.found == len(MIGRATIONS) + 5
    assert "upgrade ideogram_nb" in str(info.value)
    assert _pragma(tmp_path / HISTORY_DB_NAME, "user_version") == len(MIGRATIONS) + 5  # left untouched


# --- crashes and concurrency ---------------------------------------------------------------
_CRASH_SCRIPT = """
    import io, sys, time
    from PIL import Image
    from ideogram_nb._history._database import History
    from ideogram_nb._history._records import RunRecord

    def png(i):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (i, 1, 2)).save(out, format="PNG")
        return out.getvalue()

    def run(h, i, run_id):
        sha, _ = h.store.put_output(png(i), {"endpoint": "generate", "seed": i})
        h.record(RunRecord(run_id=run_id, provider="offline", endpoint="generate",
                           spec={"endpoint": "generate", "prompt": "p"}, images=[{"sha256": sha, "seed": i}]))

    h = History(sys.argv[1])
    for i in range(3):
        run(h, i, f"done-{i}")
    steps = 0

    def hang_inside_the_statement():  # SQLite calls this between steps of a running statement
        global steps
        steps += 1
        if steps == 40:  # well inside the INSERT: the row and its index entries half written
            print("INSERTED", flush=True)
            time.sleep(600)
        return 0

    h._db.writer().set_progress_handler(hang_inside_the_statement, 1)
    run(h, 99, "killed")
"""


def test_sigkill_mid_record_leaves_no_half_row(tmp_path):
    folder = tmp_path / "h"
    proc = run_script(_CRASH_SCRIPT, str(folder))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "INSERTED", proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=_SUBPROCESS_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    history = History(folder)
    assert integrity(history.db_path) == "ok"
    assert [r.run_id for r in history.runs(newest_first=False)] == ["done-0", "done-1", "done-2"]
    assert "killed" not in history
    for rec in history:
        assert all(history.store.path(sha) is not None for sha in rec.image_shas())
    assert len(list(history.store)) == 4  # the killed run's image is an orphan: harmless
    history.record(make_run(history, 5))  # and the history keeps working
    assert len(history) == 4


def test_records_share_one_connection_that_never_keeps_the_write_lock(tmp_path):
    """`record` writes on the History's long-lived connection: a refused row rolls back
    (the lock is free at once for anyone else), and a closed History still records."""
    history = History(tmp_path)
    history.record(make_run(history, 1, run_id="a"))
    with pytest.raises(ValueError, match="already recorded"):
        history.record(make_run(history, 1, run_id="a"))
    other = sqlite3.connect(history.db_path, timeout=0, isolation_level=None)  # no waiting
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    history.close()
    history.record(make_run(history, 2, run_id="b"))
    assert [r.run_id for r in history.runs(newest_first=False)] == ["a", "b"]
    assert integrity(history.db_path) == "ok"


def test_a_database_swapped_in_under_the_same_name_gets_the_next_records(tmp_path):
    """`history repair` swaps a rebuilt file in under the same name: records that follow go
    into it, not into the file set aside that the long-lived connection had open."""
    history = History(tmp_path / "h")
    history.record(make_run(history, 1, run_id="before"))
    rebuilt = History(tmp_path / "rebuilt")
    rebuilt.record(make_run(rebuilt, 2, run_id="rebuilt"))
    rebuilt.close()  # the last connection: its WAL checkpointed into the file
    for suffix in ("-wal", "-shm"):  # as repair does: a stale WAL must never meet the new file
        side = history.db_path.with_name(history.db_path.name + suffix)
        if side.exists():
            os.replace(side, tmp_path / f"aside{suffix}")
    os.replace(rebuilt.db_path, history.db_path)
    history.record(make_run(history, 3, run_id="after"))
    assert {r.run_id for r in history} == {"rebuilt", "after"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_records_on_its_own_connection(tmp_path):
    """SQLite forbids using a connection across fork(): the child opens its own, and
    leaves its parent's open (closing it there is as unsafe as using it)."""
    history = History(tmp_path)
    history.record(make_run(history, 1, run_id="parent-before"))
    pid = os.fork()
    if pid == 0:  # the child: exit without running pytest's teardown
        code = 1
        try:
            history.record(make_run(history, 2, run_id="child"))
            code = 0 if len(history._db._writers) == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    history.record(make_run(history, 3, run_id="parent-after"))
    assert {r.run_id for r in history} == {"parent-before", "child", "parent-after"}
    assert integrity(history.db_path) == "ok"


def test_threads_write_concurrently(tmp_path):
    history = History(tmp_path)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                history.record(make_run(history, t * 100 + i, run_id=f"t{t}-{i}"))
        except BaseException as exc:  # collected and checked in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(history) == 200
    assert {r.run_id for r in history} == {f"t{t}-{i}" for t in range(8) for i in range(25)}
    assert integrity(history.db_path) == "ok"


_WRITER_SCRIPT = """
    import io, sys
    from PIL import Image
    from ideogram_nb._history._database import History
    from ideogram_nb._history._records import RunRecord

    folder, proc = sys.argv[1], int(sys.argv[2])
    h = History(folder)
    for i in range(20):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (proc, i, 0)).save(out, format="PNG")
        shared, _ = h.store.put(b"\\x89PNG\\r\\n\\x1a\\n shared input")
        sha, _ = h.store.put_output(out.getvalue(), {"seed": i})
        h.record(RunRecord(run_id=f"p{proc}-{i}", provider="offline", endpoint="remix",
                           spec={"endpoint": "remix", "prompt": "p"}, images=[{"sha256": sha, "seed": i}],
                           inputs=[{"field": "image", "sha256": shared}]))
"""


def test_processes_write_concurrently_to_a_fresh_history(tmp_path):
    folder = tmp_path / "shared"
    procs = [run_script(_WRITER_SCRIPT, str(folder), str(p)) for p in range(3)]
    outputs = []
    for proc in procs:
        try:
            outputs.append(proc.communicate(timeout=_SUBPROCESS_TIMEOUT_S))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    history = History(folder)
    assert len(history) == 60
    assert {r.run_id for r in history} == {f"p{p}-{i}" for p in range(3) for i in range(20)}
    assert integrity(history.db_path) == "ok"
    assert len(list(history.store)) == 61  # 60 outputs + one shared input, stored once


# --- the seam with specs -------------------------------------------------------------------
def test_specs_with_image_refs_rebuild_through_the_history_store(tmp_path):
    from ideogram_nb._history._metadata import spec_from_image
    from ideogram_nb._specs import _registry as base
    from ideogram_nb._specs import _v3 as v3

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, format="PNG")
    spec = v3.Remix(prompt="same scene at night", image=out.getvalue(), image_weight=70)
    d = spec.to_dict()
    with pytest.raises(ValueError, match="no stored image"):
        base.spec_from_dict(d)  # no open store holds the input yet
    history = History(tmp_path / "h")  # opening a history makes its store a ref resolver
    sent = spec.input_images()["image"][0]
    assert history.store.put(sent.data)[0] == sent.sha256
    rebuilt = base.spec_from_dict(d)
    assert rebuilt.to_dict() == d
    assert rebuilt.input_images()["image"][0].data == sent.data
    # and a result image made from that spec rebuilds it, seed included
    meta = {"endpoint": "remix", "spec": d, "seed": 99, "resolution": "1024x1024", "prompt": None,
            "provider": "offline"}  # fmt: skip
    _, path = history.store.put_output(png(1), meta)
    again = spec_from_image(path)
    assert again.to_dict() == {**d, "seed": 99}


def test_votes_keep_every_vote_and_count_the_latest(tmp_path):
    history = History(tmp_path)
    history.add_vote("cmp-1", 0, "A", a_run_id="r1", b_run_id="r2")
    history.add_vote("cmp-1", 0, "B", meta={"note": "changed my mind"})
    history.add_vote("cmp-1", 1, "tie")
    history.add_vote("cmp-2", 0, "A")
    with pytest.raises(ValueError, match="choice"):
        history.add_vote("cmp-1", 2, "C")
    latest = history.votes("cmp-1")
    assert [(v["pair"], v["choice"]) for v in latest] == [(0, "B"), (1, "tie")]
    assert latest[0]["meta"] == {"note": "changed my mind"}
    assert len(history.votes("cmp-1", latest=False)) == 3
    assert len(History(tmp_path).votes()) == 3  # reopened: (cmp-1, 0), (cmp-1, 1), (cmp-2, 0)


# --- status "unknown": sent, answer lost, maybe billed --------------------------------------------
def test_unknown_runs_are_stored_filtered_totalled_and_found_for_resume(tmp_path):
    history = History(tmp_path)
    ok = make_run(history, 1, request_hash="same", created_at="2025-01-01T00:00:00.000000+00:00")
    lost = make_run(history, 2, status="unknown", images=[], error="no answer; possibly billed",
                    error_type="OutcomeUnknownTimeoutError", request_hash="other", cost_usd=0.06,
                    created_at="2025-01-02T00:00:00.000000+00:00")  # fmt: skip
    for rec in (ok, lost):
        history.record(rec)
    assert "unknown" in History.STATUSES
    assert [r.run_id for r in history.runs(status="unknown")] == [lost.run_id]
    assert history.total_cost() == pytest.approx(0.09)  # possibly billed counts: budgets stay safe
    assert history.totals()["unknown"] == 1 and history.totals()["unknown_usd"] == pytest.approx(0.06)
    assert [d["status"] for d in history.to_records()] == ["ok", "unknown"]
    assert history.find_unknown("other").run_id == lost.run_id
    assert history.find_replay("other") is None  # an unknown run never answers a replay
    assert history.find_unknown("same") is None
    # a later success of the same request settles it: resume need not hold back any more
    history.record(make_run(history, 3, request_hash="other", created_at="2025-01-03T00:00:00.000000+00:00"))
    assert history.find_unknown("other") is None


def test_a_history_written_before_status_unknown_is_migrated_in_place(tmp_path):
    db = tmp_path / HISTORY_DB_NAME
    conn = sqlite3.connect(db, isolation_level=None)
    for migration in MIGRATIONS[:2]:  # the schema as the previous release left it
        migration(conn)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO runs (run_id, created_at, provider, endpoint, status, spec) "
                 "VALUES ('old-run', '2024-01-01T00:00:00+00:00', 'offline', 'generate', 'ok', '{}')")  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO runs (run_id, created_at, provider, endpoint, status, spec) "
                     "VALUES ('x', '2024-01-01', 'offline', 'generate', 'unknown', '{}')")  # fmt: skip
    indexes_before = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()

    history = History(tmp_path)
    assert history["old-run"].status == "ok"
    lost = make_run(history, 1, status="unknown", images=[], error="lost")
    history.record(lost)
    assert history[lost.run_id].status == "unknown"
    conn = sqlite3.connect(db)
    try:
        indexes_after = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        conn.close()
    # Every index survives the rebuild; the only new ones are those later migrations add.
    assert indexes_after - indexes_before == {"runs_generation_id", "sqlite_autoindex_scores_1"}
    assert indexes_before <= indexes_after and integrity(db) == "ok"
    with pytest.raises(ValueError, match="status"):
        history.record(make_run(history, 2, status="maybe"))


# --- listing speed path: JSON fields decoded on first use ---------------------------------------


def test_listed_runs_equal_the_runs_read_one_by_one(tmp_path):
    """`runs()` decodes spec/images/descriptions/inputs lazily; nothing else may differ."""
    import copy
    import dataclasses
    import pickle

    history = History(tmp_path)
    recorded = [
        make_run(history, 0),
        make_run(history, 1, status="error", error="boom", images=[], spec={"endpoint": "generate", "prompt": "é ✓ \"q\""}),
        make_run(history, 2, descriptions=["a cat", "a dog"], inputs=[{"field": "image", "sha256": None}],
                 spec={"endpoint": "remix", "prompt": "p", "image_weight": 0.30000000000000004, "nested": {"a": [1, 2.5]}}),
    ]  # fmt: skip
    for rec in recorded:
        history.record(rec)
    listed = history.runs(newest_first=False)
    assert [r.run_id for r in listed] == [r.run_id for r in recorded]
    for lazy, original in zip(listed, recorded, strict=True):
        assert type(lazy) is RunRecord
        assert lazy == original == history[original.run_id]
        assert lazy.to_dict() == original.to_dict()
        assert repr(lazy) == repr(history[original.run_id])  # stored JSON has sorted keys
        assert dataclasses.replace(lazy, label="x").spec == original.spec
        assert pickle.loads(pickle.dumps(lazy)) == original
        assert copy.deepcopy(lazy) == original and copy.copy(lazy) == original
    again = history.runs(newest_first=False)
    again[2].spec["prompt"] = "changed"  # a listing's records are its own
    again[2].images.append({})
    assert history.runs(newest_first=False)[2].spec["prompt"] == "p"
    assert listed[2].spec["prompt"] == "p" and listed[2].images == recorded[2].images
    fresh = history.runs(newest_first=False)[2]
    fresh.spec = {"endpoint": "generate", "prompt": "assigned before reading"}
    assert fresh.images == recorded[2].images and fresh.spec["prompt"] == "assigned before reading"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = listed[0].nope
    assert not hasattr(RunRecord(provider="p", endpoint="e", spec={}), "nope")


def test_json_decoding_shortcut_matches_json_loads():
    import json

    texts = ['{"a": 1, "b": [1.5, null, true], "c": "\\u00e9"}', "[]", "[1, 2]", '"s"', "0.30000000000000004",
             ' {"padded": 1} ', "-Infinity", '{"k": "v"}\n']  # fmt: skip
    for text in texts:
        assert decode_json(text) == json.loads(text)
    for broken in ("", "{", '{"a": 1} trailing', "[1,]"):
        with pytest.raises(json.JSONDecodeError):
            decode_json(broken)


def test_replace_overwrites_what_changed_and_keeps_the_row_and_its_place(tmp_path):
    """`record(replace=True)` writes only the columns that differ, so the row keeps its `seq`
    (its place in lists) and every field of the new record reads back, changed or not."""
    history = History(tmp_path)
    flight = make_run(history, 1, run_id="r", status="unknown", images=[], latency_s=None, error="in flight")
    history.record(flight)
    history.record(make_run(history, 2, run_id="later"))
    seq_before = _seq(history, "r")

    outcome = make_run(history, 1, run_id="r", created_at=flight.created_at, label="kept", endpoint="remix")
    history.record(outcome, replace=True)

    assert _seq(history, "r") == seq_before
    assert history["r"].to_dict() == outcome.to_dict()  # endpoint and label changed too: all written
    assert history.runs(status="unknown") == [] and [r.run_id for r in history.runs(label="kept")] == ["r"]
    assert [r.run_id for r in history.runs(endpoint="remix")] == ["r"]  # indexes follow the change
    history.record(outcome, replace=True)  # nothing changed: nothing written, nothing breaks
    assert history["r"].to_dict() == outcome.to_dict()
    history.record(make_run(history, 3, run_id="new"), replace=True)  # no such row: inserted
    assert "new" in history and integrity(history.db_path) == "ok"


def _seq(history: History, run_id: str) -> int:
    conn = sqlite3.connect(history.db_path)
    try:
        return int(conn.execute("SELECT seq FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0])
    finally:
        conn.close()
