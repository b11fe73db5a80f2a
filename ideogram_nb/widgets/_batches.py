"""The Studio's results column: one batch per run, newest first, each with its own header.

Why batches and not one long grid: a user compares runs ("was the last one better?"), so
each run keeps its prompt, time, cost and provider next to its images; the newest goes on
top, where the eye is after pressing Run. Each batch is an ordinary `ResultGrid`, so every
per-image action works the same as anywhere else, and "Copy settings" shows the Python that
makes that run again (`Spec.to_python`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any

import ipywidgets as W

from .._callbacks import Callbacks
from ._result_grid import ResultGrid

ActionCallback = Callable[[str, Any], Any]
PROMPT_CHARS = 90


def batch_title(result: Any, when: datetime | None = None) -> str:
    """The prompt, then '14:02:31 · $0.12 · offline · generate' on a line of its own (HTML)."""
    spec = getattr(result, "spec", None)
    prompt = str(getattr(spec, "prompt", "") or "").strip() if spec is not None else ""
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[: PROMPT_CHARS - 1] + "…"
    when = when or datetime.now()
    endpoint = getattr(type(spec), "endpoint", "") if spec is not None else ""
    facts = [when.strftime("%H:%M:%S"), f"${result.cost_usd:.2f}", str(result.provider), endpoint]
    head = f"<div style='font-weight:600'>{escape(prompt)}</div>" if prompt else ""
    return (
        head
        + f"<div style='color:#555;font-size:90%;white-space:nowrap'>{escape(' · '.join(f for f in facts if f))}</div>"
    )


class Batch(W.VBox):
    """One run: a header (prompt, time, cost, provider), "Copy settings", and its grid.

    Made with `result=None` it is a run on its way: placeholder tiles shaped like the images
    to come, and the elapsed time in the header; `finish(result)` fills it in.
    """

    def __init__(self, result: Any, store: Any = None, *, pending: Any = None, provider: str = "") -> None:
        super().__init__(layout=W.Layout(border="1px solid #d0d0d0", padding="6px", margin="0 0 10px 0"))
        self.result = result
        self.pending_spec = pending
        self.provider = provider
        self.started = time.monotonic()
        self.header = W.HTML(layout=W.Layout(flex="1 1 auto"))
        self.copy_button = W.Button(
            description="Copy settings", icon="code", tooltip="Show the Python that makes this run again",
            layout=W.Layout(width="auto", flex="0 0 auto"),
        )  # fmt: skip
        self.code = W.Textarea(layout=W.Layout(width="100%", display="none"), rows=3)
        self.copy_button.on_click(lambda _b: self.toggle_code())
        self.grid = ResultGrid(store=store)
        if result is not None:
            self.finish(result)
        else:
            self.copy_button.layout.display = "none"
            self.grid.show_pending(pending.image_count, pending)
            self.tick()
        self.children = (
            W.HBox([self.header, self.copy_button], layout=W.Layout(align_items="center", width="100%")),
            self.code,
            self.grid,
        )

    @property
    def is_pending(self) -> bool:
        return self.result is None

    def tick(self) -> None:
        """Redraw the elapsed time of a run on its way."""
        if self.result is None:
            seconds = time.monotonic() - self.started
            name = type(self.pending_spec).__name__
            self.header.value = f"<i>{escape(name)} running on {escape(self.provider)}… {seconds:.0f} s</i>"

    def finish(self, result: Any) -> None:
        self.result = result
        self.header.value = batch_title(result)
        self.copy_button.layout.display = None
        self.grid.add(result)

    def settings_code(self) -> str:
        """The Python that makes this run again (the spec as sent, seed included if set)."""
        spec = self.result.spec
        return "import ideogram_nb as ig\n\n" + spec.to_python(var="spec") + "\nresult = ig.Client().run(spec)"

    def toggle_code(self) -> None:
        shown = self.code.layout.display != "none"
        if not shown:
            self.code.value = self.settings_code()
            self.code.rows = self.code.value.count("\n") + 1
        self.code.layout.display = "none" if shown else None


class Batches(W.VBox):
    """Every run of the Studio's forms, newest first. `batches.add(result)` may be called
    from a worker thread; `on_action(cb)` receives `(action, spec)` from any batch's grid."""

    children: tuple[W.Widget, ...]  # the trait VBox declares (ipywidgets has no types)

    def __init__(self, store: Any = None) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.store = store
        self.items: list[Batch] = []
        self.empty = W.HTML("<i>Results appear here, newest first.</i>")
        self._actions = Callbacks()
        self._lock = threading.RLock()
        self._pending: dict[str, Batch] = {}
        self._ticker: threading.Event | None = None
        self.children = (self.empty,)

    def on_action(self, callback: ActionCallback, remove: bool = False) -> None:
        self._actions.register(callback, remove=remove)

    @property
    def grids(self) -> list[ResultGrid]:
        """Each batch's grid, newest first."""
        return [b.grid for b in self.items]

    def start(self, key: str, spec: Any, provider: str) -> Batch:
        """A run of `spec` went out (from the form `key`): a batch on top with placeholders."""
        batch = Batch(None, self.store, pending=spec, provider=provider)
        with self._lock:
            self._pending[key] = batch
            self._put(batch)
        self._start_ticker()
        return batch

    def stop(self, key: str) -> None:
        """The run from `key` ended without a result (refused, failed): its placeholders go."""
        with self._lock:
            batch = self._pending.pop(key, None)
            if batch is None:
                return
            self.items = [b for b in self.items if b is not batch]
            self.children = tuple(self.items) or (self.empty,)
        batch.close()

    def add(self, result: Any, key: str | None = None) -> Batch:
        """Show `result`: in the batch its run started (`key`, default its endpoint), else new."""
        key = key if key is not None else getattr(type(result.spec), "endpoint", "")
        with self._lock:
            batch = self._pending.pop(key, None)
        if batch is not None:
            batch.finish(result)
            return batch
        batch = Batch(result, self.store)
        with self._lock:
            self._put(batch)
        return batch

    def _put(self, batch: Batch) -> None:
        batch.grid.on_action(self._relay)
        self.items.insert(0, batch)
        self.children = tuple(self.items)

    def _start_ticker(self) -> None:
        if self._ticker is not None:
            return
        stop = self._ticker = threading.Event()

        def tick() -> None:
            while not stop.wait(1.0):
                with self._lock:
                    waiting = list(self._pending.values())
                if not waiting:
                    break
                for batch in waiting:
                    batch.tick()
            self._ticker = None

        threading.Thread(target=tick, name="ideogram-nb-batches-ticker", daemon=True).start()

    def _relay(self, action: str, spec: Any) -> None:
        self._actions(action, spec)
