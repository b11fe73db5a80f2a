"""Reading whatever SQLite can still read of a history database, damaged or not.

Why row by row: one damaged page makes every query that crosses it fail ("database disk
image is malformed"), so a plain `SELECT *` loses the whole table to a few bad bytes. Python's
`sqlite3` has no `.recover` (that is the sqlite3 shell's), so the table is read in ranges of
`seq` (its rowid); a range that fails is split in two until the unreadable rows are single
ones. A row that reads but does not decode (garbled JSON, an impossible status) is damaged
too: its readable plain columns are kept as *facts* about a lost run.

Why the indexes too: each index holds a copy of some columns (run id, time, endpoint,
provider, status, label, request hash) on pages of its own, so a row lost with its table page
is often still known there. That is how `repair` rebuilds a lost run whose outcome was
unknown: without it, `run_many(resume=True)` would no longer know not to send it again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ._records import COLUMNS, JSON_COLUMNS, RECORD_COLUMNS, STATUSES, RunRecord

#: Rows read per query; a failing range is halved down to single rows.
CHUNK = 256
#: How many of SQLite's own messages a report keeps.
MAX_MESSAGES = 20
VOTE_COLUMNS = ("created_at", "comparison_id", "pair", "choice", "a_run_id", "b_run_id", "meta")
#: index → (the column it copies, its ORDER BY): read as covering scans, without the table.
RUN_INDEXES = {
    "sqlite_autoindex_runs_1": ("run_id", "run_id"),
    "runs_created_at": ("created_at", "created_at, seq"),
    "runs_endpoint": ("endpoint", "endpoint, created_at, seq"),
    "runs_provider": ("provider", "provider, created_at, seq"),
    "runs_status": ("status", "status, created_at, seq"),
    "runs_label": ("label", "label, created_at, seq"),
    "runs_request_hash": ("request_hash", "request_hash, created_at, seq"),
}
_TEXT_FACTS = ("run_id", "created_at", "provider", "endpoint", "status", "request_hash", "label")


@dataclass
class Salvage:
    """What could be read of one database."""

    #: rows that read and decode: (seq, record)
    runs: list[tuple[int, RunRecord]] = field(default_factory=list)
    votes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: seq → what is known of a run whose row is lost or garbled (from its row and the indexes)
    facts: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: seqs of runs that could not be read at all, or read garbled
    lost_runs: list[int] = field(default_factory=list)
    lost_votes: int = 0
    #: what SQLite said (the first few messages)
    messages: list[str] = field(default_factory=list)
    #: the schema could not be read at all (sqlite_master or the header is damaged)
    unreadable: bool = False
    user_version: int | None = None

    def note(self, exc: BaseException) -> None:
        text = str(exc)
        if len(self.messages) < MAX_MESSAGES and text not in self.messages:
            self.messages.append(text)


@contextmanager
def open_readonly(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that never writes the file. Without a `-wal` file nothing is pending, so
    the file is opened immutable (no `-wal`/`-shm` files are made beside it); with one, as a
    plain read-only reader, so the WAL's committed rows are read too."""
    wal = db_path.with_name(db_path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    conn = sqlite3.connect(f"file:{quote(str(db_path.absolute()))}?{mode}", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def salvage(conn: sqlite3.Connection) -> Salvage:
    """Everything readable: decoded runs and votes, facts about lost runs, SQLite's messages."""
    out = Salvage()
    try:
        out.user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        out.note(exc)
        out.unreadable = True
        return out
    if "runs" in names:
        _salvage_runs(conn, out)
    if "votes" in names:
        rows, unreadable = read_rows(conn, "votes", VOTE_COLUMNS, out)
        for seq, values in rows:
            vote = _decode_vote(values)
            if vote is None:
                out.lost_votes += 1
            else:
                out.votes.append((seq, vote))
        out.lost_votes += len(unreadable)
    return out


def _salvage_runs(conn: sqlite3.Connection, out: Salvage) -> None:
    try:
        present = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    except sqlite3.DatabaseError as exc:
        out.note(exc)
        present = set(COLUMNS)
    columns = tuple(c for c in RECORD_COLUMNS if c in present)
    rows, unreadable = read_rows(conn, "runs", columns, out)
    facts = index_facts(conn, out)
    read = set()
    for seq, values in rows:
        read.add(seq)
        d = dict(zip(columns, values, strict=True))
        rec = decode_run(d)
        if rec is not None:
            out.runs.append((seq, rec))
            continue
        out.lost_runs.append(seq)
        known = facts.setdefault(seq, {})
        for name in _TEXT_FACTS:  # a garbled row's plain columns may still be right
            if isinstance(d.get(name), str) and name not in known:
                known[name] = d[name]
    out.lost_runs += unreadable
    # rows the table no longer reaches but the run-id index still names (a garbled index
    # entry alone is not taken for a run)
    out.lost_runs += [seq for seq, known in facts.items() if seq not in read and "run_id" in known]
    out.lost_runs = sorted(set(out.lost_runs))
    out.facts = {seq: facts.get(seq, {}) for seq in out.lost_runs}


def read_rows(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], out: Salvage
) -> tuple[list[tuple[int, tuple[Any, ...]]], list[int]]:
    """(seq, values) of every row SQLite can read, and the seqs it cannot (rows are never
    deleted, so a gap below the highest seq is a lost row too)."""
    select = f"SELECT seq, {', '.join(columns)} FROM {table} WHERE seq BETWEEN ? AND ? ORDER BY seq"
    # One row is looked up, not scanned: a range scan steps on to the next row to see it is
    # past the range, and fails when that next row sits on a damaged page.
    select_one = f"SELECT seq, {', '.join(columns)} FROM {table} WHERE seq = ?"
    rows: list[tuple[int, tuple[Any, ...]]] = []
    unreadable: list[int] = []

    def read(lo: int, hi: int) -> None:
        try:
            got = conn.execute(select_one, (lo,)).fetchall() if lo == hi else conn.execute(select, (lo, hi)).fetchall()
        except sqlite3.DatabaseError as exc:
            out.note(exc)
            if lo == hi:
                unreadable.append(lo)
                return
            mid = (lo + hi) // 2
            read(lo, mid)
            read(mid + 1, hi)
            return
        seen = {r[0] for r in got}
        rows.extend((int(r[0]), tuple(r[1:])) for r in got)
        if lo == hi:
            unreadable.extend(s for s in (lo,) if s not in seen)
            return
        for s in range(lo, hi + 1):  # a scan stops early at a garbled page: look each gap up
            if s not in seen:
                read(s, s)

    top = _highest_seq(conn, table, out)
    for lo in range(1, top + 1, CHUNK):
        read(lo, min(lo + CHUNK - 1, top))
    return rows, unreadable


def _highest_seq(conn: sqlite3.Connection, table: str, out: Salvage) -> int:
    """The highest seq ever given: AUTOINCREMENT keeps it in sqlite_sequence; the table's
    last row says it too. Either may be on a damaged page; the larger readable one wins."""
    found = 0
    queries = (("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)), (f"SELECT max(seq) FROM {table}", ()))
    for sql, args in queries:
        try:
            row = conn.execute(sql, args).fetchone()
        except sqlite3.DatabaseError as exc:
            out.note(exc)
            continue
        if row is not None and isinstance(row[0], int):
            found = max(found, row[0])
    return found


def index_facts(conn: sqlite3.Connection, out: Salvage) -> dict[int, dict[str, Any]]:
    """seq → {column: value} from every readable index entry. A scan that hits a damaged
    page stops; the same index read from its other end gets the entries past it."""
    facts: dict[int, dict[str, Any]] = {}
    for index, (column, order) in RUN_INDEXES.items():
        for direction in ("ASC", "DESC"):
            keys = ", ".join(f"{part.strip()} {direction}" for part in order.split(","))
            sql = f"SELECT {column}, seq FROM runs INDEXED BY {index} ORDER BY {keys}"
            try:
                for value, seq in conn.execute(sql):
                    if isinstance(seq, int) and (value is None or isinstance(value, str)):
                        facts.setdefault(seq, {}).setdefault(column, value)
                break  # read to the end: no need to come from the other side
            except sqlite3.Error as exc:
                out.note(exc)
    return facts


def decode_run(d: dict[str, Any]) -> RunRecord | None:
    """A row's values as a record, or None when any of them is garbled."""
    for name in ("run_id", "created_at", "provider", "endpoint"):
        if not isinstance(d.get(name), str) or not d[name]:
            return None
    if d.get("status") not in STATUSES:
        return None
    values = dict(d)
    try:
        for name in JSON_COLUMNS:
            if name in values:
                values[name] = json.loads(values[name])
    except (TypeError, ValueError):
        return None
    if not isinstance(values.get("spec"), dict):
        return None
    for name in ("images", "descriptions", "inputs"):
        item = values.get(name, [])
        if not isinstance(item, list) or (name != "descriptions" and not all(isinstance(i, dict) for i in item)):
            return None
    for name in ("cost_usd", "latency_s", "usage_cost_usd"):
        if values.get(name) is not None and not isinstance(values[name], (int, float)):
            return None
    if values.get("generation_id") is not None and not isinstance(values["generation_id"], str):
        return None
    if values.get("cost_usd") is None:
        values["cost_usd"] = 0.0
    if not isinstance(values.get("attempts"), int):
        values["attempts"] = 1
    return RunRecord.from_dict(values)


def _decode_vote(values: tuple[Any, ...]) -> dict[str, Any] | None:
    vote = dict(zip(VOTE_COLUMNS, values, strict=True))
    if vote["choice"] not in ("A", "B", "tie") or not isinstance(vote["comparison_id"], str):
        return None
    if not isinstance(vote["pair"], int) or not isinstance(vote["created_at"], str):
        return None
    try:
        json.loads(vote["meta"])
    except (TypeError, ValueError):
        return None
    return vote
