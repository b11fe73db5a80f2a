"""The run history: one SQLite row per call, images in the content-addressed store.

Why this shape: every call costs money, so every call (success or failure) is worth a row
you can search, total, export and replay. Rows are written in one transaction *after* their
images are durable in the store, so a crash leaves at most an orphan image, never a row
pointing at a missing file. Reads and rare writes open their own short-lived connection,
which is safe across threads and processes alike (WAL plus a busy timeout serialise the
writers). `record`, twice per call, writes on one connection that lives as long as the
`History` (one thread at a time: opening a connection re-reads the schema, ~0.2 ms a record);
held open, it also keeps closing the last connection from checkpointing the WAL after every
call. `close()` releases it.
"""

from __future__ import annotations

import json
import json.scanner
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from .._config import HISTORY_DB_NAME, IMAGES_DIRNAME, home_dir
from ._connections import Connections
from ._disk import os_error
from ._records import (
    LIST_SELECT,
    SELECT,
    STATUSES,
    RunRecord,
    new_run_id,
    search_text_of,
    utc_now_iso,
)
from ._rows import insert_row, lazy_records_of, record_of, replace_row, row_of
from ._store import ImageStore, register_store

if TYPE_CHECKING:
    from ._check import CheckReport


class RunFilters(TypedDict, total=False):
    """The filters every listing, count and total takes (all optional, combined with AND)."""

    endpoint: str | None
    provider: str | None
    status: str | None
    #: searches prompts (sent and returned), negative prompts, descriptions and labels
    text: str | None
    label: str | None


