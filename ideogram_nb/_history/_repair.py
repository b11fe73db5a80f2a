"""`python -m ideogram_nb history repair`: save what can be saved of a damaged history.

What it does, in order, and why each step is safe to run twice:

1. Reads every row SQLite can still read, and what the indexes still know of lost rows
   (`_salvage`). A damaged (or missing) database is rebuilt into a fresh file; the damaged one
   is kept beside it as `history.damaged-<time>.sqlite`, never deleted. A sound one is
   repaired in place, in one transaction.
2. Goes through the image store: a file whose bytes no longer match its name (truncated,
   overwritten) is moved to `images/damaged/`; an image found elsewhere in the store, or in
   a `--search` folder, under its hash is put back where rows look for it (re-linked).
3. Rebuilds runs from images no row names, from the record each stored output carries in its
   PNG chunks (`_metadata`): a call stopped mid-way settles its in-flight row; a lost row
   known to the indexes gets its images back under its own run id; the rest become new rows.
   Lost rows without images but with a known outcome are rebuilt bare, so a lost "unknown"
   run still keeps `run_many(resume=True)` from paying for it twice.
4. Marks runs whose images are gone (`"missing": <date>` on the image entry, so `check` then
   reports them as known, not as new damage) and clears the mark when an image comes back.

A second run finds a sound database, no orphans and the marks already set: it changes nothing.
Stop notebooks and scripts using the history first: a process holding the old database open
would go on writing into the file that was set aside.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._config import DAMAGED_IMAGES_DIRNAME, HISTORY_DB_NAME, IMAGES_DIRNAME
from .._errors import HistoryVersionError, MetadataError
from ._check import MISSING_MARK, image_entries, sha256_of, store_files
from ._database import History
from ._disk import sqlite_errors
from ._metadata import read_metadata
from ._records import COLUMNS, IN_FLIGHT_PREFIX, RunRecord
from ._rows import row_of, update_row
from ._salvage import VOTE_COLUMNS, Salvage, open_readonly, salvage
from ._schema import MIGRATIONS
from ._store import ImageStore, image_format, normalize_sha, register_store

#: What `--search` folders are searched for (the store's own formats).
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
#: The error a rebuilt row without its record carries.
LOST_ROW_NOTE = "record lost in database damage; rebuilt by `history repair` from what the indexes kept"


@dataclass
class RepairReport:
    """What `repair_history` saved, rebuilt, moved and could not save."""

    home: Path
    fresh_database: bool = False
    #: nothing of the old database could be read (its schema page is damaged, or it was gone):
    #: runs come back from their images only; failed and outcome-unknown runs cannot
    unreadable_database: bool = False
    #: the damaged database files, kept where they were moved
    kept_aside: list[Path] = field(default_factory=list)
    runs_kept: int = 0
    votes_kept: int = 0
    #: run ids: rebuilt from stored images, settled from them, rebuilt without images
    rebuilt: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    rebuilt_bare: list[str] = field(default_factory=list)
    #: lost runs that could not be rebuilt (their id, or their row number)
    lost: list[str] = field(default_factory=list)
    lost_votes: int = 0
    relinked: list[str] = field(default_factory=list)
    set_aside: list[Path] = field(default_factory=list)
    #: (run id, sha256) marked as gone, and marks cleared because the image came back
    marked: list[tuple[str, str]] = field(default_factory=list)
    unmarked: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.fresh_database or self.rebuilt or self.settled or self.rebuilt_bare or self.relinked
                    or self.set_aside or self.marked or self.unmarked)  # fmt: skip

    def summary(self) -> str:
        if not self.changed and not self.lost:
            return f"history {self.home}: nothing to repair ({self.runs_kept} runs, all readable)"
        lines = [f"history {self.home}: repaired"]
        if self.fresh_database:
            kept = ", ".join(p.name for p in self.kept_aside) or "nothing (there was no database)"
            total = self.runs_kept + len(self.rebuilt) + len(self.rebuilt_bare)
            lines.append(f"  a fresh database holds {total} runs ({self.runs_kept} read as they were) and "
                         f"{self.votes_kept} votes; the damaged one is kept beside it: {kept}")  # fmt: skip
        if self.unreadable_database:
            lines.append("  LOST: the old database could not be read at all; runs were rebuilt from their images "
                         "only, so failed calls and calls whose outcome was unknown are gone")  # fmt: skip
        groups = (
            ("runs rebuilt from the records inside their images", self.rebuilt),
            ("in-flight runs settled from their stored images", self.settled),
            ("lost runs rebuilt without images (outcome and request hash kept)", self.rebuilt_bare),
            ("images re-linked into the store by hash", self.relinked),
            ("damaged image files moved to images/damaged/", [str(p) for p in self.set_aside]),
            ("images marked as gone", [f"{r} sha256:{s[:16]}…" for r, s in self.marked]),
            ("marks cleared (the image is back)", [f"{r} sha256:{s[:16]}…" for r, s in self.unmarked]),
            ("LOST: runs that could not be read or rebuilt", self.lost),
        )
        for title, items in groups:
            if items:
                shown = ", ".join(items[:8]) + (f", … ({len(items) - 8} more)" if len(items) > 8 else "")
                lines.append(f"  {len(items)} {title}: {shown}")
        if self.lost_votes:
            lines.append(f"  LOST: {self.lost_votes} A/B vote(s) could not be read")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def repair_history(home: str | Path, *, search: Sequence[str | Path] = (), now: datetime | None = None) -> RepairReport:
    """Repair the history in `home` (see the module docstring); returns what was done."""
    home = Path(home)
    now = now or datetime.now(UTC)
    report = RepairReport(home=home)
    db = home / HISTORY_DB_NAME
    store = ImageStore(home / IMAGES_DIRNAME)
    register_store(store)  # rebuilt specs resolve their "sha256:" inputs through it
    sound = False
    found = Salvage()
    if db.is_file():
        with sqlite_errors(db), open_readonly(db) as conn:
            found = salvage(conn)
            sound = not found.unreadable and _integrity_ok(conn)
        if found.user_version is not None and found.user_version > len(MIGRATIONS):
            raise HistoryVersionError(
                f"{db} was written by a newer ideogram_nb (schema version {found.user_version}; this one knows "
                f"{len(MIGRATIONS)}): repairing it with this one could lose data. Upgrade ideogram_nb first",
                path=db, found=found.user_version, known=len(MIGRATIONS),
            )  # fmt: skip
        sound = sound and not found.lost_runs and not found.lost_votes
    report.unreadable_database = found.unreadable or not db.is_file()
    records = dict(found.runs)  # seq → record
    present = _sweep_store(store, records.values(), search, report)
    _rebuild(store, records, found, present, report)
    _mark(records, present, now, report)
    report.lost_votes = found.lost_votes
    if sound:
        _update_in_place(home, records, report)
    else:
        _write_fresh(home, db, records, found, now, report)
    report.runs_kept = len(records) - len(report.rebuilt) - len(report.rebuilt_bare)
    report.votes_kept = len(found.votes)
    return report


def _integrity_ok(conn: sqlite3.Connection) -> bool:
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check(1)")] == ["ok"]
    except sqlite3.DatabaseError:
        return False


# --- the image store --------------------------------------------------------------------------
def _sweep_store(
    store: ImageStore, records: Iterable[RunRecord], search: Sequence[str | Path], report: RepairReport
) -> set[str]:
    """Set damaged files aside, put misplaced, unrenamed and searched-for images back; the
    shas stored."""
    needed = {normalize_sha(str(e["sha256"])) for rec in records for _w, e in image_entries(rec)} - {None}
    present: set[str] = set()
    unrenamed: list[Path] = []
    for path in store_files(store.root):
        stem = path.name.split(".", 1)[0]
        if path.name.startswith(".tmp-"):
            unrenamed.append(path)
            continue
        if normalize_sha(stem) is None:
            continue
        actual = sha256_of(path)
        if actual is None:  # unreadable: nothing to decide on
            continue
        if actual == stem and path.parent == store.root / stem[:2]:
            present.add(stem)
            continue
        data = path.read_bytes()
        if actual == stem:  # intact, outside its shard: stored at its place, then the stray removed
            store.put(data, path.suffix)
            path.unlink()
            present.add(stem)
            report.relinked.append(stem)
            continue
        report.set_aside.append(_move_aside(store.root, path))  # truncated or overwritten: kept, out of the way
        if actual in needed and actual not in present and image_format(data) is not None:
            store.put(data, path.suffix)  # the bytes of another image a run names, under a wrong name
            present.add(actual)
            report.relinked.append(actual)
    # A store syncs an image's bytes before its rename, not the rename (`_files._write_atomic`):
    # after a power cut, a run may name bytes still under their temporary name. Only a file
    # whose hash is an image a run names is put back: that hash proves it whole.
    for path in unrenamed:
        actual = sha256_of(path)
        if actual in needed and actual not in present:
            sha, _ = store.put(path.read_bytes(), path.suffix)
            path.unlink()
            present.add(sha)
            report.relinked.append(sha)
    for folder in search:  # only files named like images: a search folder may hold anything
        for path in sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES and p.is_file()):
            missing = needed - present
            if not missing:
                break
            actual = sha256_of(path)
            if actual in missing:
                sha, _ = store.put(path.read_bytes(), path.suffix)
                present.add(sha)
                report.relinked.append(sha)
    return present


def _move_aside(root: Path, path: Path) -> Path:
    folder = root / DAMAGED_IMAGES_DIRNAME
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    while target.exists():
        target = folder / f"{secrets.token_hex(3)}-{path.name}"
    os.replace(path, target)
    return target


# --- rows -------------------------------------------------------------------------------------
def _mark(records: dict[int, RunRecord], present: set[str], now: datetime, report: RepairReport) -> None:
    """Mark image entries whose file is gone; clear the mark of those that came back."""
    for rec in records.values():
        for _where, entry in image_entries(rec):
            sha = normalize_sha(str(entry["sha256"])) or ""
            if sha not in present and not entry.get(MISSING_MARK):
                entry[MISSING_MARK] = now.date().isoformat()
                report.marked.append((rec.run_id, sha))
            elif sha in present and entry.get(MISSING_MARK):
                del entry[MISSING_MARK]
                report.unmarked.append((rec.run_id, sha))


def _rebuild(
    store: ImageStore, records: dict[int, RunRecord], found: Salvage, present: set[str], report: RepairReport
) -> None:
    """Runs back from images no row names as an output, and bare rows for lost runs with a
    known outcome. An image only named as some run's *input* (a remix of a lost run's output)
    goes back to a lost run known by its request, never into a new one: it may have been made
    elsewhere and only uploaded here, and a run invented for it would count money never spent."""
    named = {normalize_sha(str(e["sha256"])) for rec in records.values() for _w, e in image_entries(rec)}
    outputs = {normalize_sha(str(d["sha256"])) for rec in records.values() for d in rec.images if d.get("sha256")}
    inputs_only = named - outputs
    groups: dict[str, list[tuple[float, str, dict[str, Any]]]] = {}
    for sha in sorted(present - outputs - {None}):
        path = store.path(sha)
        if path is None or path.suffix != ".png":
            continue
        try:
            meta = read_metadata(path)
        except MetadataError:
            continue
        if not isinstance(meta.get("spec"), dict) or not meta.get("endpoint"):
            continue  # an input image, or not one of ours
        from .._specs._wire import hash_spec_dict

        groups.setdefault(hash_spec_dict(meta["spec"]), []).append((path.stat().st_mtime_ns / 1e9, sha, meta))
    lost_facts = dict(found.facts)
    for key, items in groups.items():
        items.sort()
        spec = items[0][2]["spec"]
        size = _image_count(spec)
        waiting = [rec for rec in records.values() if rec.request_hash == key and not rec.images
                   and rec.status == "unknown" and (rec.error or "").startswith(IN_FLIGHT_PREFIX)]  # fmt: skip
        while items:
            chunk, items = items[:size], items[size:]
            images = [_image_entry(sha, meta) for _t, sha, meta in chunk]
            if waiting:
                rec = waiting.pop(0)
                rec.images, rec.status, rec.error, rec.error_type = images, "ok", None, None
                if len(images) < size:
                    rec.status, rec.error_type = "error", "IncompleteRunError"
                    rec.error = f"billed; only {len(images)} of {size} images were stored before the process stopped"
                report.settled.append(rec.run_id)
                continue
            seq = next((s for s, f in lost_facts.items() if f.get("request_hash") == key and f.get("run_id")
                        and f.get("status") in ("ok", "unknown", None)), None)  # fmt: skip
            if seq is None:
                chunk = [item for item in chunk if item[1] not in inputs_only]
                if not chunk:
                    continue
            facts = lost_facts.pop(seq, {}) if seq is not None else {}
            rec = _new_record(spec, chunk, facts, key)
            records[seq if seq is not None else _next_seq(records, found)] = rec
            report.rebuilt.append(rec.run_id)
    for seq, facts in sorted(lost_facts.items()):
        if all(facts.get(k) for k in ("run_id", "created_at", "endpoint", "provider", "status")):
            records[seq] = RunRecord(
                run_id=facts["run_id"], created_at=facts["created_at"], provider=facts["provider"],
                endpoint=facts["endpoint"], spec={"endpoint": facts["endpoint"]}, status=facts["status"],
                request_hash=facts.get("request_hash") if facts["status"] != "ok" else None,
                error=LOST_ROW_NOTE, error_type="OutcomeUnknownError" if facts["status"] == "unknown" else None,
                label=facts.get("label"), cost_usd=0.0,
            )  # fmt: skip
            report.rebuilt_bare.append(facts["run_id"])
        else:
            report.lost.append(str(facts.get("run_id") or f"row {seq}"))


def _next_seq(records: dict[int, RunRecord], found: Salvage) -> int:
    return max([0, *records, *found.lost_runs]) + 1


def _image_count(spec: dict[str, Any]) -> int:
    """How many images the request asked for: one call's worth of orphans."""
    try:
        from .._specs._registry import spec_from_dict

        return max(1, int(spec_from_dict(spec).image_count))
    except Exception:  # an input gone from the store, a field of another version
        n = spec.get("num_images")
        return n if isinstance(n, int) and n > 0 else 1


