"""Call a function once after a burst of events: the last event plus a quiet moment.

Why: a compare grid records one call per cell, often several a second, from worker threads;
redrawing a history page for each would redraw it again before the browser drew the last.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Debounced:
    """`debounced()` (any arguments, from any thread) runs `fn()` once, `delay_s` after the
    last call; `cancel()` drops a pending run."""

    def __init__(self, fn: Callable[[], Any], delay_s: float) -> None:
        self._fn = fn
        self.delay_s = delay_s
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __call__(self, *_args: Any) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay_s, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._timer is not None

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
        self._fn()
