"""A run record as a row of the `runs` table, and back; the statements that write one.

Why its own module: how a `RunRecord` becomes columns (JSON texts, the prompt and search
text kept only to be filtered on) and comes back (fast, skipping the dataclass) is one
concept that `History`, `repair` and the client's call path all rely on; and writing a row
is on every call's path, so what it costs is decided here (see `replace_row`).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ._records import (
    COLUMNS,
    JSON_COLUMNS,
    PLAIN_COLUMNS,
    RECORD_COLUMNS,
    RunRecord,
    decode_column,
    search_text_of,
)

_INSERT = f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join(f':{c}' for c in COLUMNS)})"
_UPDATE = f"UPDATE runs SET {', '.join(f'{c} = :{c}' for c in COLUMNS if c != 'run_id')} WHERE run_id = :run_id"
_SELECT_ROW = f"SELECT {', '.join(COLUMNS)} FROM runs WHERE run_id = ?"


def row_of(rec: RunRecord) -> dict[str, Any]:
    """The columns of `rec`: JSON fields as sorted JSON text, plus the filter-only columns."""
    row = {name: getattr(rec, name) for name in RECORD_COLUMNS}
    for name in JSON_COLUMNS:
        row[name] = json.dumps(row[name], sort_keys=True, ensure_ascii=False)
    prompt = rec.spec.get("prompt")
    row["prompt"] = str(prompt) if prompt is not None else None
    row["search_text"] = search_text_of(rec)
    return row


def insert_row(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    conn.execute(_INSERT, row)


def replace_row(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Overwrite the row of `row["run_id"]` (insert it when there is none), setting only the
    columns whose values differ. Why: an outcome replacing a call's in-flight row changes its
    status and results, not its time, endpoint or prompt; an UPDATE naming every column
    rewrites the entries of all eight indexes (SQLite does not skip equal values), which made the
    second row of every call cost more than the first. The row keeps its `seq`."""
    old = conn.execute(_SELECT_ROW, (row["run_id"],)).fetchone()
    if old is None:
        conn.execute(_INSERT, row)
        return
    changed = [c for c, before in zip(COLUMNS, old, strict=True) if c != "run_id" and row[c] != before]
    if not changed:
        return
    sets = ", ".join(f"{c} = :{c}" for c in changed)
    if conn.execute(f"UPDATE runs SET {sets} WHERE run_id = :run_id", row).rowcount == 0:
        conn.execute(_INSERT, row)  # gone since the SELECT (another process deleted it)


def update_row(conn: sqlite3.Connection, row: dict[str, Any]) -> bool:
    """Overwrite every column of the row with this run id (repair, inside its own
    transaction); False when there is none."""
    return conn.execute(_UPDATE, row).rowcount > 0


def record_of(row: tuple[Any, ...]) -> RunRecord:
    """Rows come from our own schema, so skip the dataclass __init__: a third faster,
    which is what keeps listing thousands of runs well under 100 ms."""
    d = dict(zip(RECORD_COLUMNS, row, strict=True))
    for name in JSON_COLUMNS:
        d[name] = decode_column(d[name], name, d["run_id"])
    rec = object.__new__(RunRecord)
    rec.__dict__.update(d)
    return rec


def lazy_records_of(rows: list[tuple[Any, ...]]) -> list[RunRecord]:
    """Rows of `LIST_SELECT` as records whose JSON fields wait to be read
    (`RunRecord.__getattr__`): 10,000 runs list in well under 100 ms."""
    plain = PLAIN_COLUMNS
    new = object.__new__
    out = []
    for row in rows:
        rec = new(RunRecord)
        d = rec.__dict__
        d.update(zip(plain, row, strict=False))  # stops before the JSON texts
        d["_row"] = row
        out.append(rec)
    return out
