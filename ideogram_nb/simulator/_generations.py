"""The simulator's asynchronous generations: accepted at once, `pending` until their latency
has passed (by the service's clock), then `completed` (or `failed`), polled by id.

Why its own module: a job outlives the request that started it, so its state must live in the
service, keyed by the `generation_id` a client may poll from another process after a restart.
The work (and the bill) happens when the job is accepted, as upstream: a poll only reveals it.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field


@dataclass
class Generation:
    """One accepted asynchronous request and what its polls will say."""

    generation_id: str
    created: str  # ISO-8601, as the answer reports it
    ready_at: float  # service clock (unix seconds): pending before, final after
    data: list[dict[str, object]] = field(default_factory=list)
    usage_cost_usd_micros: int | None = None
    failure_reason: str | None = None  # set: the job fails instead of completing
    polls: int = 0


def new_generation_id() -> str:
    """URL-safe base64 of 16 random bytes, 22 characters, as Ideogram's ids look."""
    return secrets.token_urlsafe(16)


class Generations:
    """A thread-safe table of generations by id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Generation] = {}

    def add(self, generation: Generation) -> None:
        with self._lock:
            self._by_id[generation.generation_id] = generation

    def get(self, generation_id: str) -> Generation | None:
        with self._lock:
            found = self._by_id.get(generation_id)
            if found is not None:
                found.polls += 1
            return found

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)


def poll_answer(generation: Generation, now: float) -> dict[str, object]:
    """`GenerationResponse` for `generation` at time `now` (keys that do not apply left out)."""
    out: dict[str, object] = {"generation_id": generation.generation_id, "created": generation.created}
    if now < generation.ready_at:
        out["status"] = "pending"
    elif generation.failure_reason is not None:
        out["status"] = "failed"
        out["failure_reason"] = generation.failure_reason
    else:
        out["status"] = "completed"
        out["response_type"] = "url"
        out["data"] = [{**item, "object_type": "image.generation"} for item in generation.data]
        if generation.usage_cost_usd_micros is not None:
            out["usage_cost_usd_micros"] = generation.usage_cost_usd_micros
    return out
