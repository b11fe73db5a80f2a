"""The simulated service: one request in, one answer (or a deliberate non-answer) out.

Why separate from the transports: the in-process httpx transport and the loopback HTTP server
must behave identically, so both feed the same `Service.handle` with a plain `SimRequest` and
act out its `SimReply` in their own medium (an `httpx.Response` or an exception; bytes on a
socket or a closed connection).

Every 200 answer has the shape of the official schema's response for its route (checked by
`tests/simulator/test_sim_schema.py`): keys that do not apply are left out, never null.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ideogram_nb import _config

from . import _faults
from ._faults import Fault, FaultPlan, Faults
from ._imaging import describe, encode_png, make_image
from ._job import UNSAFE_MARKER, WITHHOLD_MARKER, Job
from ._ledger import BilledCall, Ledger
from ._routes import ENDPOINT_BY_PATH, FORBIDDEN_ON_BAD_KEY, InvalidRequest, read_job
from ._routes_v2 import V2Routes
from ._seeds import picker_for
from ._vault import IMAGE_PATH_PREFIX, ImageVault

__all__ = ["UNSAFE_MARKER", "WITHHOLD_MARKER", "Service", "SimReply", "SimRequest", "SimulatorStats"]

#: AiHubMix's base URL ends in `/ideogram`; every route is served with and without it.
PROXY_PREFIX = "/ideogram"
#: Reactions that are not an HTTP answer: the adapters act them out.
NO_ANSWER_FAULTS = _faults.NO_ANSWER


@dataclass(frozen=True)
class SimRequest:
    """An HTTP request as the simulator sees it. `headers` keys are lower-case."""

    method: str
    scheme: str
    host: str  # host[:port], as the client addressed it
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class SimReply:
    """An answer, or `no_answer` (a fault kind in `_faults.NO_ANSWER`) when the service must
    not answer at all: the adapters time out or drop the connection instead."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    no_answer: str | None = None


@dataclass(frozen=True)
class SimulatorStats:
    """What the simulator has seen since it started (or since `reset_stats()`)."""

    requests: int = 0
    posts: int = 0
    gets: int = 0
    invalid: int = 0  # 400/415: the request broke the schema or a rule
    unauthorized: int = 0  # 401/403
    unsafe: int = 0  # 422
    rate_limited: int = 0  # 429 from the in-flight limit (injected 429s are faults)
    faults_injected: int = 0
    faults_by_kind: Mapping[str, int] = field(default_factory=dict)
    by_route: Mapping[str, int] = field(default_factory=dict)  # endpoint id (or "images") → count
    images_generated: int = 0
    images_withheld: int = 0
    billed_calls: int = 0  # calls the work was done for (see `SimulatorTransport.billed`)
    billed_images: int = 0  # images made in them, withheld ones included
    answers_lost: int = 0  # billed calls whose answer never reached the client
    inflight_images: int = 0
    max_inflight_images: int = 0


