"""The run history: one SQLite row per call, images in the content-addressed store.

Why this shape: every call costs money, so every call (success or failure) is worth a row
you can search, total, export and replay. Rows are written in one transaction *after* their
images are durable in the store, so a crash leaves at most an orphan image, never a row
pointing at a missing file. Each operation opens its own short-lived connection: that is
safe across threads and processes alike (WAL plus a busy timeout serialise the writers),
and there is nothing to leak or to close.
"""

from __future__ import annotations

import json
import json.scanner
import secrets
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._config import HISTORY_DB_NAME, IMAGES_DIRNAME, SQLITE_BUSY_TIMEOUT_MS, home_dir
from ._store import ImageStore, register_store

#: "unknown": the request was sent and the answer lost (read timeout, dropped mid-answer, a
#: gateway error): it may have been made and billed, so nothing re-sends it unless asked.
STATUSES = ("ok", "error", "unknown")


def utc_now_iso() -> str:
    """ISO-8601 UTC with microseconds and a fixed width, so text order is time order."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_run_id() -> str:
    """Time-sortable and readable in an error message: '20250101-120000-1a2b3c4d5e6f'.

    48 random bits: even 10,000 ids in one second collide with odds below one in a million.
    """
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)


@dataclass(kw_only=True)
class RunRecord:
    """One call as the history keeps it. JSON-safe: no key, no live objects."""

    run_id: str = field(default_factory=new_run_id)
    created_at: str = field(default_factory=utc_now_iso)
    provider: str
    endpoint: str
    spec: dict[str, Any]
    request_hash: str | None = None
    status: str = "ok"
    error: str | None = None
    error_type: str | None = None
    http_status: int | None = None
    attempts: int = 1
    latency_s: float | None = None
    cost_usd: float = 0.0
    #: {sha256 (None when withheld), seed, resolution, is_image_safe, prompt, style_type}
    images: list[dict[str, Any]] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    #: {field, sha256}: the image inputs exactly as sent
    inputs: list[dict[str, Any]] = field(default_factory=list)
    label: str | None = None
    replayed_from: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """A plain, deep-copied dict (what `History.to_records()` lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def __getattr__(self, name: str) -> Any:
        """Records listed by `History.runs()` decode their JSON fields (spec, images,
        descriptions, inputs) on first use: decoding every row was most of a listing's time."""
        d = self.__dict__
        row = d.get("_row")  # the listing's row, JSON texts last (`_LIST_SELECT`)
        if row is None or name not in _LIST_JSON_AT:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        for field_name, at in _LIST_JSON_AT.items():  # all four at once: one slow call per record
            if field_name not in d:  # one assigned before it was read wins
                d[field_name] = _decode_json(row[at])
        del d["_row"]
        return d[name]

    def image_shas(self) -> list[str]:
        """Every stored image this run refers to: outputs, then inputs."""
        shas = [im.get("sha256") for im in self.images] + [i.get("sha256") for i in self.inputs]
        return [s for s in shas if s]


# --- schema -----------------------------------------------------------------------------
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
    table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()[0]
    old_check = "CHECK (status IN ('ok', 'error'))"
    if old_check not in table_sql:
        return
    index_sqls = [
        row[0] for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL"
        )
    ]  # fmt: skip
    new_sql = table_sql.replace(old_check, "CHECK (status IN ('ok', 'error', 'unknown'))", 1)
    new_sql = new_sql.replace("CREATE TABLE runs", "CREATE TABLE runs_migrating", 1)
    conn.execute(new_sql)
    conn.execute("INSERT INTO runs_migrating SELECT * FROM runs")
    conn.execute("DROP TABLE runs")
    conn.execute("ALTER TABLE runs_migrating RENAME TO runs")
    for sql in index_sqls:
        conn.execute(sql)


#: Ordered schema changes; `PRAGMA user_version` counts how many have run. Only append.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migration_1, _migration_2_votes, _migration_3_unknown_status,
]  # fmt: skip

