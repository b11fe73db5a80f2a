"""`SimulatorTransport`: the offline Ideogram API as an httpx transport (the test seam).

Why a transport: httpx's own testing story is "swap the transport", so the client, its retry
layer and its image downloads all run unchanged against the simulator, with no socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from ideogram_nb import _config

from ._faults import TIMEOUT_LIKE, Faults
from ._ledger import BilledCall
from ._service import Service, SimRequest, SimulatorStats


class SimulatorTransport(httpx.BaseTransport):
    """The simulated service behind an `httpx.Client(transport=...)`.

    `latency` seconds per POST, drawing included (so at least the drawing time); `faults` to
    inject; `seed` varies the images of requests that send no seed (same seed, same bytes);
    `inflight_limit` answers 429 past that many images in flight; `clock` (unix seconds)
    decides when image URLs expire. Thread-safe.

    Faults without an answer are raised as httpx would: `timeout` → `httpx.ReadTimeout` at
    once (no waiting in-process), `drop` → `httpx.RemoteProtocolError`; the `*_after_work`
    kinds raise the same after the images were made and billed (`billed` says so).
    """

    def __init__(
        self,
        latency: float = 0.0,
        faults: Faults | None = None,
        seed: int | None = None,
        inflight_limit: int | None = _config.SIMULATOR_DEFAULT_INFLIGHT_LIMIT,
        url_ttl_s: float = _config.SIMULATOR_URL_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = Service(
            latency=latency,
            faults=faults,
            seed=seed,
            inflight_limit=inflight_limit,
            url_ttl_s=url_ttl_s,
            clock=clock,
        )

    def __repr__(self) -> str:
        s = self.service
        return (
            f"SimulatorTransport(latency={s.latency!r}, faults={s.faults!r}, seed={s.seed!r}, "
            f"inflight_limit={s.inflight_limit!r})"
        )

    @property
    def stats(self) -> SimulatorStats:
        """A snapshot of the counters (requests, posts, gets, invalid, by_route, …)."""
        return self.service.stats

    @property
    def billed(self) -> tuple[BilledCall, ...]:
        """Every call the service did the work for, oldest first, including those whose
        answer was lost (`answered=False`): what the account would be charged for."""
        return self.service.ledger.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters and clear the billed ledger."""
        self.service.reset_stats()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        sim_request = SimRequest(
            method=request.method,
            scheme=request.url.scheme,
            host=request.url.netloc.decode("ascii"),
            path=request.url.path,
            query=request.url.query.decode("ascii"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        reply = self.service.handle(sim_request)
        if reply.no_answer in TIMEOUT_LIKE:
            raise httpx.ReadTimeout("The read operation timed out (simulated).", request=request)
        if reply.no_answer is not None:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body, request=request)
