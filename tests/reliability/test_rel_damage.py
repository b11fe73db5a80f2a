"""A history that survives damage: damaged pages, lost and truncated images, a full disk,
folders that refuse writing. Each time: a clear error of ours (never a raw sqlite3, Pillow or
OS error), `check` finds every problem, `repair` saves every undamaged row and image, and no
paid call goes unrecorded.

How the damage is made. Database pages are overwritten in a real history built by the offline
client, where real disks fail: whole pages (a bad sector) or the cell area at a page's end
(a torn write). Which rows sat on the damaged pages is read from the healthy file (each
row's images JSON is found byte for byte), independently of the code under test. Tests run
as root, here and in CI, and root writes through read-only permissions and has no small disk
to fill: so "full" and "read-only" are fault injection, at the level the OS and SQLite report
them (`os.open`/`os.write` raising `ENOSPC`/`EACCES`, SQLite's own `max_page_count` limit and
a read-only connection), each test saying which.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

import ideogram_nb as ig
from ideogram_nb._cli import main as cli_main
from ideogram_nb._config import HISTORY_DB_NAME
from ideogram_nb._history import _database, _files
from ideogram_nb._history._check import check_history
from ideogram_nb._history._disk import write_error
from ideogram_nb.simulator import Faults, SimulatorTransport

PAGE = 4096
FILLER = " ".join(["a quiet harbour at dawn, fishing boats, gulls, soft mist over the water"] * 3)


class Recorder(httpx.BaseTransport):
    """The simulator, and every request that reached it."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.inner = SimulatorTransport(faults=faults) if faults else SimulatorTransport()
        self.posts: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts.append(request)
        return self.inner.handle_request(request)

    @property
    def billed(self) -> int:
        return len(self.inner.billed)


def client_for(path: Path, transport: Recorder | None = None, **kw) -> ig.Client:
    return ig.Client(provider="offline", history=ig.History(path), transport=transport or Recorder(),
                     sleep=lambda s: None, **kw)  # fmt: skip


def spec(i: int, **kw) -> ig.Generate:
    return ig.Generate(prompt=f"{i}: {FILLER}", seed=i, rendering_speed="TURBO", **kw)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A real history: 32 runs, two of two images, a remix (an input image), a describe, a
    refused call, a call whose answer was lost (outcome unknown), two votes. Closed, so its
    WAL is checkpointed into the one file that gets damaged."""
    folder = tmp_path_factory.mktemp("pristine") / "h"
    faults = Faults(script=[None] * 24 + ["429", "drop_after_work"])
    with client_for(folder, Recorder(faults), max_retries=0) as client:
        for i in range(24):
            client.run(spec(i, num_images=2 if i in (5, 17) else 1))
        for i in (24, 25):  # refused (429, final with max_retries=0), then answered and lost
            with pytest.raises(ig.APIError):
                client.run(spec(i))
        first = client.history.runs(newest_first=False)[0]
        client.run(ig.Remix(prompt=f"remix: {FILLER}", image=client.history.store.path(first.images[0]["sha256"]),
                            seed=26, rendering_speed="TURBO"))  # fmt: skip
        client.run(ig.Describe(image=client.history.store.path(first.images[0]["sha256"])))
        for i in range(28, 32):
            client.run(spec(i))
        client.history.add_vote("cmp-1", 0, "A")
        client.history.add_vote("cmp-1", 1, "tie")
        client.history.close()
    assert not (folder / f"{HISTORY_DB_NAME}-wal").exists()
    return folder


@pytest.fixture
def home(pristine, tmp_path) -> Path:
    folder = tmp_path / "history"
    shutil.copytree(pristine, folder)
    return folder


def records(path: Path) -> dict[str, dict]:
    history = ig.History(path)
    try:
        return {r["run_id"]: r for r in history.to_records()}
    finally:
        history.close()


def row_pages(path: Path) -> dict[str, int]:
    """run id → the database page holding its row, found in the healthy file's bytes by a
    column only the final row holds (its in-flight version, replaced, may linger elsewhere)."""
    raw = (path / HISTORY_DB_NAME).read_bytes()
    pages = {}
    for run_id, rec in records(path).items():
        unique = rec["images"] or rec["descriptions"]
        text = json.dumps(unique, sort_keys=True, ensure_ascii=False) if unique else rec["error"]
        at = raw.find(text.encode())
        assert at > 0 and raw.find(text.encode(), at + 1) < 0, run_id
        pages[run_id] = at // PAGE + 1
    return pages


def damage(db: Path, pages: set[int], how: str, seed: int = 7) -> None:
    """Overwrite whole pages ("page": a bad sector) or the cell area at their end ("cells":
    a torn write) with random bytes. Page 1's first 100 bytes (the file header) are kept."""
    rng = random.Random(seed)
    data = bytearray(db.read_bytes())
    for page in pages:
        start = (page - 1) * PAGE + (100 if page == 1 else 0)
        end = page * PAGE
        if how == "cells":
            start = end - 1500
        data[start:end] = bytes(rng.randrange(256) for _ in range(end - start))
    db.write_bytes(bytes(data))


