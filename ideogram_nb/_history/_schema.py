"""The history's SQLite schema as ordered migrations (`PRAGMA user_version` counts them).

Why a list of functions: a history is kept for months and copied between machines, so every
older file must open with a newer toolkit; each change is one function, appended, never edited.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable


def _migration_1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE runs (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id        TEXT NOT NULL UNIQUE,
            created_at    TEXT NOT NULL,
            provider      TEXT NOT NULL,
            endpoint      TEXT NOT NULL,
            status        TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            prompt        TEXT,
            search_text   TEXT NOT NULL DEFAULT '',
            spec          TEXT NOT NULL,
            request_hash  TEXT,
            error         TEXT,
            error_type    TEXT,
            http_status   INTEGER,
            attempts      INTEGER NOT NULL DEFAULT 1,
            latency_s     REAL,
            cost_usd      REAL NOT NULL DEFAULT 0,
            images        TEXT NOT NULL DEFAULT '[]',
            descriptions  TEXT NOT NULL DEFAULT '[]',
            inputs        TEXT NOT NULL DEFAULT '[]',
            label         TEXT,
            replayed_from TEXT
        )"""
    )
    # Every listing is ordered by time: filter indexes end in (created_at, seq), so a
    # filtered page is read in order, without a sort.
    conn.execute("CREATE INDEX runs_created_at ON runs (created_at, seq)")
    for column in ("endpoint", "provider", "status", "label", "request_hash"):
        conn.execute(f"CREATE INDEX runs_{column} ON runs ({column}, created_at, seq)")


def _migration_2_votes(conn: sqlite3.Connection) -> None:
    """A/B votes of comparisons (`Comparison.vote`): every vote kept, the latest per pair counts."""
    conn.execute(
        """CREATE TABLE votes (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at    TEXT NOT NULL,
            comparison_id TEXT NOT NULL,
            pair          INTEGER NOT NULL,
            choice        TEXT NOT NULL CHECK (choice IN ('A', 'B', 'tie')),
            a_run_id      TEXT,
            b_run_id      TEXT,
            meta          TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    conn.execute("CREATE INDEX votes_comparison ON votes (comparison_id, pair, seq)")


def _migration_3_unknown_status(conn: sqlite3.Connection) -> None:
    """Allow status 'unknown' (outcome unknown, possibly billed) in the runs table.

    SQLite cannot change a CHECK constraint in place, so the table is rebuilt the documented
    way (new table, copy, drop, rename), from its own stored SQL: columns and indexes that
    earlier migrations added are kept whatever they are.
    """
    _rebuild_runs_check(conn, "CHECK (status IN ('ok', 'error'))", "CHECK (status IN ('ok', 'error', 'unknown'))")


def _migration_4_jobs_and_usage(conn: sqlite3.Connection) -> None:
    """v2 jobs and reported prices: status 'pending', `generation_id`, `usage_cost_usd`.

    A started asynchronous job is paid for when it is submitted, so its `generation_id` must be
    on disk before the first poll: `Client.resume` finishes the same job after a restart and
    never submits it again. `usage_cost_usd` is what the service said the call cost (v2's
    `usage_cost_usd_micros`), kept beside our estimate (`cost_usd`), never instead of it.
    """
    _rebuild_runs_check(conn, "CHECK (status IN ('ok', 'error', 'unknown'))",
                        "CHECK (status IN ('ok', 'error', 'unknown', 'pending'))")  # fmt: skip
    conn.execute("ALTER TABLE runs ADD COLUMN generation_id TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN usage_cost_usd REAL")
    conn.execute("CREATE INDEX runs_generation_id ON runs (generation_id)")


def _migration_5_scores(conn: sqlite3.Connection) -> None:
    """Offline scores (`score_image`) stored beside the run and image they measure.

    One row per (run, image, metric): metrics are never blended into one number, and a metric
    that does not apply is simply absent (read back as None).
    """
    conn.execute(
        """CREATE TABLE scores (
            run_id      TEXT NOT NULL,
            image_index INTEGER NOT NULL,
            metric      TEXT NOT NULL,
            value       REAL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (run_id, image_index, metric)
        )"""
    )


def _rebuild_runs_check(conn: sqlite3.Connection, old_check: str, new_check: str) -> None:
    """Swap the runs table's status CHECK the way SQLite documents (new table, copy, rename).

    Built from the table's own stored SQL, so columns and indexes earlier migrations added are
    kept whatever they are.
    """
    table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()[0]
    if old_check not in table_sql:
        return
    index_sqls = [
        row[0] for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL"
        )
    ]  # fmt: skip
    new_sql = table_sql.replace(old_check, new_check, 1)
    # A renamed table's stored SQL names it quoted ("runs"): match either spelling.
    new_sql = re.sub(r'^CREATE TABLE\s+("runs"|runs)', "CREATE TABLE runs_migrating", new_sql, count=1)
    conn.execute(new_sql)
    conn.execute("INSERT INTO runs_migrating SELECT * FROM runs")
    conn.execute("DROP TABLE runs")
    conn.execute("ALTER TABLE runs_migrating RENAME TO runs")
    for sql in index_sqls:
        conn.execute(sql)


#: Ordered schema changes; `PRAGMA user_version` counts how many have run. Only append.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migration_1, _migration_2_votes, _migration_3_unknown_status, _migration_4_jobs_and_usage,
    _migration_5_scores,
]  # fmt: skip
