"""Injected faults: the ways the real service (or the network) lets a client down.

Why a seeded generator and a script: a flaky test is worse than no test. Probabilities drawn
from `random.Random(seed)` make a soak run reproducible; a script (`["429", None, "500"]`)
makes a unit test say exactly which request fails and how.

Two families of "no answer": `timeout`/`drop` happen before the service acts (nothing is made
or billed, so a client may safely send again), while `timeout_after_work`/`drop_after_work`
happen after it made and billed the images and the answer is lost on the way back: the
outcome-unknown case a client must never silently pay for twice.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from ideogram_nb import _config

#: Fault kinds, in the order probabilities are stacked when one is drawn.
RATE_LIMIT = "rate_limit"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
DROP = "drop"
EXPIRED_URLS = "expired_urls"
MALFORMED = "malformed"
#: The work is done and billed, then the answer is lost (the connection drops / times out).
DROP_AFTER_WORK = "drop_after_work"
TIMEOUT_AFTER_WORK = "timeout_after_work"
#: v2: the account cannot pay (402 `{error, reject_reason: insufficient_funds}`); nothing made.
PAYMENT_REQUIRED = "payment_required"
#: v2 asynchronous jobs: accepted (and billed) normally, then their generation reports `failed`.
JOB_FAILED = "job_failed"
#: New kinds go last: appending keeps every earlier seeded draw the same.
KINDS: tuple[str, ...] = (
    RATE_LIMIT, SERVER_ERROR, TIMEOUT, DROP, EXPIRED_URLS, MALFORMED, DROP_AFTER_WORK, TIMEOUT_AFTER_WORK,
    PAYMENT_REQUIRED, JOB_FAILED,
)  # fmt: skip
#: Kinds with no HTTP answer at all (the adapters raise or close the connection).
NO_ANSWER: frozenset[str] = frozenset({TIMEOUT, DROP, DROP_AFTER_WORK, TIMEOUT_AFTER_WORK})
#: ... of which these are acted out as a timeout (the others as a dropped connection).
TIMEOUT_LIKE: frozenset[str] = frozenset({TIMEOUT, TIMEOUT_AFTER_WORK})
#: ... and these come after the work was done and billed.
AFTER_WORK: frozenset[str] = frozenset({DROP_AFTER_WORK, TIMEOUT_AFTER_WORK})

#: Script spellings accepted besides the kind names.
_ALIASES: dict[str, str] = {
    "429": RATE_LIMIT, "500": SERVER_ERROR, "expired": EXPIRED_URLS, "lost_answer": DROP_AFTER_WORK,
    "402": PAYMENT_REQUIRED,
}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """One drawn fault: its kind, and the HTTP status for the status-code kinds."""

    kind: str
    status: int | None = None


def parse_script_entry(entry: str | int | None) -> Fault | None:
    """`"429"`, `"503"`, `500`, `"timeout"`, `None` … → a Fault (None = answer normally)."""
    if entry is None:
        return None
    text = str(entry).strip().lower()
    if text.isdigit():
        status = int(text)
        if status == 429:
            return Fault(RATE_LIMIT, 429)
        if status == 402:
            return Fault(PAYMENT_REQUIRED, 402)
        if 500 <= status <= 599:
            return Fault(SERVER_ERROR, status)
        raise ValueError(f"fault script: status {status} is not 402, 429 or 5xx")
    kind = _ALIASES.get(text, text)
    if kind not in KINDS:
        raise ValueError(f"fault script: unknown entry {entry!r}; use one of {KINDS}, a status or None")
    return Fault(kind, {RATE_LIMIT: 429, SERVER_ERROR: 500, PAYMENT_REQUIRED: 402}.get(kind))


@dataclass(frozen=True)
class Faults:
    """What to break, and how often. Applies to POST requests; image downloads only see
    `expired_urls` (the URLs a faulty answer hands out are already expired).

    Probabilities are per POST and stacked (their sum must be ≤ 1). `script` entries are
    consumed one per POST before any probability is drawn: `"429"`, `"500"` (or any 5xx),
    `"timeout"`, `"drop"`, `"expired_urls"`, `"malformed"`, `"drop_after_work"` (alias
    `"lost_answer"`), `"timeout_after_work"`, or None for a normal answer.

    `timeout`/`drop` refuse before any work; the `*_after_work` kinds make the images, count
    the call in the billed ledger (`SimulatorTransport.billed`), then lose the answer.
    """

    rate_limit: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    drop: float = 0.0
    expired_urls: float = 0.0
    malformed: float = 0.0
    drop_after_work: float = 0.0
    timeout_after_work: float = 0.0
    payment_required: float = 0.0
    job_failed: float = 0.0
    #: `Retry-After` sent with a 429: seconds, an HTTP date string, or None for no header.
    retry_after: float | str | None = 1
    seed: int = 0
    script: Sequence[str | int | None] = field(default=())
    #: v2 polls (`GET /v2/generations/{id}`), one entry per poll: `"429"` (with `retry_after`),
    #: a 5xx, `"drop"` or `"timeout"` (no answer), or None for a normal answer.
    poll_script: Sequence[str | int | None] = field(default=())
    #: How long the loopback server holds a `timeout`/`timeout_after_work` request before
    #: closing it (set it above the client's read timeout to see a timeout).
    timeout_s: float = _config.SIMULATOR_TIMEOUT_FAULT_S

    def __post_init__(self) -> None:
        total = 0.0
        for kind in KINDS:
            p = getattr(self, kind)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"Faults.{kind}={p!r}: a probability must be within 0..1")
            total += p
        if total > 1.0 + 1e-9:
            raise ValueError(f"Faults: probabilities add up to {total:g}, more than 1")
        script = tuple(self.script)
        for entry in script:
            parse_script_entry(entry)  # fail at construction, not mid-test
        object.__setattr__(self, "script", script)
        polls = tuple(self.poll_script)
        for entry in polls:
            fault = parse_script_entry(entry)
            if fault is not None and fault.kind not in (RATE_LIMIT, SERVER_ERROR, TIMEOUT, DROP):
                raise ValueError(
                    f"poll_script: {entry!r} cannot happen to a poll; use '429', a 5xx, 'drop' or 'timeout'"
                )
        object.__setattr__(self, "poll_script", polls)

    def retry_after_header(self) -> str | None:
        """The header value: whole seconds print without a decimal point."""
        value = self.retry_after
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return str(int(value)) if float(value).is_integer() else f"{value:g}"


class FaultPlan:
    """The running state of one `Faults`: the script's position and the seeded generator.

    Thread-safe: concurrent requests each draw exactly one entry.
    """

    def __init__(self, faults: Faults | None) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._script = list(faults.script) if faults else []
        self._position = 0
        self._polls = list(faults.poll_script) if faults else []
        self._poll_position = 0
        self._random = random.Random(faults.seed if faults else 0)

    def draw_poll(self) -> Fault | None:
        """The next `poll_script` entry for a v2 poll (None once it is used up)."""
        with self._lock:
            if self._poll_position >= len(self._polls):
                return None
            entry = self._polls[self._poll_position]
            self._poll_position += 1
        return parse_script_entry(entry)

    def draw(self) -> Fault | None:
        if self.faults is None:
            return None
        with self._lock:
            if self._position < len(self._script):
                entry = self._script[self._position]
                self._position += 1
                return parse_script_entry(entry)
            u = self._random.random()
        edge = 0.0
        for kind in KINDS:
            edge += getattr(self.faults, kind)
            if u < edge:
                return parse_script_entry(kind)
        return None
