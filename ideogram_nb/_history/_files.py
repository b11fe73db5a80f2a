"""Atomic file writes, shared by the image store, embedded metadata and the exports.

Why its own module: the store, `_metadata.save_with_metadata` and the exporters all need the
same "old file or all of the new one" guarantee; with the writer in `_store`, `_metadata`
had to import it at call time to dodge an import cycle.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(target: Path, data: bytes, *, fsync: bool = False) -> None:
    """Write `data` at `target` so readers see the old file, or all of the new one.

    The file gets the user's usual permissions (umask), not `mkstemp`'s private 0600: a
    history folder and its exports are meant to be shared, committed and served.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = str(target.parent / f".tmp-{secrets.token_hex(8)}{target.suffix}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        try:
            os.replace(tmp, target)
        except PermissionError:
            # Windows refuses to replace a file another process has open; content-addressed
            # means that file already holds these very bytes.
            if not target.exists():
                raise
        if fsync:
            _fsync_dir(target.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); elsewhere the file's fsync is what we get."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
