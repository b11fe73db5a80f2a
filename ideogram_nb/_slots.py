"""An image-weighted semaphore: the service limits in-flight *images*, not requests.

Why not `threading.Semaphore`: one 8-image call must take 8 of the 10 slots at once, and a
call larger than the whole limit must still run (alone) instead of waiting forever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ImageSlots:
    """At most `limit` images in flight; `hold(n)` blocks until `n` slots are free."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit={limit!r}: must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self.max_in_flight = 0
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, n: int) -> Iterator[None]:
        need = max(1, min(n, self.limit))  # larger than the limit: wait until it runs alone
        with self._cond:
            while self.in_flight + need > self.limit:
                self._cond.wait()
            self.in_flight += need
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= need
                self._cond.notify_all()
