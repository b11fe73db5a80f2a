"""Progress of a batch, shown in place: one line that updates, in Jupyter or a terminal.

Why not a widget: the core never imports ipywidgets. In a kernel we update one display
(IPython's display handle); elsewhere we rewrite one stderr line.
"""

from __future__ import annotations

import sys
from typing import Any


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """`update(done, result)` after each finished call; `close()` at the end."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.failed = 0
        self.cost = 0.0
        self._handle: Any = None
        self._kernel = _in_kernel()

    def line(self, done: int) -> str:
        bar_width = 20
        filled = int(bar_width * done / self.total) if self.total else bar_width
        bar = "█" * filled + "░" * (bar_width - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{bar} {done}/{self.total} calls{failed}, ${self.cost:.2f}"

    def update(self, done: int, result: Any) -> None:
        if getattr(result, "error", None) is not None:
            self.failed += 1
        self.cost += float(getattr(result, "cost_usd", 0.0) or 0.0)
        text = self.line(done)
        if self._kernel:
            from IPython.display import display

            if self._handle is None:
                # IPython leaves display() unannotated; with display_id=True it returns a DisplayHandle
                self._handle = display({"text/plain": text}, raw=True, display_id=True)  # type: ignore[no-untyped-call]
            else:
                self._handle.update({"text/plain": text}, raw=True)
        else:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()

    def close(self) -> None:
        if not self._kernel and self.total:
            sys.stderr.write("\n")
            sys.stderr.flush()
