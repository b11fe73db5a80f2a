"""The simulator's bill: one entry per call the service did the work for.

Why a ledger and not just a counter: "retries never pay twice" is a claim about money, and the
only way to test it offline is to ask the service what it did. A call is billed when the
images were made (or the description written), whether or not the answer reached the client:
a withheld (unsafe) image is billed, an answer truncated by `malformed` is billed, and an
answer lost by `drop_after_work`/`timeout_after_work` is billed with `answered=False`.
Rejected requests (400/401/403/415/422/429) and injected 5xx/timeout/drop are never billed.

The simulator does not price anything (prices are the client's, from its spec tables); an
entry records what a price depends on: endpoint, images, rendering speed or model, and the
character references (which carry their own price upstream).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class BilledCall:
    """One billed call, in the order the service finished the work."""

    endpoint: str  # the endpoint id, e.g. "generate", "legacy-remix", "describe"
    images: int  # images made, withheld ones included (0 for describe)
    rendering_speed: str | None  # V3 only, as sent (None: the service default)
    model: str | None  # legacy only, as sent (None: the service default)
    character_references: int  # character reference images used (V3)
    fingerprint: str  # the request's identity (content, seed as sent, count): equal when re-sent
    seeds: tuple[int, ...]  # the seeds of the images made
    answered: bool  # False when the answer was lost after the work (outcome unknown)


class Ledger:
    """A thread-safe, append-only list of `BilledCall`s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[BilledCall] = []

    def add(self, call: BilledCall) -> None:
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> tuple[BilledCall, ...]:
        with self._lock:
            return tuple(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
