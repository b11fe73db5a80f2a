"""Listener lists with the ipywidgets idiom: `on_x(callback)` adds, `on_x(callback, remove=True)`
takes it away again.

Why one class: every widget and the comparison had its own list, most could not remove a
listener (a closed view kept being called), and each decided differently what a listener's
exception does. Here: listeners run in the order added, each at most once per event, and an
exception in one is reported on stderr without stopping the others -- a broken view must
not stop a paid grid or lose a result.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any


class Callbacks:
    """An ordered set of callables, safe to change from one thread while another calls them."""

    def __init__(self) -> None:
        self._items: list[Callable[..., Any]] = []
        self._lock = threading.Lock()

    def register(self, callback: Callable[..., Any], remove: bool = False) -> None:
        """Add `callback` (once), or remove it with `remove=True` (no error if absent)."""
        if not callable(callback):
            raise TypeError(f"a callback must be callable, not {callback!r}")
        with self._lock:
            if remove:
                self._items = [cb for cb in self._items if cb != callback]
            elif callback not in self._items:
                self._items = [*self._items, callback]

    def __call__(self, *args: Any) -> None:
        """Call every listener with `args`; report (not raise) what one of them raises."""
        for callback in self._items:  # a snapshot: the list is replaced, never mutated
            try:
                callback(*args)
            except Exception:
                traceback.print_exc(file=sys.stderr)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        """The listeners now (a snapshot), for callers that handle failures their own way."""
        return iter(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Callbacks({len(self._items)})"