def _estimate(spec: dict[str, Any]) -> float:
    try:
        from .._specs._registry import spec_from_dict

        return float(spec_from_dict(spec).estimate_cost())
    except Exception:
        return 0.0


def _image_entry(sha: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {"sha256": sha, "seed": meta.get("seed"), "resolution": meta.get("resolution"), "is_image_safe": True,
            "prompt": meta.get("prompt"), "style_type": None, "upscaled_resolution": None}  # fmt: skip


def _new_record(spec: dict[str, Any], chunk: list[tuple[float, str, dict[str, Any]]], facts: dict[str, Any],
                key: str) -> RunRecord:  # fmt: skip
    """A run rebuilt from its images: the lost row's own facts where the indexes kept them."""
    first = datetime.fromtimestamp(chunk[0][0], UTC)
    meta = chunk[0][2]
    refs = [(name, item) for name, value in spec.items() for item in (value if isinstance(value, list) else [value])]
    inputs = [{"field": name, "sha256": normalize_sha(item)} for name, item in refs
              if isinstance(item, str) and item.startswith("sha256:") and normalize_sha(item)]  # fmt: skip
    return RunRecord(
        run_id=facts.get("run_id") or first.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6),
        created_at=facts.get("created_at") or first.isoformat(timespec="microseconds"),
        provider=facts.get("provider") or str(meta.get("provider") or "unknown"),
        endpoint=str(meta.get("endpoint")), spec=dict(spec), request_hash=key, status="ok",
        cost_usd=_estimate(spec), images=[_image_entry(sha, m) for _t, sha, m in chunk], inputs=inputs,
        label=facts.get("label"), attempts=1,
    )  # fmt: skip


