"""The form's controller: what each field should say, what a run costs, and running it.

Why apart from the widgets: every decision a form makes (refuse a value and keep the last
good one, which problems to show where, the cost line, one run at a time, errors as
messages) is plain Python here, testable without a browser. `SpecForm` only draws it.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import ideogram_nb as ig

from .._callbacks import Callbacks

ResultCallback = Callable[[Any], Any]
StateCallback = Callable[[], Any]


#: A rule that starts with one of these reads on after the field's name: "The mask covers …".
_VERBS = {"is", "are", "must", "cannot", "can", "covers", "has", "have", "should", "may", "was", "were", "needs"}


def field_label(name: str) -> str:
    """'style_reference_images' → 'style reference images' (how a sentence names a field)."""
    return name.replace("_", " ")


def rule_sentence(field: str, rule: str) -> str:
    """One problem as a sentence a person reads: "The prompt is empty.", "The mask covers
    3.5 % of the image; paint at least 10 %." Never the value's repr: the field shows it."""
    label = field_label(field)
    rule = rule.strip().rstrip(".")
    if rule == "required" or rule.startswith("required: must not be blank"):
        return f"The {label} is empty." if rule != "required" else f"The {label} is required."
    first = rule.split(" ", 1)[0]
    if first in _VERBS:
        return f"The {label} {rule}."
    return f"{label[:1].upper()}{label[1:]}: {rule}."


def problem_sentence(problem: Any) -> str:
    return rule_sentence(problem.field, problem.rule)


def error_message(exc: BaseException) -> str:
    """What a user reads for an error: the message, never a traceback."""
    if isinstance(exc, ig.SpecError):
        return "Not sent: " + " ".join(problem_sentence(p) for p in exc.problems)
    if isinstance(exc, ig.APIError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def refusal_message(name: str, value: Any, exc: BaseException) -> str:
    """Why a value was refused, in the field's own words (without the `field: ` prefix)."""
    problems = getattr(exc, "problems", None)
    rule = problems[0].rule if problems else str(exc)
    rule = rule.removeprefix(f"{name}: ")
    shown = repr(value) if not isinstance(value, (bytes, bytearray)) else f"<{len(value)} bytes>"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} refused: {rule}"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == []


