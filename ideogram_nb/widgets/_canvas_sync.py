"""The two places where we work around ipycanvas: re-sending state to a late browser, and batching.

Why this module exists: an ipycanvas canvas keeps no state in the browser. A client that
connects later (Voilà, a page reload, a second view) sees it blank, and - worse - the shared
canvas manager still believes the browser knows which canvas it is drawing on, so it skips the
`switchCanvas` command and the browser's first draw commands fail. `shared/TESTING.md`
("ipycanvas in Voilà or after a page reload") records the fix that was shown to work:
forget the manager's current canvas, then redraw everything from Python-side state. That
touches a private attribute, so it lives here, alone, and is covered by the browser test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ipycanvas import hold_canvas


def forget_current_canvas(canvas: Any) -> None:
    """Make the next draw command re-send its target canvas (private ipycanvas state).

    ipycanvas 0.13-0.14: `_CanvasManager._current_canvas` caches the last target. If a
    future ipycanvas drops the attribute this does nothing, and the browser test will say so.
    """
    manager = getattr(canvas, "_canvas_manager", None)
    if manager is not None and hasattr(manager, "_current_canvas"):
        manager._current_canvas = None


def redraw_when_client_ready(canvas: Any, redraw: Callable[[], None]) -> Callable[[], None]:
    """Call `redraw()` whenever a browser view of `canvas` becomes ready; returns the callback
    (pass it to `canvas.on_client_ready(cb, remove=True)` to unregister)."""

    def _on_client_ready() -> None:
        forget_current_canvas(canvas)
        redraw()

    canvas.on_client_ready(_on_client_ready)
    return _on_client_ready


@contextmanager
def batched() -> Iterator[None]:
    """`ipycanvas.hold_canvas()`, but an exception inside still flushes and turns caching off.

    ipycanvas's own context manager has no try/finally: one failing draw would leave the
    global manager caching forever, and every canvas in the kernel would stop updating.
    """
    held = hold_canvas()
    held.__enter__()
    try:
        yield
    finally:
        held.__exit__(None, None, None)