FILTER_NAMES = tuple(RunFilters.__annotations__)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class History:
    """Every call recorded: `history.runs(...)`, `len`, `history[run_id]`, `total_cost()`."""

    #: The values of `status`: "ok", "error", "unknown" (sent, answer lost: maybe billed),
    #: "pending" (a v2 job accepted and not finished: `Client.resume` finishes it).
    STATUSES = STATUSES

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else home_dir()
        self.db_path = self.path / HISTORY_DB_NAME
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.store = ImageStore(self.path / IMAGES_DIRNAME)
        except OSError as exc:  # a read-only disk, a folder of someone else's: say which
            translated = os_error(exc, self.path, "create the history folder")
            if translated is exc:
                raise
            raise translated from exc
        self._db = Connections(self.db_path)
        self._db.migrate()
        register_store(self.store)
        self._db.writer()

    # --- connections (see `_connections`) -------------------------------------------------
    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.connect()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.transaction()

    def close(self) -> None:
        """Close the long-lived connection (the History stays usable: every operation then
        opens its own)."""
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------
    def new_run_id(self) -> str:
        return new_run_id()

    def record(self, rec: RunRecord, *, replace: bool = False) -> None:
        """Insert one row in one transaction. Every image it names must already be stored.

        `replace=True` overwrites the row of the same run id (the client first records a call
        as in flight, status "unknown", then replaces that row with what happened), and
        inserts when there is none."""
        if rec.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {rec.status!r}")
        missing = [sha for sha in rec.image_shas() if sha not in self.store]
        if missing:
            raise ValueError(
                f"run {rec.run_id} names images that are not in the store: " + ", ".join(f"sha256:{s}" for s in missing)
            )
        row = row_of(rec)
        try:
            self._db.write(partial(replace_row if replace else insert_row, row=row))
        except sqlite3.IntegrityError as exc:
            if "run_id" in str(exc):
                raise ValueError(f"run {rec.run_id} is already recorded") from None
            raise

    def set_label(self, run_id: str, label: str | None) -> None:
        """Label a run (None clears it). KeyError if there is no such run."""
        with self._transaction() as conn:
            cur = conn.execute("UPDATE runs SET label = ? WHERE run_id = ?", (label, run_id))
            if cur.rowcount == 0:
                raise KeyError(f"no run {run_id!r} in {self.path}")
            # keep the label searchable: rebuild the row's search text from its record
            rec = self._fetch_one(conn, "WHERE run_id = ?", (run_id,))
            assert rec is not None
            conn.execute("UPDATE runs SET search_text = ? WHERE run_id = ?", (search_text_of(rec), run_id))

    # --- reading --------------------------------------------------------------------------
    @staticmethod
    def _where(filters: RunFilters) -> tuple[str, list[Any]]:
        unknown = set(filters) - set(RunFilters.__annotations__)
        if unknown:
            raise TypeError(f"unknown history filter(s) {sorted(unknown)}; filters: {', '.join(FILTER_NAMES)}")
        clauses: list[str] = []
        args: list[Any] = []
        for column in ("endpoint", "provider", "status", "label"):
            value = filters.get(column)
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        text = filters.get("text")
        if text:
            clauses.append("search_text LIKE ? ESCAPE '\\'")
            args.append(_like_pattern(text))
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), args

    def _fetch_one(self, conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> RunRecord | None:
        row = conn.execute(f"SELECT {SELECT} FROM runs {where} LIMIT 1", args).fetchone()
        return record_of(row) if row is not None else None

    def runs(
        self,
        *,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
        **filters: Unpack[RunFilters],
    ) -> list[RunRecord]:
        """Runs matching every given filter; `text` searches prompts and descriptions."""
        where, args = self._where(filters)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {LIST_SELECT} FROM runs {where} ORDER BY created_at {order}, seq {order}"
        sql += " LIMIT ? OFFSET ?"
        args += [-1 if limit is None else int(limit), int(offset)]
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        return lazy_records_of(rows)

    def count(self, **filters: Unpack[RunFilters]) -> int:
        where, args = self._where(filters)
        with self._connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0])

    def total_cost(self, **filters: Unpack[RunFilters]) -> float:
        """Sum of the recorded cost estimates. Failed and replayed calls record 0; a call
        whose outcome is unknown records its estimate (possibly billed: counted, to be safe)."""
        where, args = self._where(filters)
        with self._connect() as conn:
            total = conn.execute(f"SELECT TOTAL(cost_usd) FROM runs {where}", args).fetchone()[0]
        return round(float(total), 10)

    def totals(self, **filters: Unpack[RunFilters]) -> dict[str, Any]:
        """`{"runs", "images", "cost_usd", "unknown", "unknown_usd"}` of the matching runs, in
        one query (browser header, CLI). `unknown`/`unknown_usd`: runs whose outcome is unknown
        or whose v2 job is still pending, and the part of `cost_usd` that is only *possibly* billed."""
        where, args = self._where(filters)
        spent = "status IN ('unknown', 'pending')"
        sql = (
            "SELECT COUNT(*), TOTAL(json_array_length(images)), TOTAL(cost_usd), "
            f"TOTAL({spent}), TOTAL(CASE WHEN {spent} THEN cost_usd END) "
            f"FROM runs {where}"
        )
        with self._connect() as conn:
            runs, images, cost, unknown, unknown_cost = conn.execute(sql, args).fetchone()
        return {
            "runs": int(runs), "images": int(images), "cost_usd": round(float(cost), 10),
            "unknown": int(unknown), "unknown_usd": round(float(unknown_cost), 10),
        }  # fmt: skip

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, run_id: str) -> RunRecord:
        with self._connect() as conn:
            rec = self._fetch_one(conn, "WHERE run_id = ?", (run_id,))
        if rec is None:
            raise KeyError(f"no run {run_id!r} in {self.path}")
        return rec

    def __contains__(self, run_id: object) -> bool:
        if not isinstance(run_id, str):
            return False
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None

    def __iter__(self) -> Iterator[RunRecord]:
        """Every run, oldest first (the order of `to_records()`)."""
        return iter(self.runs(newest_first=False))

    def to_records(self) -> list[dict[str, Any]]:
        """Every run as a plain dict, oldest first."""
        return [rec.to_dict() for rec in self.runs(newest_first=False)]

    # --- export (see `_export`: nbformat is imported only when exporting) ------------------
    def export_notebook(
        self, path: str | Path, runs: Iterable[Any] | None = None, title: str | None = None, *,
        overwrite: bool = False,
    ) -> Path:  # fmt: skip
        """Write runs (default: all, oldest first) as a notebook that re-runs them.

        `runs` may hold run ids, `RunRecord`s or `Result`s. The notebook's client names no
        provider, so `IDEOGRAM_NB_PROVIDER=replay` re-executes it from this history: the same
        images, nothing sent. Outputs are small JPEG thumbnails carrying each image's record.
        `path` may be a folder (written inside it, as `runs.ipynb`); an existing file is
        replaced only with `overwrite=True` (`FileExistsError` otherwise).
        """
        from ._export import export_notebook

        return export_notebook(self, path, runs, title, overwrite=overwrite)

    def to_jsonl(self, path: str | Path, runs: Iterable[Any] | None = None, *, overwrite: bool = False) -> Path:
        """Write runs as JSON lines, one `to_records()` dict per line, oldest first. A folder
        gets `runs.jsonl` inside it; an existing file is replaced only with `overwrite=True`."""
        from ._export import to_jsonl

        return to_jsonl(self, path, runs, overwrite=overwrite)

    def check(self, *, verify_hashes: bool = True) -> CheckReport:
        """Look for damage: the database's integrity, every run's images present (and, with
        `verify_hashes`, matching their sha256), files no run names. Reads only; the report's
        `summary()` is what `python -m ideogram_nb history check` prints, `ok` its verdict."""
        from ._check import check_history

        return check_history(self.path, verify_hashes=verify_hashes)

    def find_replay(self, request_hash: str) -> RunRecord | None:
        """The newest successful run of this request whose images are all still stored.

        Replayed runs count too: they name the same stored images as the original.
        """
        sql = f"SELECT {SELECT} FROM runs WHERE request_hash = ? AND status = 'ok' ORDER BY created_at DESC, seq DESC"
        with self._connect() as conn:
            rows = conn.execute(sql, (request_hash,)).fetchall()
        for row in rows:
            rec = record_of(row)
            if all(sha in self.store for sha in rec.image_shas()):
                return rec
        return None

    def find_recorded(self, request_hash: str) -> RunRecord | None:
        """The newest successful run of this request, its images stored or not: what tells
        replay's "never recorded" from "recorded, but its image is gone"."""
        sql = f"SELECT {SELECT} FROM runs WHERE request_hash = ? AND status = 'ok' ORDER BY created_at DESC, seq DESC"
        with self._connect() as conn:
            row = conn.execute(sql + " LIMIT 1", (request_hash,)).fetchone()
        return record_of(row) if row is not None else None

    def find_unknown(self, request_hash: str) -> RunRecord | None:
        """The newest run of this request whose outcome is unknown (maybe made and billed) or
        whose v2 job is still pending, if no run of it succeeded since: what
        `run_many(resume=True)` must not send again."""
        sql = (
            f"SELECT {SELECT} FROM runs WHERE request_hash = ? AND status IN ('ok', 'unknown', 'pending') "
            "ORDER BY created_at DESC, seq DESC LIMIT 1"
        )
        with self._connect() as conn:
            row = conn.execute(sql, (request_hash,)).fetchone()
        rec = record_of(row) if row is not None else None
        return rec if rec is not None and rec.status in ("unknown", "pending") else None

    def pending_jobs(self) -> list[RunRecord]:
        """v2 jobs accepted and not finished (status "pending"), oldest first: what
        `Client.jobs()` lists and `Client.resume` finishes."""
        sql = f"SELECT {SELECT} FROM runs WHERE status = 'pending' ORDER BY created_at, seq"
        with self._connect() as conn:
            return [record_of(row) for row in conn.execute(sql).fetchall()]

    def __repr__(self) -> str:
        n = len(self)
        return f"History({str(self.path)!r}, {n} run{'' if n == 1 else 's'})"

    # --- A/B votes (comparisons) ------------------------------------------------------------
    def add_vote(
        self, comparison_id: str, pair: int, choice: str, *, a_run_id: str | None = None,
        b_run_id: str | None = None, meta: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Record one A/B vote ("A", "B" or "tie"); a later vote on the same pair replaces it."""
        if choice not in ("A", "B", "tie"):
            raise ValueError(f"choice must be 'A', 'B' or 'tie', not {choice!r}")
        row = {
            "created_at": utc_now_iso(), "comparison_id": comparison_id, "pair": int(pair), "choice": choice,
            "a_run_id": a_run_id, "b_run_id": b_run_id, "meta": json.dumps(meta or {}, sort_keys=True),
        }  # fmt: skip
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO votes (created_at, comparison_id, pair, choice, a_run_id, b_run_id, meta) VALUES "
                "(:created_at, :comparison_id, :pair, :choice, :a_run_id, :b_run_id, :meta)",
                row,
            )
        return {**row, "meta": meta or {}}

    def votes(self, comparison_id: str | None = None, *, latest: bool = True) -> list[dict[str, Any]]:
        """Votes, oldest first; with `latest`, only the last vote per (comparison, pair)."""
        sql = "SELECT created_at, comparison_id, pair, choice, a_run_id, b_run_id, meta FROM votes"
        args: list[Any] = []
        if comparison_id is not None:
            sql += " WHERE comparison_id = ?"
            args.append(comparison_id)
        with self._connect() as conn:
            rows = conn.execute(sql + " ORDER BY seq", args).fetchall()
        names = ("created_at", "comparison_id", "pair", "choice", "a_run_id", "b_run_id", "meta")
        out = [{**dict(zip(names, r, strict=True)), "meta": json.loads(r[-1])} for r in rows]
        if latest:
            last = {(v["comparison_id"], v["pair"]): v for v in out}
            out = sorted(last.values(), key=lambda v: (v["created_at"], v["comparison_id"], v["pair"]))
        return out

    # --- deciding: leaderboard, scores, report (see `_leaderboard`, `_scores`, `_report`) -----
    def leaderboard(self, field: str, **options: Any) -> list[dict[str, Any]]:
        """Rank the values of one axis (`"prompt"`, `"style_type"`, …) from every vote in this
        history that compared them: Bradley–Terry strength with a confidence interval, and the
        counts; rows best first (see `_leaderboard.leaderboard`, docs/comparisons.md)."""
        from ._leaderboard import leaderboard

        return leaderboard(self.votes(latest=True), field, **options)

    def record_scores(self, run_id: str, scores: Iterable[Mapping[str, Any]]) -> None:
        """Store the metrics of each image of a run (`score_images`), replacing earlier ones."""
        from ._scores import write_scores

        if run_id not in self:
            raise KeyError(f"no run {run_id!r} in {self.path}: scores are stored beside their run")
        with self._transaction() as conn:
            for index, metrics in enumerate(scores):
                write_scores(conn, run_id, index, metrics)

    def scores(self, run_id: str | Iterable[str] | None = None) -> Any:
        """One run's stored scores, one dict per image (`[]`: never scored); with several run ids
        (or None: every run) a dict `{run_id: [...]}`."""
        from ._scores import read_scores

        with self._connect() as conn:
            if isinstance(run_id, str):
                return read_scores(conn, [run_id]).get(run_id, [])
            return read_scores(conn, run_id)

    def to_html(self, path: str | Path, *, overwrite: bool = False, **filters: Unpack[RunFilters]) -> Path:
        """One self-contained HTML report of the runs matching `filters` (thumbnails inline,
        votes, scores, leaderboards, each spec as Python); an existing file needs `overwrite`."""
        from ._report import history_report

        return history_report(self, path, overwrite=overwrite, **filters)
