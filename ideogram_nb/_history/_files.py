"""Atomic file writes, shared by the image store, embedded metadata and the exports.

Why its own module: the store, `_metadata.save_with_metadata` and the exporters all need the
same "old file or all of the new one" guarantee; with the writer in `_store`, `_metadata`
had to import it at call time to dodge an import cycle.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from .._config import EXPORT_DEFAULT_STEM
from ._disk import os_error

Buffer = bytes | bytearray | memoryview


def write_atomic(target: Path, data: Buffer | Sequence[Buffer], *, fsync: bool = False) -> None:
    """`_write_atomic`, with a full disk or a folder that refuses writing raised as a
    `HistoryWriteError` naming `target` (and saying what to do), not as a bare `OSError`."""
    try:
        _write_atomic(target, data, fsync=fsync)
    except OSError as exc:
        translated = os_error(exc, target)
        if translated is exc:
            raise
        raise translated from exc


def _write_atomic(target: Path, data: Buffer | Sequence[Buffer], *, fsync: bool = False) -> None:
    """Write `data` (or a sequence of pieces, one after another) at `target` so readers see
    the old file, or all of the new one.

    With `fsync`, the bytes are durable when this returns: one fsync of the file, before the
    rename, so a name never points at a partial file, even after a power cut. Folders made
    here (a new shard) get their entries synced too, which is rare: stores make their shards
    up front. The rename itself is not synced: that second fsync per image cost ~0.2 ms, a
    tenth of the client's own time per call (benchmarks/bench_client.py). Any later fsync
    on the disk (SQLite's, when the row naming this file becomes durable) commits it on
    journaling file systems (ext4, XFS); where it does not and power fails first, the
    synced bytes wait under their `.tmp-` name, and `history repair` puts them back under
    the name their hash gives (content-addressed).

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
            for piece in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
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
            sync_new_folders(made)
    finally:
        if not placed:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def export_target(path: str | Path, suffix: str, *, add_suffix: bool, overwrite: bool) -> Path:
    """The file an export given `path` writes, checked before any work is done.

    A folder (an existing one, or a path ending in a separator) gets `runs<suffix>` inside
    it: writing *beside* a folder the user named surprised everyone. With `add_suffix`, a
    name without `suffix` gets it. An existing file is replaced only with `overwrite`: an
    export is often named like the notebook it came from, and silently replacing that loses
    work (`FileExistsError` otherwise, naming the file and the way to replace it).
    """
    text = os.fspath(path)
    target = Path(text).expanduser()
    if target.is_dir() or text.endswith(("/", os.sep)):
        target = target / f"{EXPORT_DEFAULT_STEM}{suffix}"
    elif add_suffix and target.suffix.lower() != suffix:
        target = target.with_name(target.name + suffix)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass overwrite=True (command line: --overwrite) to replace it")
    return target


def _write_all(fd: int, data: Buffer) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def make_folders(folder: Path) -> list[Path]:
    """`folder.mkdir(parents=True, exist_ok=True)`, returning the folders it made (outermost
    first). The usual case, a new shard in an existing store, is one `mkdir`."""
    try:
        os.mkdir(folder)
    except FileNotFoundError:
        made = make_folders(folder.parent)
        return made + make_folders(folder)
    except FileExistsError:
        if not folder.is_dir():
            raise
        return []
    return [folder]


def sync_new_folders(made: list[Path]) -> None:
    """Make the entries of folders `make_folders` made durable: each in its parent."""
    for new in reversed(made):  # deepest first
        _fsync_dir(new.parent)


def sync_folder(folder: Path) -> None:
    """Make the entries just made in `folder` durable (files renamed or folders made in it)."""
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); elsewhere the file's fsync is what we get."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
