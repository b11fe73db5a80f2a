"""The history's SQLite file: short-lived connections, one long-lived writer, migrations.

Why apart from `History`: how the file is opened, written and upgraded is its own concern
(WAL, busy timeouts, a writer connection per process that survives a repaired file being
swapped in, SQLite's errors turned into history errors), and `History` only asks for a
connection or a transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .._config import SQLITE_BUSY_TIMEOUT_MS
from .._errors import HistoryVersionError
from ._disk import sqlite_errors
from ._schema import MIGRATIONS


class Connections:
    """Connections to one history database file at `db_path`."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        # One writer connection held while this object lives (`History` opens it once the
        # schema is migrated): `History.record` writes on it (one thread
        # at a time, under `_write_lock`); between records it holds no transaction, so it
        # never blocks other writers or checkpoints. Held open, it also keeps the -wal file:
        # when the *last* connection to a WAL database closes, SQLite checkpoints and deletes
        # it, so every short-lived operation paid that (~1.9 ms per record instead of ~0.3 ms).
        self._write_lock = threading.Lock()
        #: (pid, file id, connection): a forked child never uses (or closes) its parent's
        #: connection, and a database file swapped in under the same name (`history repair`)
        #: gets a connection of its own (the old one is only closed with the History).
        self._writers: list[tuple[int, tuple[int, int] | None, sqlite3.Connection]] = []
        self._finalizer = weakref.finalize(self, _close_own, self._writers)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One short-lived connection, always closed; autocommit, transactions explicit.
        SQLite's errors about the file (damaged, full, read-only) leave as history errors."""
        with sqlite_errors(self.db_path):
            conn = sqlite3.connect(self.db_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
                conn.execute("PRAGMA synchronous = NORMAL")
                yield conn
            finally:
                conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error: all of a write or none."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def writer(self) -> sqlite3.Connection | None:
        """This process's long-lived connection to the file now at `db_path` (opened on first
        use); None once closed."""
        pid = os.getpid()
        file_id = _file_id(self.db_path)
        for owner, opened, conn in self._writers:
            if owner == pid and opened == file_id and file_id is not None:
                return conn
        if not self._finalizer.alive:
            return None
        with sqlite_errors(self.db_path):
            conn = sqlite3.connect(
                self.db_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
            except BaseException:
                conn.close()
                raise
        self._writers.append((pid, _file_id(self.db_path), conn))
        return conn

    def write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """`work(conn)` on the long-lived connection, one thread at a time, in autocommit:
        SQLite makes each lone statement its own transaction (all of it or none), so a row
        costs one statement instead of BEGIN, the statement and COMMIT. `work` must keep
        every statement whole on its own. A connection that cannot finish (a statement
        fails and leaves a transaction open) is closed and dropped, so it never keeps the
        write lock."""
        with sqlite_errors(self.db_path), self._write_lock:
            conn = self.writer()
            if conn is None:  # closed: the History stays usable on short-lived connections
                with self.transaction() as short:
                    work(short)
                return
            try:
                work(conn)
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except BaseException:
                        self._writers[:] = [w for w in self._writers if w[2] is not conn]
                        conn.close()
                raise

    def migrate(self) -> None:
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise HistoryVersionError(
                    f"{self.db_path} was written by a newer ideogram_nb (schema version {version}; this "
                    f"one knows {len(MIGRATIONS)}). It was left untouched: upgrade ideogram_nb "
                    "(pip install -U ideogram_nb) to use it",
                    path=self.db_path, found=version, known=len(MIGRATIONS),
                )  # fmt: skip
            for migration in MIGRATIONS[version:]:
                migration(conn)
            if version < len(MIGRATIONS):
                conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    def close(self) -> None:
        """Close the long-lived connection (the database stays usable: every operation then
        opens its own)."""
        with self._write_lock:
            self._finalizer()


def _close_own(connections: list[tuple[int, tuple[int, int] | None, sqlite3.Connection]]) -> None:
    """Close the connections this process opened; a forked child leaves its parent's alone."""
    pid = os.getpid()
    for owner, _, conn in connections:
        if owner == pid:
            conn.close()
    connections.clear()


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None if there is none: tells a database file
    swapped in under the same name from the one a connection holds open."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