_JSON_COLUMNS = ("spec", "images", "descriptions", "inputs")
_COLUMNS = (
    "run_id", "created_at", "provider", "endpoint", "status", "prompt", "search_text", "spec",
    "request_hash", "error", "error_type", "http_status", "attempts", "latency_s", "cost_usd",
    "images", "descriptions", "inputs", "label", "replayed_from",
)  # fmt: skip
#: What a RunRecord holds; `prompt` and `search_text` exist only to be filtered on.
_RECORD_COLUMNS = tuple(c for c in _COLUMNS if c not in ("prompt", "search_text"))
_SELECT = ", ".join(_RECORD_COLUMNS)
#: `runs()` reads the JSON columns last: the others go straight into the record.
_PLAIN_COLUMNS = tuple(c for c in _RECORD_COLUMNS if c not in _JSON_COLUMNS)
_LIST_SELECT = ", ".join(_PLAIN_COLUMNS + _JSON_COLUMNS)
_LIST_JSON_AT = {name: len(_PLAIN_COLUMNS) + i for i, name in enumerate(_JSON_COLUMNS)}
#: json's C scanner, called directly: `json.loads` adds a third in Python-level overhead.
#: (typeshed types the scanner's argument as the scanner class itself, hence the ignore.)
_scan_json: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _decode_json(text: str) -> Any:
    """`json.loads(text)` for the texts `History` writes (compact, one value), faster."""
    if text == "[]":
        return []
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError):  # not (only) JSON: json.loads raises its usual error
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _search_text(rec: RunRecord) -> str:
    """Everything a user might remember a run by: prompts (sent and returned), descriptions."""
    parts = [rec.spec.get("prompt"), rec.spec.get("negative_prompt"), rec.label]
    parts += [im.get("prompt") for im in rec.images] + list(rec.descriptions)
    return "\n".join(str(p) for p in parts if p)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class History:
    """Every call recorded: `history.runs(...)`, `len`, `history[run_id]`, `total_cost()`."""

    #: The values of `status`: "ok", "error", "unknown" (sent, answer lost: maybe billed).
    STATUSES = STATUSES

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else home_dir()
        self.path.mkdir(parents=True, exist_ok=True)
        self.db_path = self.path / HISTORY_DB_NAME
        self.store = ImageStore(self.path / IMAGES_DIRNAME)
        self._migrate()
        register_store(self.store)
        # One idle connection held for the History's lifetime. Why: when the *last*
        # connection to a WAL database closes, SQLite checkpoints and deletes the -wal file,
        # so every short-lived operation paid that (~1.9 ms per record instead of ~0.3 ms).
        # It holds no transaction, so it never blocks writers or checkpoints.
        self._keeper: sqlite3.Connection | None = sqlite3.connect(self.db_path, check_same_thread=False)
        self._keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
        self._finalizer = weakref.finalize(self, self._keeper.close)

    # --- connections ----------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One short-lived connection, always closed; autocommit, transactions explicit."""
        conn = sqlite3.connect(self.db_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error: all of a write or none."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
        with self._transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"{self.db_path} was written by a newer ideogram_nb (schema {version}, "
                    f"this one knows {len(MIGRATIONS)}); upgrade ideogram_nb to use it"
                )
            for migration in MIGRATIONS[version:]:
                migration(conn)
            if version < len(MIGRATIONS):
                conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    def close(self) -> None:
        """Close the idle connection (operations open their own; the History stays usable)."""
        self._finalizer()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------
    def new_run_id(self) -> str:
        return new_run_id()

    def record(self, rec: RunRecord) -> None:
        """Insert one row in one transaction. Every image it names must already be stored."""
        if rec.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {rec.status!r}")
        missing = [sha for sha in rec.image_shas() if sha not in self.store]
        if missing:
            raise ValueError(
                f"run {rec.run_id} names images that are not in the store: "
                + ", ".join(f"sha256:{s}" for s in missing)
            )
        row = self._row(rec)
        try:
            with self._transaction() as conn:
                self._insert(conn, row)
        except sqlite3.IntegrityError as exc:
            if "run_id" in str(exc):
                raise ValueError(f"run {rec.run_id} is already recorded") from None
            raise

    @staticmethod
    def _row(rec: RunRecord) -> dict[str, Any]:
        row = {name: getattr(rec, name) for name in _RECORD_COLUMNS}
        for name in _JSON_COLUMNS:
            row[name] = json.dumps(row[name], sort_keys=True, ensure_ascii=False)
        prompt = rec.spec.get("prompt")
        row["prompt"] = str(prompt) if prompt is not None else None
        row["search_text"] = _search_text(rec)
        return row

    @staticmethod
    def _insert(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
        names = ", ".join(_COLUMNS)
        marks = ", ".join(f":{c}" for c in _COLUMNS)
        conn.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", row)

    def set_label(self, run_id: str, label: str | None) -> None:
        """Label a run (None clears it). KeyError if there is no such run."""
        with self._transaction() as conn:
            cur = conn.execute("UPDATE runs SET label = ? WHERE run_id = ?", (label, run_id))
            if cur.rowcount == 0:
                raise KeyError(f"no run {run_id!r} in {self.path}")
            # keep the label searchable: rebuild the row's search text from its record
            rec = self._fetch_one(conn, "WHERE run_id = ?", (run_id,))
            assert rec is not None
            conn.execute("UPDATE runs SET search_text = ? WHERE run_id = ?", (_search_text(rec), run_id))

    # --- reading --------------------------------------------------------------------------
    @staticmethod
    def _where(
        endpoint: str | None = None,
        provider: str | None = None,
        status: str | None = None,
        text: str | None = None,
        label: str | None = None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (("endpoint", endpoint), ("provider", provider), ("status", status), ("label", label)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if text:
            clauses.append("search_text LIKE ? ESCAPE '\\'")
            args.append(_like_pattern(text))
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), args

    @staticmethod
    def _to_record(row: tuple[Any, ...]) -> RunRecord:
        """Rows come from our own schema, so skip the dataclass __init__: a third faster,
        which is what keeps listing thousands of runs well under 100 ms."""
        d = dict(zip(_RECORD_COLUMNS, row))
        for name in _JSON_COLUMNS:
            d[name] = _decode_json(d[name])
        rec = object.__new__(RunRecord)
        rec.__dict__.update(d)
        return rec

    @staticmethod
    def _to_lazy_records(rows: list[tuple[Any, ...]]) -> list[RunRecord]:
        """Rows of `_LIST_SELECT` as records whose JSON fields wait to be read
        (`RunRecord.__getattr__`): 10,000 runs list in well under 100 ms."""
        plain = _PLAIN_COLUMNS
        new = object.__new__
        out = []
        for row in rows:
            rec = new(RunRecord)
            d = rec.__dict__
            d.update(zip(plain, row, strict=False))  # stops before the JSON texts
            d["_row"] = row
            out.append(rec)
        return out

    def _fetch_one(self, conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> RunRecord | None:
        row = conn.execute(f"SELECT {_SELECT} FROM runs {where} LIMIT 1", args).fetchone()
        return self._to_record(row) if row is not None else None

    def runs(
        self,
        endpoint: str | None = None,
        provider: str | None = None,
        status: str | None = None,
        text: str | None = None,
        label: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[RunRecord]:
        """Runs matching every given filter; `text` searches prompts and descriptions."""
        where, args = self._where(endpoint, provider, status, text, label)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {_LIST_SELECT} FROM runs {where} ORDER BY created_at {order}, seq {order}"
        sql += " LIMIT ? OFFSET ?"
        args += [-1 if limit is None else int(limit), int(offset)]
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        return self._to_lazy_records(rows)

    def count(
        self,
        endpoint: str | None = None,
        provider: str | None = None,
        status: str | None = None,
        text: str | None = None,
        label: str | None = None,
    ) -> int:
        where, args = self._where(endpoint, provider, status, text, label)
        with self._connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0])

    def total_cost(
        self,
        endpoint: str | None = None,
        provider: str | None = None,
        status: str | None = None,
        text: str | None = None,
        label: str | None = None,
    ) -> float:
        """Sum of the recorded cost estimates. Failed and replayed calls record 0; a call
        whose outcome is unknown records its estimate (possibly billed: counted, to be safe)."""
        where, args = self._where(endpoint, provider, status, text, label)
        with self._connect() as conn:
            total = conn.execute(f"SELECT TOTAL(cost_usd) FROM runs {where}", args).fetchone()[0]
        return round(float(total), 10)

    def totals(
        self,
        endpoint: str | None = None,
        provider: str | None = None,
        status: str | None = None,
        text: str | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """`{"runs", "images", "cost_usd", "unknown", "unknown_usd"}` of the matching runs, in
        one query (browser header, CLI). `unknown`/`unknown_usd`: runs whose outcome is unknown
        and the part of `cost_usd` that is only *possibly* billed."""
        where, args = self._where(endpoint, provider, status, text, label)
        sql = (
            "SELECT COUNT(*), TOTAL(json_array_length(images)), TOTAL(cost_usd), "
            "TOTAL(status = 'unknown'), TOTAL(CASE WHEN status = 'unknown' THEN cost_usd END) "
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
        self, path: str | Path, runs: Iterable[Any] | None = None, title: str | None = None
    ) -> Path:
        """Write runs (default: all, oldest first) as a notebook that re-runs them.

        `runs` may hold run ids, `RunRecord`s or `Result`s. The notebook's client names no
        provider, so `IDEOGRAM_NB_PROVIDER=replay` re-executes it from this history: the same
        images, nothing sent. Outputs are small JPEG thumbnails carrying each image's record.
        """
        from ._export import export_notebook

        return export_notebook(self, path, runs, title)

    def to_jsonl(self, path: str | Path, runs: Iterable[Any] | None = None) -> Path:
        """Write runs as JSON lines, one `to_records()` dict per line, oldest first."""
        from ._export import to_jsonl

        return to_jsonl(self, path, runs)

    def find_replay(self, request_hash: str) -> RunRecord | None:
        """The newest successful run of this request whose images are all still stored.

        Replayed runs count too: they name the same stored images as the original.
        """
        sql = (
            f"SELECT {_SELECT} FROM runs WHERE request_hash = ? AND status = 'ok' "
            "ORDER BY created_at DESC, seq DESC"
        )
        with self._connect() as conn:
            rows = conn.execute(sql, (request_hash,)).fetchall()
        for row in rows:
            rec = self._to_record(row)
            if all(sha in self.store for sha in rec.image_shas()):
                return rec
        return None

    def find_unknown(self, request_hash: str) -> RunRecord | None:
        """The newest run of this request whose outcome is unknown (maybe made and billed),
        if no run of it succeeded since: what `run_many(resume=True)` must not send again."""
        sql = (
            f"SELECT {_SELECT} FROM runs WHERE request_hash = ? AND status IN ('ok', 'unknown') "
            "ORDER BY created_at DESC, seq DESC LIMIT 1"
        )
        with self._connect() as conn:
            row = conn.execute(sql, (request_hash,)).fetchone()
        rec = self._to_record(row) if row is not None else None
        return rec if rec is not None and rec.status == "unknown" else None

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
        out = [{**dict(zip(names, r)), "meta": json.loads(r[-1])} for r in rows]
        if latest:
            last = {(v["comparison_id"], v["pair"]): v for v in out}
            out = sorted(last.values(), key=lambda v: (v["created_at"], v["comparison_id"], v["pair"]))
        return out