class FormController:
    """State behind a `SpecForm`. `client` is created lazily (`ig.Client()`) on first run."""

    def __init__(self, spec: ig.Spec, client: ig.Client | None = None) -> None:
        self.spec = spec
        self._client = client
        self.rejected: dict[str, str] = {}
        self.touched: set[str] = set()
        self.attempted = False
        self.running: cf.Future[Any] | None = None
        self.last_error: str | None = None
        #: The last error was a refusal before sending ("Not sent"): any edit clears it.
        self.error_before_sending = False
        self.last_result: Any = None
        self._result_callbacks = Callbacks()
        self._state_callbacks = Callbacks()
        self._lock = threading.Lock()
        self.started_at = 0.0
        #: The service's own price for the spec as it was when asked: (request key, Quote).
        self._quote: tuple[str, Any] | None = None

    # --- the client -----------------------------------------------------------------------------
    @property
    def client(self) -> ig.Client:
        if self._client is None:
            self._client = ig.Client()
        return self._client

    @client.setter
    def client(self, client: ig.Client | None) -> None:
        self._client = client

    @property
    def has_client(self) -> bool:
        return self._client is not None

    # --- editing --------------------------------------------------------------------------------
    def input_changed(self) -> None:
        """The user changed something: a "Not sent" message about the old input is stale now
        (the live field marks say what is still wrong). An error from the service stays."""
        if self.error_before_sending and self.last_error is not None:
            self.last_error = None
            self.error_before_sending = False
            self._notify_state()

    def assign(self, name: str, value: Any) -> bool:
        """Set a field from the form. A refused value leaves the spec as it was and is
        remembered as that field's error; returns whether the value was taken."""
        self.touched.add(name)
        try:
            setattr(self.spec, name, value)
        except (ValueError, TypeError) as exc:  # SpecError, ImageInputError, param's own checks
            self.rejected[name] = refusal_message(name, value, exc)
            return False
        self.rejected.pop(name, None)
        return True

    def reject(self, name: str, message: str) -> None:
        """The control's text could not even be parsed (e.g. a seed of "abc")."""
        self.touched.add(name)
        self.rejected[name] = message

    def forget_rejection(self, name: str) -> None:
        self.rejected.pop(name, None)

    # --- what to show ---------------------------------------------------------------------------
    def _shown(self, name: str) -> bool:
        """Problems of an untouched empty field wait for the first Run: a fresh form is not red."""
        return self.attempted or name in self.touched or not _is_empty(getattr(self.spec, name, None))

    def field_messages(self, fields: Iterable[str]) -> dict[str, tuple[str, str]]:
        """field → (level, text) for every field that has something to say."""
        fields = list(fields)
        out: dict[str, tuple[str, str]] = {}
        errors: dict[str, list[str]] = {}
        for p in self._safe(self.spec.problems):
            if p.field in fields and self._shown(p.field):
                errors.setdefault(p.field, []).append(p.rule)
        for name, rules in errors.items():
            out[name] = ("error", " ".join(rule_sentence(name, r) for r in rules))
        for name, text in self.rejected.items():
            if name in fields:
                out[name] = ("error", text)
        for p in self._safe(self.spec.warnings):
            if p.field in fields and p.field not in out:
                out[p.field] = ("warning", problem_sentence(p))
        return out

    def general_messages(self, fields: Iterable[str]) -> list[tuple[str, str]]:
        """Problems naming no field on the form, then the last run's error."""
        fields = set(fields)
        out = [
            ("error", problem_sentence(p))
            for p in self._safe(self.spec.problems)
            if p.field not in fields and self.attempted
        ]
        if self.last_error:
            out.append(("error", self.last_error))
        return out

    @staticmethod
    def _safe(method: Callable[[], list[Any]]) -> list[Any]:
        try:
            return list(method())
        except Exception as exc:  # a rule that crashes must not take the form down
            return [ig.Problem("spec", None, f"could not be checked: {exc}")]

    # --- prices ---------------------------------------------------------------------------------
    def _quote_key(self) -> str:
        return json.dumps(self.spec.to_dict(), sort_keys=True, default=str)

    def wants_quote(self) -> bool:
        """A v2 operation the service can price as it is now (valid, not asked yet), on a client
        that is already chosen. A dry run is free: nothing is generated, billed or recorded."""
        if type(self.spec).family != "v2" or not self.has_client:
            return False
        if self.client.provider in ("aihubmix", "replay") or self._safe(self.spec.problems):
            return False
        return self._quote is None or self._quote[0] != self._quote_key()

    def ask_quote(self) -> Any:
        """Ask the client for the spec's price (`Client.quote`: a v2 dry run where the service
        takes one). Kept only if the spec has not changed meanwhile; a failure keeps the table's
        estimate. Returns the `Quote` (None when it could not be had)."""
        key = self._quote_key()
        try:
            quote = self.client.quote(self.spec.copy())
        except Exception:  # a dry run that fails leaves the table's estimate on show
            return None
        if key == self._quote_key():
            self._quote = (key, quote)
        return quote

    def quote(self) -> Any:
        """The service's quote for the spec as it is now, or None (not asked, or stale)."""
        if self._quote is not None and self._quote[0] == self._quote_key():
            return self._quote[1]
        return None

    def cost_text(self) -> str:
        """'≈ $0.12 for 2 images', per call for upscale/describe; '—' when it cannot be priced.
        A v2 operation's price comes from the service once it has quoted it."""
        quote = self.quote()
        if quote is not None and quote.source == "dry_run":
            n = self.spec.image_count
            kind = "exact" if quote.exact else "estimate"
            return f"${quote.usd:.2f} for {n} image{'s' if n != 1 else ''} (quoted by the service, {kind})"
        try:
            cost = self.spec.estimate_cost()
        except Exception:
            return "≈ $— (cannot price this combination yet)"
        endpoint = type(self.spec).endpoint
        if endpoint == "describe":
            return f"≈ ${cost:.2f} per call (describe has no published price)"
        if endpoint == "upscale":
            return f"≈ ${cost:.2f} per call"
        n = self.spec.image_count
        return f"≈ ${cost:.2f} for {n} image{'s' if n != 1 else ''}"

    # --- running --------------------------------------------------------------------------------
    def on_result(self, callback: ResultCallback, remove: bool = False) -> None:
        """`callback(result)` after each successful run (a failing callback is shown, not raised)."""
        self._result_callbacks.register(callback, remove=remove)

    def on_state(self, callback: StateCallback, remove: bool = False) -> None:
        """`callback()` whenever running, errors or the last result change."""
        self._state_callbacks.register(callback, remove=remove)

    @property
    def elapsed_s(self) -> float:
        """Seconds since the run in flight started (0 when nothing runs)."""
        return time.monotonic() - self.started_at if self.is_running else 0.0

    @property
    def is_running(self) -> bool:
        return self.running is not None and not self.running.done()

    def run(self) -> cf.Future[Any]:
        """Submit a snapshot of the spec in the background. While a run is in flight, return
        that run's future instead of sending again. The future completes after the result
        callbacks (the grid) have run; it raises like `client.run`."""
        with self._lock:
            if self.running is not None and not self.running.done():
                return self.running
            self.attempted = True
            outer: cf.Future[Any] = cf.Future()
            try:
                snapshot = self.spec.copy()
                inner = self.client.submit(snapshot)
            except Exception as exc:  # validation, a missing key: shown, not raised
                self.last_error = error_message(exc)
                self.error_before_sending = True
                outer.set_exception(exc)
                self._notify_state()
                return outer
            self.running = outer
            self.started_at = time.monotonic()
            self.last_error = None
            self.error_before_sending = False
        self._notify_state()
        inner.add_done_callback(lambda f: self._finish(f, outer))
        return outer

    def _finish(self, inner: cf.Future[Any], outer: cf.Future[Any]) -> None:
        try:
            result = inner.result()
        except BaseException as exc:
            self.last_error = error_message(exc)
            self.running = None
            self._notify_state()
            outer.set_exception(exc)
            return
        self.last_result = result
        for callback in self._result_callbacks:
            try:
                callback(result)
            except Exception as exc:  # one bad callback must not lose the result
                self.last_error = f"a result callback failed: {error_message(exc)}"
        self.running = None
        self._notify_state()
        outer.set_result(result)

    def _notify_state(self) -> None:
        self._state_callbacks()
