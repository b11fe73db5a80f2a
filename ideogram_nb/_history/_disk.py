"""What the disk and SQLite say about the history's files, as errors a person can act on.

Why one translator: a history lives for months and travels between machines, so its files
meet full disks, read-only copies, half-finished copies and damaged sectors. SQLite and the OS
report those in their own words ("database disk image is malformed", `[Errno 28]`), which
name neither the history nor a way out. Every place that touches the history's files passes
failures through here: the message names the file, says what is wrong and what to do, and
the class (`HistoryCorruptError`, `HistoryWriteError`, …) lets code tell them apart. Errors
that are not about the file (a constraint, a bug in our SQL) pass through unchanged.
"""

from __future__ import annotations

import errno
import shlex
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._errors import HistoryCorruptError, HistoryError, HistoryWriteError

#: SQLite primary result codes (the low byte of an extended code) that are about the file.
_CORRUPT = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_FULL = 13  # SQLITE_FULL
_READONLY = {3, 8, 14}  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN
_IOERR = 10  # SQLITE_IOERR
#: OS errors that mean "this cannot be written here", and what to do about each.
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NO_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}


def repair_command(home: Path) -> str:
    """The command line that repairs the history in `home`, ready to paste."""
    return f"python -m ideogram_nb history repair --home {shlex.quote(str(home))}"


def corrupt_error(db_path: Path, detail: str) -> HistoryCorruptError:
    home = db_path.parent
    return HistoryCorruptError(
        f"the history database {db_path} is damaged ({detail}). Nothing was deleted. Run "
        f"`{repair_command(home)}`: it copies every readable run into a fresh database, rebuilds "
        "what it can from the records inside the stored images, and keeps the damaged file beside it",
        path=db_path,
    )


def write_error(path: Path, exc: OSError | None, what: str = "write") -> HistoryWriteError:
    """`HistoryWriteError` for a failed write at `path` (`exc`: the OS error, if one)."""
    code = exc.errno if exc is not None else None
    if code in _NO_SPACE:
        advice = "no space left on the disk: free some space and try again"
    elif code in _NO_PERMISSION or isinstance(exc, PermissionError):
        advice = "permission denied (a read-only folder or disk?): make it writable, or write somewhere else"
    else:
        reason = exc.strerror if exc is not None and exc.strerror else str(exc) if exc is not None else "failed"
        advice = f"{reason}; check the disk and the folder's permissions"
    return HistoryWriteError(f"cannot {what} {path}: {advice}", path=path, errno=code)


def database_error(exc: sqlite3.Error, db_path: Path) -> Exception:
    """The history error for this SQLite failure, or `exc` itself when it is not about the file."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    # Python's own "Could not decode to UTF-8 column" means a garbled text cell: damage too
    if primary in _CORRUPT or any(t in text for t in ("malformed", "not a database", "decode to UTF-8")):
        if "decode to UTF-8" in text:  # the message quotes the garbled bytes: not worth showing
            text = "a text cell holds bytes that are not UTF-8"
        return corrupt_error(db_path, f"SQLite: {text}")
    if primary == _FULL:
        return write_error(db_path, OSError(errno.ENOSPC, text))
    if primary in _READONLY:
        return write_error(db_path, OSError(errno.EACCES, text), "open or write")
    if primary == _IOERR:
        return write_error(db_path, OSError(errno.EIO, f"SQLite: {text}"), "read or write")
    return exc


def os_error(exc: OSError, path: Path, what: str = "write") -> Exception:
    """The history error for an OS failure writing `path`, or `exc` when it is not about space
    or permission (a missing file is the caller's to explain)."""
    if isinstance(exc, HistoryError):
        return exc
    if exc.errno in _NO_SPACE or exc.errno in _NO_PERMISSION or isinstance(exc, PermissionError):
        return write_error(path, exc, what)
    return exc


@contextmanager
def sqlite_errors(db_path: Path) -> Iterator[None]:
    """Raise SQLite's errors about the database file as history errors (see `database_error`)."""
    try:
        yield
    except sqlite3.Error as exc:
        translated = database_error(exc, db_path)
        if translated is exc:
            raise
        raise translated from exc
