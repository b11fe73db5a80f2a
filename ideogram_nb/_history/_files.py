"""Atomic file writes, shared by the image store, embedded metadata and the exports.

Why its own module: the store, `_metadata.save_with_metadata` and the exporters all need the
same "old file or all of the new one" guarantee; with the writer in `_store`, `_metadata`
had to import it at call time to dodge an import cycle.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

Buffer = bytes | bytearray | memoryview


def write_atomic(target: Path, data: Buffer | list[Buffer], *, fsync: bool = False) -> None:
    """Write `data` (or the pieces in a list, one after another) at `target` so readers see
    the old file, or all of the new one.

    With `fsync`, the file and its name are durable when this returns: the file is synced
    before the rename (a name never points at a partial file, even after a power cut), then
    its folder, then the parent of any folder made here (a new shard's own entry).

    The file gets the user's usual permissions (umask), not `mkstemp`'s private 0600: a
    history folder and its exports are meant to be shared, committed and served.
    """
    folder = target.parent
    tmp = os.path.join(folder, f".tmp-{secrets.token_hex(8)}{target.suffix}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    made: list[Path] = []
    try:
        fd = os.open(tmp, flags, 0o666)
    except FileNotFoundError:  # the folder is new (a shard's first image): the only mkdir
        made = make_folders(folder) or [folder]  # [folder]: another thread made it just now
        fd = os.open(tmp, flags, 0o666)
    placed = False
    try:
        try:
            for piece in data if isinstance(data, list) else [data]:
                _write_all(fd, piece)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.replace(tmp, target)
            placed = True
        except PermissionError:
            # Windows refuses to replace a file another process has open; content-addressed
            # means that file already holds these very bytes.
            if not target.exists():
                raise
        if fsync:
            _fsync_dir(folder)
            sync_new_folders(made)
    finally:
        if not placed:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def _write_all(fd: int, data: Buffer) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def make_folders(folder: Path) -> list[Path]:
    """`folder.mkdir(parents=True, exist_ok=True)`, returning the folders that were missing
    (outermost first). One made by another thread at the same moment counts as missing too:
    its entry may not be synced yet, so whoever needs it durable syncs it."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
    return missing[::-1]


def sync_new_folders(made: list[Path]) -> None:
    """Make the entries of folders `make_folders` made durable: each in its parent."""
    for new in reversed(made):  # deepest first
        _fsync_dir(new.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); elsewhere the file's fsync is what we get."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
