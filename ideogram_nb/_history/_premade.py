"""Thumbnails of newly stored outputs, made ahead on one background thread.

Why ahead: a grid of 64 fresh 1024² PNGs spent most of a second decoding them; decoding each
once, after it is stored, takes that off the grid. Why in the background, and only once no
image has been stored for `THUMBNAIL_QUIET_S`: decoding on the client's path would add
~10 ms to every call, and decoding beside a busy caller slows it as much (two cores, one
interpreter lock); a real call waits seconds on the network, which is when the thread runs.
Why held in memory: the thread never writes files (nothing appears in the store behind a
reader's back, nothing is left half-written at exit); the first `ImageStore.thumbnail` call
that wants one writes it to the disk cache.

A reader takes a job not started yet and makes it at once, and waits (briefly) for the one
in progress; the thread works newest first, so a grid reading oldest first meets it once.
Anything dropped (a full backlog or shelf, the process ending) is simply made on first use,
as for stores written before thumbnails were made ahead.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from .._config import PREMADE_THUMBNAILS, THUMBNAIL_BACKLOG, THUMBNAIL_QUIET_S, THUMBNAIL_READY_MAX
from .._thumbnails import make_thumbnails

Key = tuple[str, str]  # (store root, sha256 hex)
Made = dict[tuple[int, int], bytes]  # (px, quality) -> JPEG

#: How long a reader waits for the thumbnail the thread is making before making its own.
_WAIT_S = 2.0


class Premade:
    """The backlog (stored files waiting), the shelf (thumbnails made, not yet asked for).

    The backlog holds paths, not bytes: a burst of big PNGs costs no memory, and reading a
    file just written comes from the page cache."""

    def __init__(
        self, sizes: Sequence[tuple[int, int]] = PREMADE_THUMBNAILS, quiet_s: float = THUMBNAIL_QUIET_S
    ) -> None:
        self.sizes = tuple(sizes)
        self.quiet_s = quiet_s
        self._lock = threading.Condition()
        self._backlog: OrderedDict[Key, Path] = OrderedDict()
        self._busy: dict[Key, threading.Event] = {}
        self._shelf: OrderedDict[Key, Made] = OrderedDict()
        self._worker: threading.Thread | None = None
        self._last_submit = 0.0

    def submit(self, key: Key, path: Path) -> None:
        """Queue the thumbnails of the image stored at `path`; returns at once."""
        with self._lock:
            self._last_submit = time.monotonic()
            if key in self._backlog or key in self._busy or key in self._shelf:
                return
            if len(self._backlog) >= THUMBNAIL_BACKLOG:
                return  # made on first use instead
            self._backlog[key] = path
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="ideogram_nb-thumbnails", daemon=True)
                self._worker.start()

    def claim(self, key: Key, size: tuple[int, int]) -> bytes | None:
        """The thumbnail of `key` at `size` (px, quality): made ahead, made now by the caller
        if still queued, or waited for if in progress; None if there is none. Taken: the
        caller writes it to the disk cache (the other sizes stay on the shelf until asked)."""
        with self._lock:
            found = self._take(key, size)
            if found is not None:
                return found
            path = self._backlog.pop(key, None)
            if path is None:
                in_progress = self._busy.get(key)
            else:
                mine = self._busy[key] = threading.Event()
        if path is None:
            if in_progress is None or not in_progress.wait(_WAIT_S):
                return None
            with self._lock:
                return self._take(key, size)
        made = None
        try:
            made = self._make(path)
        finally:
            with self._lock:
                self._busy.pop(key, None)
                if made is not None:
                    self._shelve(key, made)
                    found = self._take(key, size)
            mine.set()
        return found

    def _take(self, key: Key, size: tuple[int, int]) -> bytes | None:
        """Pop one size off the shelf (lock held)."""
        made = self._shelf.get(key)
        if made is None or size not in made:
            return None
        jpeg = made.pop(size)
        if not made:
            del self._shelf[key]
        return jpeg

    def _shelve(self, key: Key, made: Made) -> None:
        """Put made thumbnails on the shelf, dropping the oldest past the limit (lock held)."""
        self._shelf[key] = made
        while len(self._shelf) > THUMBNAIL_READY_MAX:
            self._shelf.popitem(last=False)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the backlog is empty and nothing is being made (tests, benchmarks)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        with self._lock:
            return not self._backlog and not self._busy

    def _make(self, path: Path) -> Made | None:
        try:
            return dict(zip(self.sizes, make_thumbnails(path.read_bytes(), self.sizes), strict=True))
        except Exception:  # noqa: BLE001 - gone, or not an image PIL reads: made (and raised) on first use
            return None

    def _next_job(self) -> tuple[Key, Path] | None:
        """The newest job once storing has been quiet for `quiet_s`; None when there is none."""
        with self._lock:
            while self._backlog:
                quiet_for = time.monotonic() - self._last_submit
                if quiet_for >= self.quiet_s:
                    key, path = self._backlog.popitem(last=True)
                    self._busy[key] = threading.Event()
                    return key, path
                self._lock.wait(self.quiet_s - quiet_for)
            self._worker = None
            return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            key, path = job
            made = self._make(path)
            with self._lock:
                event = self._busy.pop(key)
                if made is not None:
                    self._shelve(key, made)
            event.set()


#: One backlog for every store of the process.
PREMADE = Premade()