def cli(*argv: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def shas(images: list) -> list[str]:
    """A call's images, in a canonical order: a rebuilt call of several images gets its order
    from the files' times, which tie when they were written within one clock tick."""
    return sorted(im["sha256"] if isinstance(im, dict) else im.sha256 for im in images)


def same_run(before: dict, after: dict) -> bool:
    """The same call: id, request, outcome and images (what replay and budgets rely on)."""
    keys = ("run_id", "endpoint", "spec", "request_hash", "status")
    return all(before[k] == after[k] for k in keys) and shas(before["images"]) == shas(after["images"])


# --- damaged database pages ------------------------------------------------------------------
@pytest.mark.parametrize("how", ["page", "cells"])
def test_damaged_pages_raise_our_error_and_check_finds_them(home, how):
    pages = row_pages(home)
    before = records(home)
    unknown = next(r for r, rec in before.items() if rec["status"] == "unknown")
    hit = {pages[unknown], pages[list(before)[6]]}
    damage(home / HISTORY_DB_NAME, hit, how)

    with pytest.raises(ig.HistoryCorruptError) as info:
        ig.History(home).to_records()
    text = str(info.value)
    assert str(home / HISTORY_DB_NAME) in text and "history repair --home" in text and "Nothing was deleted" in text
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)  # the library's words stay in the chain

    code, out, _ = cli("history", "check", "--home", str(home))
    assert code == 1
    assert "is damaged" in out and "history repair --home" in out
    report = check_history(home)  # the History itself may not open: check reads the folder
    damaged_rows = {r for r, p in pages.items() if p in hit}
    reported = {f.run_id for f in report.problems if f.kind == "run"}
    assert reported and reported <= damaged_rows
    assert report.kinds().get("database") == 1


