"""Soak: many calls through injected 429s (with Retry-After), 503s, 500s, timeouts, dropped
connections and answers lost after the work was done and billed; every call must be
accounted for, and no call may be paid twice.

The rule under test (docs/reliability.md): a POST is sent again only after an answer that
says "not done" (429, 503) or a failure before it was sent; after a read timeout, a dropped
connection or a 500 the outcome is unknown: one POST, status "unknown", never re-sent. (The
old soak expected timeouts, drops and 500s to be re-sent: that is the behaviour that paid
twice.) The simulator's billed ledger is the proof: no request is billed twice.

Why a tap on the wire instead of trusting the client's own counters: the claims are about
what happened on the wire. The tap logs, per worker thread, every POST (which call it
belongs to, read from a marker in the body, and what came back) and every back-off sleep
(injected through `sleep=`, so nothing really waits). Because one call runs start to end on
one thread, each thread's log is the exact sequence "POST, sleep, POST, …" the retry policy
produced, and the history's `attempts` can be checked against it call by call.

CI runs ~150 in-process calls plus a smaller leg over the loopback server (real sockets,
real read timeouts); `--soak` runs 1,000 + 200.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import io
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from PIL import Image, PngImagePlugin

import ideogram_nb as ig
from ideogram_nb._config import RETRY_BASE_DELAY_S, RETRY_MAX_DELAY_S
from ideogram_nb.simulator import Faults, SimulatorServer, SimulatorTransport

RETRY_AFTER_S = 2.5  # not a whole number: shows the header is parsed, not rounded
MAX_RETRIES = 3
MARK_RE = re.compile(rb"CALL-(\d{5});")
BAD_REQUEST_MARK = "__bad_request__"
#: The first POSTs get one fault of each kind, so every kind is seen whatever the dice say.
EVERY_FAULT_ONCE = ("429", "503", "500", "timeout", "drop", "drop_after_work", "timeout_after_work")
#: Answers that say "not done": sent again with a back-off.
RETRYABLE = {"429", "503"}
#: Sent, answer lost: the outcome is unknown, never sent again by default.
UNKNOWN = {"500", "ReadTimeout", "RemoteProtocolError"}
AFTER_WORK = ("drop_after_work", "timeout_after_work")
FINAL_ERROR = {
    "429": ig.RateLimitError,
    "503": ig.ServerError,
    "500": ig.OutcomeUnknownServerError,
    "ReadTimeout": ig.OutcomeUnknownTimeoutError,
    "RemoteProtocolError": ig.OutcomeUnknownConnectionError,
    "400": ig.BadRequestError,
    "422": ig.UnprocessableError,
}


# --- the wire tap -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Post:
    call: int
    outcome: str  # "200", "429", "500", "422", "400", or the httpx exception's class name
    retry_after: str | None


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass
class WireLog:
    """Events per thread, in the order that thread produced them."""

    by_thread: dict[int, list[Post | Sleep]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: Post | Sleep) -> None:
        with self.lock:
            self.by_thread[threading.get_ident()].append(event)

    def sleep(self, seconds: float) -> None:  # the client's `sleep=`: record, never wait
        self.add(Sleep(seconds))

    def posts(self) -> list[Post]:
        return [e for events in self.by_thread.values() for e in events if isinstance(e, Post)]


class Tap(httpx.BaseTransport):
    """Forwards to `inner`, logging each POST; answers 400 itself to marked requests.

    The 400 stands in for a request the service rejects although it passed local checks
    (the simulator never rejects one: the property tests show that), so the soak can check
    that a 400 is never retried.
    """

    def __init__(self, inner: httpx.BaseTransport, log: WireLog) -> None:
        self.inner = inner
        self.log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return self.inner.handle_request(request)
        body = request.read()
        found = MARK_RE.search(body)
        assert found is not None, "every soak request carries its call marker"
        call = int(found.group(1))
        if BAD_REQUEST_MARK.encode() in body:
            self.log.add(Post(call, "400", None))
            problem = {"detail": "rejected by the tap", "status": 400, "title": "Bad Request", "type": "about:blank"}
            return httpx.Response(400, json=problem, request=request)
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError as exc:
            self.log.add(Post(call, type(exc).__name__, None))
            raise
        response.read()
        self.log.add(Post(call, str(response.status_code), response.headers.get("retry-after")))
        return response

    def close(self) -> None:
        self.inner.close()


# --- the calls --------------------------------------------------------------------------------
def marked_png(size: tuple[int, int], color: tuple[int, int, int], call: int) -> bytes:
    """A PNG whose tEXt chunk carries the call marker (prompt-less endpoints send it too)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("call", f"CALL-{call:05d};")
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def half_mask(size: tuple[int, int]) -> bytes:
    mask = ig.Mask(*size)
    mask.rect(0, 0, size[0] // 2, size[1])
    return mask.to_png()


def soak_spec(call: int) -> ig.Spec:
    """A varied, valid call; small inputs keep the outputs small (edit/upscale follow them)."""
    mark = f"CALL-{call:05d};"
    prompt = f"{mark} soak call {call}"
    if call % 17 == 5:
        prompt += " __unsafe__"  # the simulator answers 422
    elif call % 23 == 7:
        prompt += f" {BAD_REQUEST_MARK}"  # the tap answers 400
    color = (call * 37 % 256, call * 91 % 256, 200)
    image = marked_png((48, 48), color, call)
    kind = call % 6
    if kind == 0:
        return ig.Generate(prompt=prompt, num_images=1 + call % 2, rendering_speed="TURBO", seed=call)
    if kind == 1:
        return ig.ReplaceBackground(prompt=prompt, image=image, num_images=2)
    if kind == 2:
        return ig.Edit(prompt=prompt, image=image, mask=half_mask((48, 48)))
    if kind == 3:
        return ig.Upscale(prompt=prompt, image=marked_png((24, 24), color, call))
    if kind == 4:
        return ig.Describe(image=image)  # no prompt: the marker rides in the image
    return ig.LegacyEdit(prompt=prompt, image=image, mask=half_mask((48, 48)), model="V_2_TURBO")


@dataclass
class Outcome:
    call: int
    run_id: str
    result: ig.Result | None
    error: BaseException | None


def run_all(client: ig.Client, calls: range) -> list[Outcome]:
    """A third each through run_many, run and submit: all three must account for every call."""
    specs = {c: soak_spec(c) for c in calls}
    ids = list(calls)
    third = len(ids) // 3
    outcomes: list[Outcome] = []
    batch = ids[:third]
    for c, res in zip(batch, client.run_many([specs[c] for c in batch], progress=False), strict=True):
        outcomes.append(Outcome(c, res.run_id, res, res.error))
    for c in ids[third : 2 * third]:
        try:
            res = client.run(specs[c])
            outcomes.append(Outcome(c, res.run_id, res, None))
        except ig.APIError as exc:
            assert exc.run_id, "a raised error names the run it is recorded under"
            outcomes.append(Outcome(c, exc.run_id, None, exc))
    futures = {c: client.submit(specs[c]) for c in ids[2 * third :]}
    for c, fut in futures.items():
        try:
            res = fut.result(timeout=120)
            outcomes.append(Outcome(c, res.run_id, res, None))
        except ig.APIError as exc:
            outcomes.append(Outcome(c, exc.run_id or "", None, exc))
    return outcomes


# --- the checks -------------------------------------------------------------------------------
def check_every_call_accounted_for(client: ig.Client, outcomes: list[Outcome], calls: range) -> None:
    history = client.history
    assert sorted(o.call for o in outcomes) == list(calls), "every call came back exactly once"
    assert len(history) == len(calls), "every call (success or failure) is one history row"
    assert len({o.run_id for o in outcomes}) == len(calls)
    for o in outcomes:
        row = history[o.run_id]
        if o.error is None:
            assert o.result is not None and o.result.ok and row.status == "ok"
            for im in o.result.images:
                assert im.path is not None and im.path.is_file()
                assert hashlib.sha256(im.path.read_bytes()).hexdigest() == im.sha256
            assert [i["sha256"] for i in row.images] == [im.sha256 for im in o.result.images]
        else:
            assert isinstance(o.error, ig.APIError), f"call {o.call}: untyped {o.error!r}"
            assert o.error.run_id == o.run_id
            unknown = isinstance(o.error, ig.OutcomeUnknownError)
            assert row.status == ("unknown" if unknown else "error") and row.error_type == type(o.error).__name__
            if unknown:  # possibly billed: counted as spent, never silently re-sent
                assert row.cost_usd == pytest.approx(o.error.estimated_usd or 0.0) and o.error.run_id in str(o.error)
        for sha in row.image_shas():
            assert sha in history.store


def check_wire(client: ig.Client, outcomes: list[Outcome], log: WireLog) -> Counter[str]:
    """Attempts per call equal POSTs seen; only "not done" answers are retried, a lost answer
    ends the call as unknown; sleeps follow the policy (Retry-After exactly, else capped
    exponential back-off)."""
    by_call: dict[int, list[Post]] = defaultdict(list)
    for post in log.posts():
        by_call[post.call].append(post)
    seen: Counter[str] = Counter()
    for o in outcomes:
        posts = by_call[o.call]
        row = client.history[o.run_id]
        assert row.attempts == len(posts), f"call {o.call}: history says {row.attempts}, wire saw {len(posts)}"
        *earlier, last = [p.outcome for p in posts]
        assert all(outcome in RETRYABLE for outcome in earlier), f"call {o.call} retried after {earlier}"
        seen.update(p.outcome for p in posts)
        if o.error is None:
            assert last == "200"
        else:
            assert isinstance(o.error, FINAL_ERROR[last]), (o.call, last, o.error)
            if last in RETRYABLE:
                assert len(posts) == MAX_RETRIES + 1, f"call {o.call} gave up early after {len(posts)}"
            elif last in UNKNOWN:
                assert isinstance(o.error, ig.OutcomeUnknownError) and row.status == "unknown"
            else:
                assert last in ("400", "422")  # answered once, never retried
    for events in log.by_thread.values():
        attempt_of_call: Counter[int] = Counter()
        for i, event in enumerate(events):
            if isinstance(event, Post):
                attempt_of_call[event.call] += 1
                is_last = attempt_of_call[event.call] == len(by_call[event.call])
                nxt = events[i + 1] if i + 1 < len(events) else None
                if not is_last:
                    assert isinstance(nxt, Sleep), f"call {event.call}: retried without a back-off"
                continue
            prev = events[i - 1] if i > 0 else None
            assert isinstance(prev, Post) and prev.outcome in RETRYABLE, "a sleep only follows a retryable answer"
            nxt = events[i + 1] if i + 1 < len(events) else None
            assert isinstance(nxt, Post) and nxt.call == prev.call, "a sleep is followed by the same call's retry"
            if prev.outcome == "429" and prev.retry_after is not None:
                assert event.seconds == float(prev.retry_after) == RETRY_AFTER_S
            else:
                ceiling = min(RETRY_MAX_DELAY_S, RETRY_BASE_DELAY_S * 2 ** (attempt_of_call[prev.call] - 1))
                assert ceiling / 2 <= event.seconds <= ceiling
    sleeps = sum(isinstance(e, Sleep) for events in log.by_thread.values() for e in events)
    assert sleeps == sum(client.history[o.run_id].attempts - 1 for o in outcomes)
    return seen


def check_never_paid_twice(
    client: ig.Client, outcomes: list[Outcome], billed: tuple, faults_by_kind: dict, *, exact: bool = True
) -> None:
    """The service's own bill: every request billed at most once, and every billed call is
    on the client's side either a success or an "unknown" (never a plain error, which a
    retry would send again). In process the bill is exactly the successes plus the answers
    lost after the work; over real sockets a slow draw can also outlast the client's read
    timeout (billed, answer sent too late: "unknown" too), so there it is a lower bound."""
    per_request = Counter(b.fingerprint for b in billed)
    assert max(per_request.values(), default=1) == 1, "a request was billed twice"
    rows = [client.history[o.run_id] for o in outcomes]
    ok, unknown = sum(r.status == "ok" for r in rows), sum(r.status == "unknown" for r in rows)
    # An after-work fault drawn for a request the service then rejects (422) is counted but
    # never acted out, so the bill, not the fault count, says how many answers were lost.
    lost_after_work = sum(not b.answered for b in billed)
    assert 0 < lost_after_work <= sum(faults_by_kind.get(kind, 0) for kind in AFTER_WORK)
    assert unknown >= lost_after_work
    if exact:
        assert len(billed) == ok + lost_after_work
    else:
        assert ok + lost_after_work <= len(billed) <= ok + unknown


# --- the tests --------------------------------------------------------------------------------
def soak_in_process(tmp_path: Path, n_calls: int, seed: int) -> None:
    faults = Faults(rate_limit=0.12, server_error=0.05, timeout=0.04, drop=0.04, drop_after_work=0.03,
                    timeout_after_work=0.03, retry_after=RETRY_AFTER_S, seed=seed, script=EVERY_FAULT_ONCE)  # fmt: skip
    sim = SimulatorTransport(faults=faults)
    log = WireLog()
    client = ig.Client(provider="offline", transport=Tap(sim, log), history=ig.History(tmp_path / "h"),
                       max_retries=MAX_RETRIES, concurrency=4, sleep=log.sleep)  # fmt: skip
    calls = range(n_calls)
    try:
        outcomes = run_all(client, calls)
    finally:
        client.close()
    check_every_call_accounted_for(client, outcomes, calls)
    seen = check_wire(client, outcomes, log)
    stats = sim.stats
    assert stats.invalid == 0
    assert stats.posts == sum(n for outcome, n in seen.items() if outcome != "400")  # the tap answers 400s
    kinds = stats.faults_by_kind
    assert kinds.get("rate_limit", 0) == seen["429"]
    assert kinds.get("server_error", 0) == seen["500"] + seen["503"]
    lost = sum(not b.answered for b in sim.billed)  # after-work faults acted out (see below)
    no_answer = kinds.get("timeout", 0) + kinds.get("drop", 0) + lost
    assert no_answer == seen["ReadTimeout"] + seen["RemoteProtocolError"]
    check_never_paid_twice(client, outcomes, sim.billed, kinds)
    # The run really exercised what it claims to: every kind of answer happened.
    for outcome in ("200", "429", "503", "500", "ReadTimeout", "RemoteProtocolError", "422", "400"):
        assert seen[outcome] > 0, f"no {outcome} in {dict(seen)}"
    assert any(o.error is None for o in outcomes) and any(o.error is not None for o in outcomes)


def soak_over_loopback(tmp_path: Path, n_calls: int, seed: int) -> None:
    """Real sockets: a timeout is the client's read timeout firing, a drop a closed socket."""
    faults = Faults(rate_limit=0.1, server_error=0.05, timeout=0.04, drop=0.05, drop_after_work=0.03,
                    timeout_after_work=0.02, retry_after=RETRY_AFTER_S, seed=seed, timeout_s=3.0,
                    script=EVERY_FAULT_ONCE)  # fmt: skip
    log = WireLog()
    with SimulatorServer(faults=faults) as server:
        client = ig.Client(provider="offline", base_url=server.url, transport=Tap(httpx.HTTPTransport(), log),
                           history=ig.History(tmp_path / "h"), timeout=0.6, max_retries=MAX_RETRIES,
                           concurrency=4, sleep=log.sleep)  # fmt: skip
        calls = range(n_calls)
        try:
            outcomes = run_all(client, calls)
        finally:
            client.close()
        stats = server.stats
        # A lost-after-work call is billed when its drawing ends, which can be after the
        # client's read timeout gave up on it: let the bill settle (it stops changing).
        billed, deadline = server.billed, time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if len(server.billed) == len(billed):
                break
            billed = server.billed
    check_every_call_accounted_for(client, outcomes, calls)
    seen = check_wire(client, outcomes, log)
    assert stats.invalid == 0
    assert stats.posts == sum(n for outcome, n in seen.items() if outcome != "400")
    check_never_paid_twice(client, outcomes, billed, stats.faults_by_kind, exact=False)
    assert seen["ReadTimeout"] > 0 and seen["RemoteProtocolError"] > 0 and seen["429"] > 0 and seen["503"] > 0


def test_soak_in_process_every_call_accounted_for(tmp_path):
    soak_in_process(tmp_path, 150, seed=20251124)


def test_soak_over_loopback_server(tmp_path):
    soak_over_loopback(tmp_path, 45, seed=7)


@pytest.mark.soak
def test_soak_in_process_long(tmp_path):
    soak_in_process(tmp_path, 1000, seed=99)


@pytest.mark.soak
def test_soak_over_loopback_long(tmp_path):
    soak_over_loopback(tmp_path, 200, seed=8)


def test_tap_sees_what_the_client_sends(tmp_path):
    """The tap itself: a marked call is found, and a 400 is answered without the simulator."""
    sim = SimulatorTransport()
    log = WireLog()
    client = ig.Client(provider="offline", transport=Tap(sim, log), history=ig.History(tmp_path / "h"),
                       sleep=log.sleep)  # fmt: skip
    client.run(soak_spec(4))  # a Describe: the marker is inside the image
    with pytest.raises(ig.BadRequestError):
        client.run(ig.Generate(prompt=f"CALL-00009; {BAD_REQUEST_MARK}"))
    assert [(p.call, p.outcome) for p in log.posts()] == [(4, "200"), (9, "400")]
    assert sim.stats.posts == 1
    client.close()


def test_wire_check_catches_a_retried_422(tmp_path):
    """The checker is not vacuous: a log where a 422 was followed by a retry is refused."""
    log = WireLog()
    log.add(Post(1, "422", None))
    log.add(Sleep(0.5))
    log.add(Post(1, "200", None))

    class Row:
        attempts = 2

    class FakeHistory:
        def __getitem__(self, run_id: str) -> Row:
            return Row()

    class FakeClient:
        history = FakeHistory()

    with pytest.raises(AssertionError, match="retried after"):
        check_wire(FakeClient(), [Outcome(1, "r1", None, None)], log)  # type: ignore[arg-type]


def test_futures_pool_is_not_exhausted_by_errors(tmp_path):
    """After a burst of failures the client still serves calls (no slot or thread leaks)."""
    sim = SimulatorTransport(faults=Faults(script=["500"] * 12))
    client = ig.Client(provider="offline", transport=sim, history=ig.History(tmp_path / "h"), max_retries=0,
                       concurrency=2, sleep=lambda s: None)  # fmt: skip
    futures = [client.submit(ig.Generate(prompt=f"burst {i}", rendering_speed="TURBO")) for i in range(12)]
    errors = [f.exception(timeout=60) for f in cf.as_completed(futures)]
    assert all(isinstance(e, ig.ServerError) for e in errors)
    # A leaked image slot would make a call needing every slot wait forever: bound the wait.
    after = client.submit(ig.Generate(prompt="after the burst", rendering_speed="TURBO", num_images=2))
    assert after.result(timeout=60).ok
    client.close()


def test_money_check_catches_a_request_billed_twice():
    """The bill check is not vacuous: a request the service billed twice is refused."""
    from ideogram_nb.simulator import BilledCall

    def bill(answered: bool) -> BilledCall:
        return BilledCall(endpoint="generate", images=1, rendering_speed=None, model=None, character_references=0,
                          fingerprint="same-request", seeds=(1,), answered=answered)  # fmt: skip

    with pytest.raises(AssertionError, match="billed twice"):
        check_never_paid_twice(None, [], (bill(False), bill(True)), {"drop_after_work": 1})  # type: ignore[arg-type]