# --- writing ----------------------------------------------------------------------------------
def _update_in_place(home: Path, records: dict[int, RunRecord], report: RepairReport) -> None:
    """A sound database: changed rows rewritten, rebuilt ones added, in one transaction."""
    changed = {r for r, _ in report.marked} | {r for r, _ in report.unmarked} | set(report.settled)
    added = set(report.rebuilt) | set(report.rebuilt_bare)
    if not changed and not added:
        return
    with History(home) as history, history._transaction() as conn:
        for seq, rec in sorted(records.items()):
            if rec.run_id in added:
                _insert(conn, seq, rec)
            elif rec.run_id in changed:
                update_row(conn, row_of(rec))


def _write_fresh(
    home: Path, db: Path, records: dict[int, RunRecord], found: Salvage, now: datetime, report: RepairReport
) -> None:
    """Everything saved into a new file, then swapped in; the damaged files kept aside."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    fresh = home / f"history.repairing-{stamp}.sqlite"
    for leftover in (fresh, fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
        leftover.unlink(missing_ok=True)  # an earlier repair stopped half way: its scratch file only
    conn = sqlite3.connect(fresh, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        for migration in MIGRATIONS:
            migration(conn)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        for seq, rec in sorted(records.items()):
            _insert(conn, seq, rec)
        for seq, vote in found.votes:
            names = ", ".join(("seq", *VOTE_COLUMNS))
            conn.execute(f"INSERT INTO votes ({names}) VALUES ({', '.join('?' * (len(VOTE_COLUMNS) + 1))})",
                         (seq, *(vote[c] for c in VOTE_COLUMNS)))  # fmt: skip
        conn.execute("COMMIT")
    finally:
        conn.close()  # the last connection: its WAL is checkpointed into the file and removed
    if db.exists():
        aside = home / f"history.damaged-{stamp}.sqlite"
        try:
            os.link(db, aside)  # the damaged file keeps a name at every moment
        except OSError:
            shutil.copy2(db, aside)
        report.kept_aside.append(aside)
        for suffix in ("-wal", "-shm"):  # a stale WAL must never meet the fresh file
            side = db.with_name(db.name + suffix)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + suffix))
                report.kept_aside.append(aside.with_name(aside.name + suffix))
    os.replace(fresh, db)
    report.fresh_database = True


def _insert(conn: sqlite3.Connection, seq: int, rec: RunRecord) -> None:
    row = row_of(rec)
    row["seq"] = seq
    names = ", ".join(("seq", *COLUMNS))
    conn.execute(f"INSERT INTO runs ({names}) VALUES ({', '.join(f':{c}' for c in ('seq', *COLUMNS))})", row)