@pytest.mark.parametrize("how", ["page", "cells"])
def test_repair_saves_every_undamaged_row_rebuilds_the_rest_and_is_harmless_twice(home, how):
    pages = row_pages(home)
    before = records(home)  # oldest first
    # the first run (its image is the remix's input), a describe (no images), the run whose
    # outcome is unknown (money), and a run of two images
    firsts = {rec["endpoint"]: r for r, rec in reversed(before.items())}
    unknown = next(r for r, rec in before.items() if rec["status"] == "unknown")
    pair = next(r for r, rec in before.items() if len(rec["images"]) == 2)
    hit = {pages[next(iter(before))], pages[firsts["describe"]], pages[unknown], pages[pair]}
    damage(home / HISTORY_DB_NAME, hit, how)
    damaged_bytes = (home / HISTORY_DB_NAME).read_bytes()

    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code in (0, 1), out
    assert "a fresh database" in out
    if how == "page":  # whole pages gone: rows come back from their images, or bare
        assert "rebuilt from the records inside their images" in out and "rebuilt without images" in out
    aside = sorted(home.glob("history.damaged-*.sqlite"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged_bytes  # kept, byte for byte
    after = records(home)

    for run_id, rec in before.items():
        again = after[run_id]
        if pages[run_id] not in hit or again == rec:
            assert again == rec, run_id  # undamaged (a torn write may spare a row): exactly as it was
        elif rec["images"]:  # rebuilt from its images and what the indexes kept, under its own id
            assert same_run(rec, again) and again["cost_usd"] == pytest.approx(rec["cost_usd"]), run_id
        else:  # no images to rebuild from (a describe, a failure): its id, outcome and request kept
            assert (again["status"], again["endpoint"]) == (rec["status"], rec["endpoint"]), run_id
            assert again["request_hash"] == (rec["request_hash"] if rec["status"] != "ok" else None), run_id
    assert set(after) == set(before)
    assert len(ig.History(home).votes(latest=False)) == 2

    assert cli("history", "check", "--home", str(home))[0] == 0
    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code == 0 and "nothing to repair" in out
    assert records(home) == after and len(list(home.glob("history.damaged-*.sqlite"))) == 1

    # the money rule survives: the lost "unknown" run still holds resume back, nothing is sent
    transport = Recorder()
    with client_for(home, transport) as client:
        lost = ig.spec_from_dict(before[unknown]["spec"])
        [result] = client.run_many([lost], resume=True, progress=False)
        assert isinstance(result.error, ig.OutcomeUnknownError) and result.run_id == unknown
        # and replay answers every recorded image, byte for byte
        replay = ig.Client(provider="replay", history=client.history)
        for rec in before.values():
            if rec["status"] == "ok" and rec["endpoint"] == "generate":
                again = replay.run(ig.spec_from_dict(rec["spec"]))
                assert shas(again.images) == shas(rec["images"])
    assert transport.posts == []


def test_a_row_whose_text_still_reads_but_does_not_parse_is_damage_too(home):
    """Zeroed bytes are valid UTF-8: a sector of zeros inside a row's JSON reads as text."""
    before = records(home)
    victim = next(r for r, rec in before.items() if rec["images"])
    conn = sqlite3.connect(home / HISTORY_DB_NAME)
    spec_text = json.dumps(before[victim]["spec"], sort_keys=True, ensure_ascii=False)
    conn.execute("UPDATE runs SET spec = ? WHERE run_id = ?", (spec_text[:20] + "\x00" * 40, victim))
    conn.commit()
    conn.close()
    history = ig.History(home)
    with pytest.raises(ig.HistoryCorruptError, match=f"run {victim}: its spec .* garbled"):
        [rec.spec for rec in history.runs()]
    with pytest.raises(ig.HistoryCorruptError, match="history check"):
        history[victim]
    history.close()
    report = check_history(home)
    assert [f.run_id for f in report.problems] == [victim]
    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code == 0 and f"rebuilt from the records inside their images: {victim}" in out
    assert same_run(before[victim], records(home)[victim])


def test_an_unreadable_schema_page_is_rebuilt_from_the_images(home):
    before = records(home)
    damage(home / HISTORY_DB_NAME, {1}, "page")  # the schema (sqlite_master), header kept
    with pytest.raises(ig.HistoryCorruptError, match="history repair"):
        ig.Client(provider="offline", history=ig.History(home))

    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code == 1 and "could not be read at all" in out
    after = records(home)
    by_images = {tuple(shas(r["images"])): r for r in after.values()}
    for rec in before.values():
        if rec["status"] == "ok" and rec["images"]:
            rebuilt = by_images[tuple(shas(rec["images"]))]
            assert rebuilt["spec"] == rec["spec"] and rebuilt["request_hash"] == rec["request_hash"]
            assert rebuilt["cost_usd"] == pytest.approx(rec["cost_usd"])
    assert cli("history", "check", "--home", str(home))[0] == 0
    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code == 0 and "nothing to repair" in out and records(home) == after


def test_client_sends_nothing_when_the_history_cannot_record_the_call(home):
    """Money first: a call leaves only once its in-flight row is committed. Damage on the
    page new rows go to makes that impossible: the client refuses, with the repair command."""
    pages = row_pages(home)
    damage(home / HISTORY_DB_NAME, {max(pages.values())}, "page")
    transport = Recorder()
    client = ig.Client(provider="offline", history=ig.History(home), transport=transport)
    with pytest.raises(ig.HistoryCorruptError) as info:
        client.run(spec(100))
    assert "Nothing was sent" in str(info.value) and "history repair" in str(info.value)
    [result] = client.run_many([spec(101)], progress=False)  # a batch gets results, not a crash
    assert isinstance(result.error, ig.HistoryCorruptError)
    assert transport.posts == [] and transport.billed == 0
    client.close()


# --- images: deleted, truncated, misplaced ---------------------------------------------------
def test_missing_and_truncated_images_are_found_replay_says_which_run_and_repair_relinks(home, tmp_path):
    backup = tmp_path / "backup"
    shutil.copytree(home / "images", backup)
    before = records(home)
    ok = [r for r in before.values() if r["status"] == "ok" and r["endpoint"] == "generate"]
    gone, cut, moved = ok[2], ok[3], ok[4]
    store = ig.ImageStore(home / "images")
    store.path(gone["images"][0]["sha256"]).unlink()
    path = store.path(cut["images"][0]["sha256"])
    path.write_bytes(path.read_bytes()[:500])
    stray = store.path(moved["images"][0]["sha256"])
    stray.rename(home / "images" / stray.name)  # outside its shard folder

    report = check_history(home)
    assert report.exit_code == 1
    assert {(f.kind, f.run_id) for f in report.problems} == {("missing", gone["run_id"]), ("missing", moved["run_id"]),
                                                             ("damaged", cut["run_id"])}  # fmt: skip
    assert any(f.kind == "misplaced" for f in report.notes)
    assert ig.History(home).check().kinds() == report.kinds()
    with pytest.raises(ig.MissingImageError, match="history check") as info:  # still a KeyError, as it was
        store.get(gone["images"][0]["sha256"])
    assert isinstance(info.value, KeyError) and info.value.sha256 == gone["images"][0]["sha256"]

    replay = ig.Client(provider="replay", history=ig.History(home), transport=Recorder())
    with pytest.raises(ig.ReplayImageMissing) as info:
        replay.run(ig.spec_from_dict(gone["spec"]))
    assert info.value.run_id == gone["run_id"] and gone["run_id"] in str(info.value)
    assert isinstance(info.value, ig.ReplayMiss) and isinstance(info.value, ig.MissingImageError)
    with pytest.raises(ig.ReplayMiss) as never:
        replay.run(spec(999))
    assert not isinstance(never.value, ig.ReplayImageMissing) and "no recorded run matches" in str(never.value)

    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code == 1 and "marked as gone" in out and "moved to images/damaged/" in out
    assert len((home / "images" / "damaged" / path.name).read_bytes()) == 500  # kept, not deleted
    assert store.path(moved["images"][0]["sha256"]) is not None  # back in its shard
    assert cli("history", "check", "--home", str(home))[0] == 0  # known gone: notes, not problems
    assert cli("history", "repair", "--home", str(home))[0] == 0  # harmless twice

    code, out, _ = cli("history", "repair", "--home", str(home), "--search", str(backup))
    assert code == 0 and "re-linked" in out and "marks cleared" in out
    for rec in (gone, cut):
        again = replay.run(ig.spec_from_dict(rec["spec"]))
        assert (
            again.images[0].path.read_bytes()
            == (backup / again.images[0].path.relative_to(home / "images")).read_bytes()
        )
    report = check_history(home)
    assert report.ok and not report.kinds(problems=False)


def test_an_image_whose_rename_was_lost_in_a_power_cut_is_put_back_by_repair(home):
    """The store syncs an image's bytes before its rename, not the rename: a power cut can
    leave a run naming bytes still under their temporary name. Check says which run lacks
    them; repair puts them back under their hash, and leaves a partial leftover alone."""
    ok = [r for r in records(home).values() if r["status"] == "ok" and r["endpoint"] == "generate"]
    store = ig.ImageStore(home / "images")
    sha = ok[1]["images"][0]["sha256"]
    final = store.path(sha)
    unrenamed = final.with_name(".tmp-0123456789abcdef.png")
    final.rename(unrenamed)  # what the disk holds when the rename never reached it
    partial = final.with_name(".tmp-fedcba9876543210.png")
    partial.write_bytes(unrenamed.read_bytes()[:300])  # an interrupted write: never named by a row

    report = check_history(home)
    assert {(f.kind, f.run_id) for f in report.problems} == {("missing", ok[1]["run_id"])}
    assert {f.path for f in report.notes if f.kind == "leftover"} == {unrenamed, partial}

    code, out, _ = cli("history", "repair", "--home", str(home))
    assert code == 0 and "re-linked" in out, out
    assert store.path(sha) == final and hashlib.sha256(final.read_bytes()).hexdigest() == sha.removeprefix("sha256:")
    assert not unrenamed.exists() and partial.exists()  # the partial one is not an image any run names
    assert check_history(home).ok


# --- a full disk, folders that refuse writing (fault injection: tests run as root) ------------
class DiskFaults:
    """`os.open`/`os.write` failing like a full disk or a read-only folder, for paths under
    one folder only (everything else, pytest included, writes as usual)."""

    def __init__(self, monkeypatch, folder: Path) -> None:
        self.folder = str(folder)
        self.fds: set[int] = set()
        self.open_error: int | None = None
        self.write_error: int | None = None
        real_open, real_write = os.open, os.write

        def fake_open(path, flags, mode=0o777, *a, **kw):
            if str(path).startswith(self.folder) and flags & (os.O_WRONLY | os.O_RDWR):
                if self.open_error is not None:
                    raise OSError(self.open_error, os.strerror(self.open_error), str(path))
                fd = real_open(path, flags, mode, *a, **kw)
                self.fds.add(fd)
                return fd
            return real_open(path, flags, mode, *a, **kw)

        def fake_write(fd, data):
            if fd in self.fds and self.write_error is not None:
                raise OSError(self.write_error, os.strerror(self.write_error))
            return real_write(fd, data)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "write", fake_write)


def test_a_full_disk_while_storing_images_still_records_the_billed_call(tmp_path, monkeypatch):
    """Simulated: writing any file under the image store fails with ENOSPC (`os.write`)."""
    transport = Recorder()
    client = client_for(tmp_path / "h", transport)
    DiskFaults(monkeypatch, tmp_path / "h" / "images").write_error = errno.ENOSPC
    with pytest.raises(ig.HistoryWriteError) as info:
        client.run(spec(1))
    error = info.value
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert "no space left" in str(error) and str(tmp_path / "h" / "images") in str(error)
    assert "made and billed" in str(error) and error.run_id
    assert transport.billed == 1
    [row] = client.history.to_records()  # the paid call is recorded: billed, its images not stored
    assert row["run_id"] == error.run_id and row["status"] == "error" and row["cost_usd"] > 0
    assert row["error_type"] == "HistoryWriteError"
    client.close()


def test_a_full_database_refuses_before_sending(tmp_path, monkeypatch):
    """Simulated with SQLite's own limit: `PRAGMA max_page_count` at the file's current size
    (vacuumed: no free pages left) makes every write that needs a page fail with SQLITE_FULL,
    as a full disk does."""
    transport = Recorder()
    client = client_for(tmp_path / "h", transport)
    client.history.close()  # from now on each operation opens its connection: through the patch
    db = tmp_path / "h" / HISTORY_DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("VACUUM")
    conn.close()
    real_connect = sqlite3.connect

    def full_connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(_database.sqlite3, "connect", full_connect)
    with pytest.raises(ig.HistoryWriteError) as info:
        client.run(spec(1, negative_prompt="x" * 5000))
    assert "Nothing was sent" in str(info.value) and str(db) in str(info.value)
    assert "no space left" in str(info.value)
    assert transport.posts == [] and transport.billed == 0
    monkeypatch.undo()
    assert len(client.history) == 0
    client.close()


def test_an_outcome_that_cannot_be_recorded_stays_in_flight_and_repair_settles_it(tmp_path, monkeypatch):
    """Simulated: the database refuses the write that replaces a call's in-flight row (the
    disk filled up while the call was out)."""
    transport = Recorder()
    client = client_for(tmp_path / "h", transport)
    real_record = ig.History.record

    def record(self, rec, *, replace=False):
        if replace:
            raise write_error(self.db_path, OSError(errno.ENOSPC, "database or disk is full"))
        return real_record(self, rec, replace=replace)

    monkeypatch.setattr(ig.History, "record", record)
    with pytest.raises(ig.HistoryWriteError) as info:
        client.run(spec(1))
    monkeypatch.undo()
    run_id = info.value.run_id
    assert run_id in str(info.value) and "in flight" in str(info.value) and "history repair" in str(info.value)
    assert transport.billed == 1
    row = client.history[run_id]  # never unrecorded: possibly billed, its estimate counted
    assert row.status == "unknown" and row.cost_usd > 0 and client.history.total_cost() == row.cost_usd

    code, out, _ = cli("history", "repair", "--home", str(tmp_path / "h"))
    assert code == 0 and f"settled from their stored images: {run_id}" in out
    settled = client.history[run_id]
    assert settled.status == "ok" and settled.images and settled.images[0]["sha256"] in client.history.store
    [again] = client.run_many([spec(1)], resume=True, progress=False)
    assert again.ok and again.run_id == run_id and transport.billed == 1  # answered from it, not paid again
    client.close()


def test_folders_that_refuse_writing_give_our_error_naming_them(tmp_path, monkeypatch):
    """Simulated: `os.mkdir`/`os.open` raise PermissionError (EACCES) under the folder, and
    the database is opened read-only (SQLite then refuses every write, as for a read-only file)."""
    denied = tmp_path / "denied"
    real_mkdir = os.mkdir

    def mkdir(path, *a, **kw):
        if str(path).startswith(str(denied)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_mkdir(path, *a, **kw)

    monkeypatch.setattr(os, "mkdir", mkdir)
    with pytest.raises(ig.HistoryWriteError, match="permission denied") as info:
        ig.History(denied / "h")
    assert str(denied / "h") in str(info.value)
    monkeypatch.undo()

    # the image store refuses: an input image cannot be stored, so nothing is sent
    transport = Recorder()
    client = client_for(tmp_path / "h", transport)
    faults = DiskFaults(monkeypatch, tmp_path / "h" / "images")
    faults.open_error = errno.EACCES
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (200, 10, 10)).save(photo)
    with pytest.raises(ig.HistoryWriteError, match="permission denied") as info:
        client.run(ig.Remix(prompt="in winter", image=photo))
    assert "Nothing was sent" in str(info.value)
    assert transport.posts == [] and len(client.history) == 0

    # an export into a folder that refuses writing
    faults.folder = str(tmp_path / "exports")
    (tmp_path / "exports").mkdir()
    with pytest.raises(ig.HistoryWriteError, match="permission denied") as info:
        client.history.export_notebook(tmp_path / "exports")
    assert str(tmp_path / "exports" / "runs.ipynb") in str(info.value)
    monkeypatch.undo()

    # a read-only database file
    real_connect = sqlite3.connect
    monkeypatch.setattr(_database.sqlite3, "connect", lambda path, *a, **kw: real_connect(
        f"file:{path}?mode=ro", *a, uri=True, **kw))  # fmt: skip
    client.history.close()
    with pytest.raises(ig.HistoryWriteError) as info:
        client.run(spec(1))
    assert "Nothing was sent" in str(info.value) and str(tmp_path / "h" / HISTORY_DB_NAME) in str(info.value)
    assert transport.posts == []
    monkeypatch.undo()
    client.close()


def test_write_atomic_leaves_no_partial_file_when_the_disk_fills(tmp_path, monkeypatch):
    """Simulated ENOSPC half way through (`os.write`): the old file stays, no temp file is left."""
    target = tmp_path / "out" / "a.bin"
    target.parent.mkdir()
    target.write_bytes(b"old")
    faults = DiskFaults(monkeypatch, tmp_path / "out")
    faults.write_error = errno.ENOSPC
    with pytest.raises(ig.HistoryWriteError) as info:
        _files.write_atomic(target, b"new" * 1000)
    assert info.value.filename == str(target)
    assert target.read_bytes() == b"old" and sorted(p.name for p in target.parent.iterdir()) == ["a.bin"]


# --- a history from a newer version, text that is not text -----------------------------------
def test_a_newer_schema_is_reported_by_check_and_refused_by_repair(home):
    db = home / HISTORY_DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(ig.HistoryVersionError, match="newer ideogram_nb"):
        ig.History(home)
    code, out, _ = cli("history", "check", "--home", str(home))
    assert code == 1 and "schema version 99" in out
    code, out, err = cli("history", "repair", "--home", str(home))
    assert code == 2 and "newer ideogram_nb" in err and "Upgrade" in err
    assert db.read_bytes() == before and not list(home.glob("history.damaged-*"))


def test_a_lone_surrogate_in_a_prompt_is_a_spec_error_naming_the_field(tmp_path):
    with pytest.raises(ig.SpecError) as info:
        ig.Generate(prompt="a cat \udc80 in a hat")
    assert info.value.fields == ["prompt"] and "lone surrogate" in str(info.value)
    made = ig.Generate(prompt="fine")
    with pytest.raises(ig.SpecError, match="negative_prompt"):
        made.negative_prompt = "blurry \ud83d"
    assert made.negative_prompt == ""
