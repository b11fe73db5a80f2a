"""The simulator's v2 routes: 4.5 generate and precise edit, 3.0 inpaint and replace-background
(always asynchronous), 4.0 remix and describe, and the generations endpoint that asynchronous
work is polled on.

Why apart from `_routes`: v2 spells things its own way (lowercase enums, `size` as text,
booleans, `dry_run` in the query, `async` in the body) and answers its own shapes
(`PriceQuote`, `generation_id`, `GenerationResponse`), all from
`shared/openapi/ideogram-v2-subset-2026-10.json` (`tests/simulator/test_sim_v2.py` checks
every answer against it). Requests are read in `_requests_v2`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ideogram_nb import _api_v2

from . import _faults
from ._generations import Generation, Generations, new_generation_id, poll_answer
from ._imaging import describe
from ._job import UNSAFE_MARKER
from ._requests_v2 import V2Job, read_v2
from ._routes import InvalidRequest

if TYPE_CHECKING:
    from ._service import Service, SimReply, SimRequest

ENDPOINT_BY_PATH_V2: dict[str, str] = {path: endpoint for endpoint, path in _api_v2.V2_ROUTES.items()}
GENERATIONS_PREFIX = "/v2/generations/"


def describe_answer(v2job: V2Job, created: str) -> dict[str, object]:
    """`DescribeImageIdeogramV4Response`: the image's JSON prompt (from the v1 describer's words)."""
    assert v2job.job.image is not None
    texts = describe(v2job.job.image)
    prompt: dict[str, object] = {
        "high_level_description": texts[0] if texts else "an image",
        "compositional_deconstruction": {"background": texts[-1] if texts else "plain", "elements": []},
    }
    if v2job.tags:
        prompt["tags"] = sorted({word.strip(".,").lower() for word in " ".join(texts).split() if len(word) > 4})[:8]
    return {"created": created, "description_id": new_generation_id(), "json_prompt": prompt}


# --- answers ---------------------------------------------------------------------------------------
def price_quote(v2job: V2Job) -> dict[str, object]:
    """`PriceQuote`: what the request would cost; nothing is made or billed."""
    option = v2job.quality or v2job.rendering_speed or "default"
    return {
        "object": "price_quote", "qualifier": "exact", "quantity": v2job.job.num_images,
        "usd_micros": v2job.usd_micros, "credit_millis": v2job.usd_micros // 10,
        "billing_identifier": f"{v2job.endpoint.removeprefix('v2-')}-{option}-{v2job.tier}",
    }  # fmt: skip


def sync_answer(v2job: V2Job, data: list[dict[str, object]], generation_id: str, seed: int) -> dict[str, object]:
    """The operation's own 200 answer; `data` left out for an asynchronous request, and only
    the id for an always-asynchronous one (`ReplaceBackgroundResponse`)."""
    if v2job.endpoint in _api_v2.V2_ALWAYS_ASYNC_ENDPOINTS:
        return {"generation_id": generation_id}
    out: dict[str, object] = {"generation_id": generation_id, "seed": seed}
    if not v2job.run_async:
        out["data"] = data
    if v2job.endpoint in ("v2-generate-4-5", "v2-precise-edit-4-5"):
        out["generation_kind"] = "sampling"
    if v2job.endpoint == "v2-inpaint-3":
        out["width"], out["height"] = v2job.job.size
    return out


@dataclass(frozen=True)
class Answer:
    """What the service turns into its `SimReply` (kept apart so this module does not import
    the service back): a status and body, or `no_answer` (a fault kind)."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    no_answer: str | None = None


def _reply(status: int, answer: object, content_type: str = "application/json") -> Answer:
    return Answer(status, json.dumps(answer).encode(), {"content-type": content_type})


def _inflight_envelope(limit: int | None) -> dict[str, object]:
    """v2's 429 `GenerationErrorResponse`: the limit and the queue it applies to."""
    return {"error": "Too many requests", "reject_reason": "inflight_limit",
            "max_inflight_requests": limit or 1, "task_completion_speed": "fast"}  # fmt: skip


def _answer_of(reply: SimReply) -> Answer:
    return Answer(reply.status, reply.body, dict(reply.headers), reply.no_answer)


def _problem(status: int, title: str, detail: str) -> Answer:
    doc = {"detail": detail, "status": status, "title": title, "type": "about:blank"}
    return _reply(status, doc, "application/problem+json")


