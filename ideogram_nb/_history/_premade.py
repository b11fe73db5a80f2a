"""Thumbnails of newly stored outputs, made ahead on one background thread.

Why ahead: a grid of 64 fresh 1024² PNGs spent most of a second decoding them; decoding each
once, as it is stored, takes that off the grid. Why in the background: decoding on the
client's path would add ~10 ms to every call. Why held in memory: the thread never writes
files (nothing appears in the store behind a reader's back, nothing is left half-written at
exit); the first `ImageStore.thumbnail` call that wants one writes it to the disk cache.

The thread runs at the lowest priority where that is per thread (Linux, nice 19): it takes a
spare core, not the caller's. A reader never waits for it: a job not started yet is taken
and made at once by the reader; the one in progress is made again by the reader rather than
waited for (a low-priority thread is slow on a busy machine). Anything dropped (a full
backlog, a full shelf, the process ending) is simply made on first use, as for stores
written before thumbnails were made ahead.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence

from .._config import PREMADE_THUMBNAILS, THUMBNAIL_BACKLOG, THUMBNAIL_READY_MAX
from .._thumbnails import make_thumbnails

Key = tuple[str, str]  # (store root, sha256 hex)
Made = dict[tuple[int, int], bytes]  # (px, quality) -> JPEG


class Premade:
    """The backlog (stored bytes waiting), the shelf (thumbnails made, not yet asked for)."""

    def __init__(self, sizes: Sequence[tuple[int, int]] = PREMADE_THUMBNAILS) -> None:
        self.sizes = tuple(sizes)
        self._lock = threading.Lock()
        self._backlog: OrderedDict[Key, bytes] = OrderedDict()
        self._busy: set[Key] = set()
        self._shelf: OrderedDict[Key, Made] = OrderedDict()
        self._worker: threading.Thread | None = None

    def submit(self, key: Key, data: bytes) -> None:
        """Queue a stored image's thumbnails; returns at once."""
        with self._lock:
            if key in self._backlog or key in self._busy or key in self._shelf:
                return
            if len(self._backlog) >= THUMBNAIL_BACKLOG:
                return  # made on first use instead
            self._backlog[key] = data
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="ideogram_nb-thumbnails", daemon=True)
                self._worker.start()

    def claim(self, key: Key) -> Made | None:
        """The thumbnails of `key`, made ahead or (if still queued) made now by the caller;
        None if there are none (not queued, or in progress). Taken: the caller writes them to
        the disk cache."""
        with self._lock:
            made = self._shelf.pop(key, None)
            if made is not None:
                return made
            data = self._backlog.pop(key, None)
            if data is None:
                return None
            self._busy.add(key)
        try:
            return self._make(data)
        finally:
            with self._lock:
                self._busy.discard(key)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the backlog is empty and nothing is being made (tests, benchmarks)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        with self._lock:
            return not self._backlog and not self._busy

    def _make(self, data: bytes) -> Made | None:
        try:
            return dict(zip(self.sizes, make_thumbnails(data, self.sizes), strict=True))
        except Exception:  # noqa: BLE001 - not an image PIL reads: made (and raised) on first use
            return None

    def _run(self) -> None:
        _idle_priority()
        while True:
            with self._lock:
                if not self._backlog:
                    self._worker = None
                    return
                key, data = self._backlog.popitem(last=False)
                self._busy.add(key)
            made = self._make(data)
            with self._lock:
                self._busy.discard(key)
                if made is not None:
                    self._shelf[key] = made
                    while len(self._shelf) > THUMBNAIL_READY_MAX:
                        self._shelf.popitem(last=False)


def _idle_priority() -> None:
    """Lowest priority (nice 19) for the calling thread, where that is per thread (Linux):
    the caller's work comes first, yet on a busy machine the thread is slowed, not starved."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere it would lower the whole process
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


#: One backlog for every store of the process.
PREMADE = Premade()