class Service:
    """The simulated Ideogram API. Thread-safe: the client calls it from a thread pool."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        faults: Faults | None = None,
        seed: int | None = None,
        inflight_limit: int | None = _config.SIMULATOR_DEFAULT_INFLIGHT_LIMIT,
        url_ttl_s: float = _config.SIMULATOR_URL_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency={latency!r}: must be ≥ 0 seconds")
        if inflight_limit is not None and inflight_limit < 1:
            raise ValueError(f"inflight_limit={inflight_limit!r}: must be ≥ 1 or None")
        self.latency = latency
        self.faults = faults
        self.seed = seed
        self.inflight_limit = inflight_limit
        self.clock = clock
        self.vault = ImageVault(clock, url_ttl_s)
        self.ledger = Ledger()
        self._plan = FaultPlan(faults)
        self._lock = threading.Lock()
        self._stats = SimulatorStats()
        self._by_route: dict[str, int] = {}
        self._by_fault: dict[str, int] = {}
        self._v2 = V2Routes(self)  # the /v2 routes and their generations

    # --- stats ----------------------------------------------------------------------
    @property
    def stats(self) -> SimulatorStats:
        with self._lock:
            return replace(self._stats, by_route=dict(self._by_route), faults_by_kind=dict(self._by_fault))

    def reset_stats(self) -> None:
        """Zero the counters and clear the billed ledger."""
        with self._lock:
            self._stats = SimulatorStats(inflight_images=self._stats.inflight_images)
            self._by_route.clear()
            self._by_fault.clear()
        self.ledger.clear()

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = replace(self._stats, **{k: getattr(self._stats, k) + v for k, v in increments.items()})

    # --- dispatch -------------------------------------------------------------------
    def handle(self, request: SimRequest) -> SimReply:
        self._count(requests=1)
        prefix = PROXY_PREFIX if (request.path + "/").startswith(PROXY_PREFIX + "/") else ""
        path = request.path[len(prefix) :] or "/"
        method = request.method.upper()
        if path.startswith(IMAGE_PATH_PREFIX):
            if method != "GET":
                return _problem(405, "Method Not Allowed", "Images are fetched with GET.")
            self._count(gets=1)
            self._count_route("images")
            fetched = self.vault.fetch(path, request.query)
            return SimReply(fetched.status, fetched.body, {"content-type": fetched.content_type})
        if path.startswith("/v2/"):
            answer = self._v2.handle(method, path, request, f"{request.scheme}://{request.host}{prefix}")
            return SimReply(answer.status, answer.body, answer.headers, answer.no_answer)
        endpoint = ENDPOINT_BY_PATH.get(path)
        if endpoint is None:
            return _problem(404, "Not Found", f"The requested URL {request.path!r} was not found.")
        if method != "POST":
            return _problem(405, "Method Not Allowed", f"{path} accepts POST only.")
        self._count(posts=1)
        self._count_route(endpoint)
        return self._post(endpoint, f"{request.scheme}://{request.host}{prefix}", request)

    def _count_route(self, route: str) -> None:
        with self._lock:
            self._by_route[route] = self._by_route.get(route, 0) + 1

    def _post(self, endpoint: str, base_url: str, request: SimRequest) -> SimReply:
        if not request.headers.get("api-key", "").strip():
            self._count(unauthorized=1)
            if endpoint in FORBIDDEN_ON_BAD_KEY:
                return _problem(403, "Forbidden", "Not authorized. Send your API key in the Api-Key header.")
            return _problem(401, "Unauthorized", "Not authorized to generate an image. "
                                                 "Send your API key in the Api-Key header.")  # fmt: skip
        fault = self._plan.draw()
        if fault is not None:
            with self._lock:
                self._by_fault[fault.kind] = self._by_fault.get(fault.kind, 0) + 1
            self._count(faults_injected=1)
            early = self._early_fault(fault)
            if early is not None:
                return early
        try:
            job = read_job(endpoint, request.headers.get("content-type"), request.body)
        except InvalidRequest as exc:
            self._count(invalid=1)
            title = "Bad Request" if exc.status == 400 else "Unsupported Media Type"
            return _problem(exc.status, title, "; ".join(exc.problems))
        if UNSAFE_MARKER in job.raw_prompt:
            self._count(unsafe=1)
            message = "Prompt provided failed safety check due to content policy (simulated: __unsafe__)."
            return _json_reply(422, {"error": message})
        if job.unsafe_input:
            self._count(unsafe=1)
            message = "Image provided failed safety check due to content policy (simulated: __unsafe__)."
            return _json_reply(422, {"error": message})
        slots = job.num_images
        if not self._acquire(slots):
            self._count(rate_limited=1)
            return _json_reply(429, {"error": "Too many requests", "reject_reason": "inflight_limit",
                                     "max_inflight_requests": self.inflight_limit})  # fmt: skip
        try:
            # `latency` is the whole service time of a call, as a client sees it: the time
            # spent drawing the images counts towards it (the real service's work is inside
            # its latency too), so only the rest is slept.
            started = time.monotonic()
            expired = fault is not None and fault.kind == _faults.EXPIRED_URLS
            answer = self._answer(job, base_url, expired=expired)
            remaining = self.latency - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)
        finally:
            self._release(slots)
        lost = fault is not None and fault.kind in _faults.AFTER_WORK
        self._bill(job, answer, answered=not lost)
        if lost:
            assert fault is not None
            return SimReply(0, no_answer=fault.kind)
        body = json.dumps(answer).encode()
        if fault is not None and fault.kind == _faults.MALFORMED:
            body = body[: max(len(body) // 2, 1)]
        return SimReply(200, body, {"content-type": "application/json"})

    def _bill(self, job: Job, answer: dict[str, object], *, answered: bool) -> None:
        """Record the work done for `job` (the answer may still be lost on the way)."""
        data = answer.get("data")
        items = data if isinstance(data, list) else []
        seeds = tuple(int(item["seed"]) for item in items if isinstance(item, dict))
        # The request's identity: what it shows, its seed as sent and its count. The same
        # request sent twice has the same fingerprint (how a test sees a call paid twice).
        identity = hashlib.sha256(f"{job.fingerprint}:{job.seed}:{job.num_images}".encode()).hexdigest()
        self.ledger.add(BilledCall(
            endpoint=job.endpoint, images=len(items), rendering_speed=job.rendering_speed, model=job.model,
            character_references=len(job.characters), fingerprint=identity, seeds=seeds, answered=answered,
        ))  # fmt: skip
        self._count(billed_calls=1, billed_images=len(items), answers_lost=0 if answered else 1)

    def _early_fault(self, fault: Fault) -> SimReply | None:
        """Faults that replace the answer entirely; None for those that spoil a good one
        (`expired_urls`, `malformed`) or lose it after the work (`*_after_work`)."""
        if fault.kind in NO_ANSWER_FAULTS and fault.kind not in _faults.AFTER_WORK:
            return SimReply(0, no_answer=fault.kind)
        if fault.kind == _faults.RATE_LIMIT:
            assert self.faults is not None
            headers = {"content-type": "application/json"}
            retry_after = self.faults.retry_after_header()
            if retry_after is not None:
                headers["retry-after"] = retry_after
            body = {"error": "Too many requests", "reject_reason": "inflight_limit"}
            return SimReply(429, json.dumps(body).encode(), headers)
        if fault.kind == _faults.PAYMENT_REQUIRED:  # v2's envelope; v1 routes answer it too (newer ones do)
            message = "Insufficient credits to run this request (simulated)."
            body = {"error": message, "reject_reason": "insufficient_funds"}
            return SimReply(402, json.dumps(body).encode(), {"content-type": "application/json"})
        if fault.kind == _faults.SERVER_ERROR:
            status = fault.status or 500
            return _problem(status, "Internal Server Error" if status == 500 else "Server Error",
                            "The server encountered an internal error (simulated).")  # fmt: skip
        return None

    # --- in-flight images -------------------------------------------------------------
    def _acquire(self, slots: int) -> bool:
        """Take `slots` in-flight images; a call larger than the limit may run alone."""
        with self._lock:
            current = self._stats.inflight_images
            limit = self.inflight_limit
            if limit is not None and current > 0 and current + slots > limit:
                return False
            current += slots
            self._stats = replace(
                self._stats,
                inflight_images=current,
                max_inflight_images=max(self._stats.max_inflight_images, current),
            )
            return True

    def _release(self, slots: int) -> None:
        with self._lock:
            self._stats = replace(self._stats, inflight_images=self._stats.inflight_images - slots)

    # --- answers ----------------------------------------------------------------------
    def _answer(self, job: Job, base_url: str, *, expired: bool) -> dict[str, object]:
        if job.endpoint == "describe":
            assert job.image is not None
            return {"descriptions": [{"text": text} for text in describe(job.image, job.describe_version)]}
        withhold = WITHHOLD_MARKER in job.raw_prompt
        resolution, upscaled = job.resolutions
        data: list[dict[str, object]] = []
        for index in range(job.num_images):
            seed = job.seed if job.seed is not None else self._pick_seed(job, index)
            offset = index if job.seed is not None else 0
            url: str | None = None
            if withhold and index == 0:
                self._count(images_withheld=1)
            else:
                png = encode_png(make_image(job, seed, offset))
                url = self.vault.url(base_url, self.vault.put(png), expired=expired)
                self._count(images_generated=1)
            item: dict[str, object] = {
                "url": url,  # null for a withheld image (the schema's url is nullable)
                "prompt": job.prompt,
                "resolution": resolution,
                "is_image_safe": url is not None,
                "seed": seed,
            }
            if upscaled is not None:
                item["upscaled_resolution"] = upscaled
            if job.style_type is not None:  # upscale, V_1: no style applies, so no key
                item["style_type"] = job.style_type
            data.append(item)
        created = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        return {"created": created, "data": data}

    def _pick_seed(self, job: Job, index: int) -> int:
        """No seed sent: a fresh random one per image, as the real service picks; with the
        simulator's own `seed`, a sequence that replays run after run (see `_seeds`)."""
        return picker_for(self, self.seed).pick(job, index)


def _json_reply(status: int, body: dict[str, object]) -> SimReply:
    return SimReply(status, json.dumps(body).encode(), {"content-type": "application/json"})


def _problem(status: int, title: str, detail: str) -> SimReply:
    """An RFC 7807 problem document, as the service's validation layer (connexion) sends."""
    doc = {"detail": detail, "status": status, "title": title, "type": "about:blank"}
    return SimReply(status, json.dumps(doc).encode(), {"content-type": "application/problem+json"})