class V2Routes:
    """The v2 half of the simulated service; shares its vault, ledger, faults and counters
    (the service's own helpers: this module is its other half, not a client of it)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.generations = Generations()

    def handle(self, method: str, path: str, request: SimRequest, base_url: str) -> Answer:
        svc = self.service
        if not request.headers.get("api-key", "").strip():
            svc._count(unauthorized=1)
            return _problem(401, "Unauthorized", "Not authorized. Send your API key in the Api-Key header.")
        query, content_type, body = request.query, request.headers.get("content-type"), request.body
        if path.startswith(GENERATIONS_PREFIX):
            if method != "GET":
                return _problem(405, "Method Not Allowed", "Generations are polled with GET.")
            svc._count(gets=1)
            svc._count_route("v2-generations")
            return self._poll(path.removeprefix(GENERATIONS_PREFIX))
        endpoint = ENDPOINT_BY_PATH_V2.get(path)
        if endpoint is None:
            return _problem(404, "Not Found", f"The requested URL {path!r} was not found.")
        if method != "POST":
            return _problem(405, "Method Not Allowed", f"{path} accepts POST only.")
        svc._count(posts=1)
        svc._count_route(endpoint)
        asked = (parse_qs(query).get("dry_run") or ["false"])[0].lower() == "true"
        dry_run = asked and endpoint in _api_v2.V2_DRY_RUN_ENDPOINTS  # describe has no such parameter
        fault = None if dry_run else self._draw(svc._plan.draw())
        if fault is not None:
            early = self._early(fault)
            if early is not None:
                return early
        try:
            v2job = read_v2(endpoint, content_type, body)
        except InvalidRequest as exc:
            svc._count(invalid=1)
            return _problem(exc.status, "Bad Request" if exc.status == 400 else "Unsupported Media Type",
                            "; ".join(exc.problems))  # fmt: skip
        if dry_run:  # validated and priced, nothing made, stored or billed
            return _reply(200, price_quote(v2job))
        if UNSAFE_MARKER in v2job.job.raw_prompt or v2job.job.unsafe_input:
            svc._count(unsafe=1)
            return _reply(422, {"error": "The request failed the safety check (simulated: __unsafe__)."})
        slots = v2job.job.num_images
        if not svc._acquire(slots):
            svc._count(rate_limited=1)
            return _reply(429, _inflight_envelope(svc.inflight_limit))
        try:
            return self._run(v2job, base_url, fault)
        finally:
            svc._release(slots)

    def _draw(self, fault: _faults.Fault | None) -> _faults.Fault | None:
        if fault is not None:
            svc = self.service
            with svc._lock:
                svc._by_fault[fault.kind] = svc._by_fault.get(fault.kind, 0) + 1
            svc._count(faults_injected=1)
        return fault

    def _early(self, fault: _faults.Fault) -> Answer | None:
        if fault.kind == _faults.RATE_LIMIT:
            reply = self.service._early_fault(fault)
            assert reply is not None
            body = json.dumps(_inflight_envelope(self.service.inflight_limit)).encode()
            return replace(_answer_of(reply), body=body)
        early = self.service._early_fault(fault)
        return None if early is None else _answer_of(early)

    def _run(self, v2job: V2Job, base_url: str, fault: _faults.Fault | None) -> Answer:
        svc = self.service
        if v2job.endpoint == "v2-describe-4":
            created = datetime.fromtimestamp(svc.clock(), UTC).isoformat(timespec="seconds")
            svc._bill(replace(v2job.job, endpoint=v2job.endpoint), {"data": []}, answered=True)
            return Answer(
                200, json.dumps(describe_answer(v2job, created)).encode(), {"content-type": "application/json"}
            )
        expired = fault is not None and fault.kind == _faults.EXPIRED_URLS
        started = time.monotonic()
        drawn = svc._answer(v2job.job, base_url, expired=expired)
        data = [dict(item) for item in drawn["data"]] if isinstance(drawn["data"], list) else []
        for item in data:
            item.pop("style_type", None)
            item.pop("upscaled_resolution", None)
            item["resolution"] = "{}x{}".format(*v2job.job.size)
        if not v2job.run_async:  # a synchronous call waits its latency; a job's polls do instead
            remaining = svc.latency - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)
        generation_id = new_generation_id()
        lost = fault is not None and fault.kind in _faults.AFTER_WORK
        svc._bill(replace(v2job.job, endpoint=v2job.endpoint), {"data": data}, answered=not lost)
        if v2job.run_async:
            failed = fault is not None and fault.kind == _faults.JOB_FAILED
            self.generations.add(Generation(
                generation_id=generation_id, created=str(drawn["created"]), ready_at=svc.clock() + svc.latency,
                data=data, usage_cost_usd_micros=v2job.usd_micros,
                failure_reason="content_policy_violation" if failed else None,
            ))  # fmt: skip
        if lost:
            assert fault is not None
            return Answer(0, no_answer=fault.kind)
        seed = int(str(data[0]["seed"])) if data else 0
        body = json.dumps(sync_answer(v2job, data, generation_id, seed)).encode()
        if fault is not None and fault.kind == _faults.MALFORMED:
            body = body[: max(len(body) // 2, 1)]
        return Answer(200, body, {"content-type": "application/json"})

    def _poll(self, generation_id: str) -> Answer:
        fault = self._draw(self.service._plan.draw_poll())
        if fault is not None:
            early = self._early(fault)
            if early is not None:
                return early
        generation = self.generations.get(generation_id)
        if generation is None:
            return _problem(404, "Not Found", f"Generation {generation_id!r} not found.")
        return _reply(200, poll_answer(generation, self.service.clock()))
