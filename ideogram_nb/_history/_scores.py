"""Offline scores beside the run and image they measure (the `scores` table, migration 5).

Why one row per (run, image, metric) and NULL kept: a metric that does not apply is stored as
NULL, so "scored, not applicable" is remembered and not computed again, and reads back as None
like a metric never scored. Scores are never blended: each metric is its own row.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from ._records import utc_now_iso


def _value(run_id: str, metric: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"score {metric!r} of run {run_id} must be a finite number or None, not {value!r}")
    return float(value)


def write_scores(conn: sqlite3.Connection, run_id: str, image_index: int, metrics: Mapping[str, Any]) -> None:
    """Insert or replace one image's metrics (each its own row)."""
    now = utc_now_iso()
    rows = [(run_id, int(image_index), str(m), _value(run_id, m, v), now) for m, v in metrics.items()]
    conn.executemany(
        "INSERT OR REPLACE INTO scores (run_id, image_index, metric, value, created_at) VALUES (?, ?, ?, ?, ?)", rows
    )


def read_scores(conn: sqlite3.Connection, run_ids: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """{run_id: [metrics of image 0, of image 1, …]}; an image never scored is an empty dict."""
    if run_ids is None:
        rows = conn.execute("SELECT run_id, image_index, metric, value FROM scores ORDER BY run_id, image_index")
        found = rows.fetchall()
    else:
        ids = list(dict.fromkeys(run_ids))
        found = []
        for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT run_id, image_index, metric, value FROM scores WHERE run_id IN ({marks})"
            found += conn.execute(sql, chunk).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for run_id, index, metric, value in found:
        images = out.setdefault(run_id, [])
        while len(images) <= index:
            images.append({})
        images[index][metric] = value
    return out
