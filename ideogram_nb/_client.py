"""The client: validate, send, download, record — for every call, whatever happens.

Why this shape: the service is synchronous and slow (seconds per image) and counts in-flight
*images*, so calls run on a bounded thread pool over one thread-safe `httpx.Client`, gated by
an image-weighted semaphore. No asyncio in the public API: Jupyter already runs an event loop.
Image URLs expire, so every image is downloaded before a call returns.

Why so careful with sending again: Ideogram has no idempotency keys, so a POST sent twice may
be made and billed twice. A POST is sent again automatically only when the service certainly
did not act on it (`_retry.Verdict.RESEND`); after a possible acceptance the outcome is
*unknown*, recorded as such and not sent again unless the user opted in (`resend_unknown`).
The key goes only to the provider's own origin: redirects to anywhere else are refused.
The rules and their sources: docs/reliability.md.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from ._api_v2 import V2_ALWAYS_ASYNC_ENDPOINTS, V2_DRY_RUN_ENDPOINTS, V2_JOB_ENDPOINTS
from ._callbacks import Callbacks
from ._config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RESEND_UNKNOWN,
    DEFAULT_TIMEOUT_S,
    PROVIDER_OFFLINE,
    PROVIDER_REPLAY,
    USER_AGENT,
)
from ._errors import (
    APIError,
    HistoryError,
    OutcomeUnknownError,
    ProviderRefusedError,
    ReplayImageMissing,
)
from ._history._database import History
from ._history._records import RunRecord, utc_now_iso
from ._jobs import Job, run_job, submit_job
from ._progress import Progress
from ._providers import Route, refusal, resolve_route, show_offline_notice
from ._quote import FROM_TABLE, Quote, from_price_quote
from ._recorded import held_back, replay_miss, replayed, resumed
from ._results import ImageResult, Result
from ._retry import RetryPolicy
from ._sending import Attempt, Sender
from ._slots import ImageSlots
from ._specs._base import Spec
from ._specs._pricing import is_cost_known
from ._specs._wire import build_request, hash_spec_dict

#: The error of a call's row while it is in flight. A row still saying this after the
#: process is gone means the process stopped mid-call: the service may have made and billed
#: the images, so resume and retries leave it alone unless asked (`resend_unknown=True`).
IN_FLIGHT_MESSAGE = (
    "in flight: no answer was recorded. If this run stays so, the process stopped while the call "
    "was being sent or answered, and the service may have made and billed it; re-send it on "
    "purpose with resend_unknown=True after checking your provider's usage page"
)
#: Said when the history cannot record a call before it leaves (damaged, full, read-only).
NOT_SENT_UNRECORDED = (
    "Nothing was sent: a call leaves only once the history has recorded it, so no paid call goes unrecorded"
)


class Client:
    """Runs specs against a provider and records every call in a `History`.

    >>> client = Client()                       # offline simulator when no key is set
    >>> result = client.run(Generate(prompt="a lighthouse at dusk", num_images=2))

    `resend_unknown=True` opts in to sending a call again automatically after its outcome
    became unknown (read timeout, connection lost mid-answer, 500/502/504): each such send
    may be paid twice. The default protects money: such a call is recorded with status
    "unknown" and raised as an `OutcomeUnknownError`.
    """

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        history: History | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        concurrency: int = DEFAULT_CONCURRENCY,
        transport: httpx.BaseTransport | None = None,
        resend_unknown: bool = DEFAULT_RESEND_UNKNOWN,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency={concurrency!r}: must be at least 1 image in flight")
        if max_retries < 0:
            raise ValueError(f"max_retries={max_retries!r}: must be 0 or more")
        self._route: Route = resolve_route(provider, api_key, base_url)
        self.history = history if history is not None else History()
        self.max_retries = max_retries
        self.resend_unknown = bool(resend_unknown)
        self.concurrency = concurrency
        self._pool = cf.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ideogram_nb")
        self._cost_lock = threading.Lock()
        self.session_cost_usd = 0.0
        self._record_listeners = Callbacks()
        if transport is None and self._route.upstream == PROVIDER_OFFLINE and not base_url:
            from .simulator import SimulatorTransport

            transport = SimulatorTransport()
        if self._route.upstream == PROVIDER_OFFLINE:
            show_offline_notice()
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT_S)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
        )
        # image GETs may follow redirects (they never carry the key); the API POST never does
        self._sender = Sender(self._route, self._http, RetryPolicy(max_retries), ImageSlots(concurrency), sleep)
        self._sleep = sleep

    # --- public API ---------------------------------------------------------------------
    @property
    def provider(self) -> str:
        return self._route.provider

    @property
    def base_url(self) -> str | None:
        return self._route.base_url

    def run(self, spec: Spec, *, label: str | None = None, resend_unknown: bool | None = None) -> Result:
        """Run one spec and wait. Raises `SpecError` before sending, or a typed `APIError`
        (`OutcomeUnknownError` when the answer was lost: see the class `resend_unknown`).
        Operations that are always asynchronous upstream (v2 replace-background) run as a job:
        started, its "pending" row written, polled and downloaded, as `start(...).wait()`."""
        result = self._run(spec, label, resend_unknown)
        return result.raise_for_error()

    # --- v2: quotes and jobs ---------------------------------------------------------------
    def quote(self, spec: Spec) -> Quote:
        """What `spec` will cost, without running it. v2 operations that take `dry_run` ask
        the service (direct provider, simulator): free, nothing generated, billed or recorded.
        Otherwise (v1 routes, replay) the local price table answers, and `Quote.source` says so."""
        spec.validate()
        refused = refusal(self._route, spec)
        if refused is not None:
            raise refused
        if type(spec).endpoint in V2_DRY_RUN_ENDPOINTS and self._route.upstream is not None:
            wire = build_request(spec, check=False, dry_run=True)
            body = self._sender.send(wire, spec.image_count, Attempt(), False)
            return from_price_quote(body)
        return Quote(usd=spec.estimate_cost(), exact=is_cost_known(spec), upper_bound_usd=None, source=FROM_TABLE)

    def start(self, spec: Spec, *, label: str | None = None, resend_unknown: bool | None = None) -> Job:
        """Send a v2 spec with `async=true` (an always-asynchronous one, such as
        `ReplaceBackground3`, as it is) and return its `Job` at once (`job.wait()` → Result).

        The job's `generation_id` is recorded (status "pending") before anything polls it, so
        `resume(job.run_id)` finishes it after a restart without submitting it again."""
        spec.validate()
        if type(spec).family != "v2":
            raise ValueError(f"{type(spec).__name__} is a v1 operation: only v2 specs run as jobs; use run()")
        if type(spec).endpoint not in V2_JOB_ENDPOINTS:
            raise ValueError(f"{type(spec).__name__} answers at once and takes no async: use run()")
        refused = refusal(self._route, spec) or (
            ProviderRefusedError("the replay provider sends nothing, so it cannot start a job; nothing was sent")
            if self._route.upstream is None else None
        )  # fmt: skip
        if refused is not None:
            raise refused
        resend = self.resend_unknown if resend_unknown is None else bool(resend_unknown)
        return submit_job(self, spec, label, resend)

    def resume(self, run_id: str) -> Job:
        """The job of a recorded run (after a restart, or from another process): `wait()`
        finishes it by polling. Never submits anything. `KeyError` for an unknown run,
        `ValueError` for a run that is not a v2 job."""
        return Job(self, self.history[run_id])

    def jobs(self) -> list[Job]:
        """Unfinished v2 jobs in this client's history (status "pending"), oldest first."""
        return [Job(self, rec) for rec in self.history.pending_jobs()]

    def submit(self, spec: Spec, *, label: str | None = None, resend_unknown: bool | None = None) -> cf.Future[Result]:
        """Run in the background; the notebook stays live. The future raises like `run`."""
        spec.validate()  # fail now, in the caller's cell, not later in a callback
        return self._pool.submit(self.run, spec, label=label, resend_unknown=resend_unknown)

    def run_many(
        self,
        specs: Iterable[Spec],
        *,
        progress: bool | Callable[[int, int, Result], None] = True,
        label: str | None = None,
        resume: bool = False,
        resend_unknown: bool | None = None,
    ) -> list[Result]:
        """Run many specs concurrently; order kept; a failure is a `Result` with `error` set.

        `resume=True` picks up an interrupted batch (a crash, a killed kernel): a spec whose
        identical request already succeeded is answered from that recorded run — same run
        id, nothing sent, no new row — so running the same cell again finishes only the rest.
        A spec whose last call ended with its outcome unknown (maybe made and billed) is not
        sent again either: its result carries an `OutcomeUnknownError` naming that run.
        `resend_unknown=True` sends those again, and lets calls of this batch be re-sent
        automatically after a lost answer (default: the client's `resend_unknown`).
        """
        specs = list(specs)
        resend = self.resend_unknown if resend_unknown is None else bool(resend_unknown)
        run = self._run_or_resume if resume else self._run
        futures = [self._pool.submit(run, spec, label, resend) for spec in specs]
        index = {f: i for i, f in enumerate(futures)}
        results: list[Result | None] = [None] * len(futures)
        reporter = Progress(len(futures)) if progress is True else None
        try:
            for done, fut in enumerate(cf.as_completed(futures), start=1):
                res = fut.result()  # _run never raises
                results[index[fut]] = res
                if reporter is not None:
                    reporter.update(done, res)
                elif callable(progress):
                    progress(done, len(futures), res)
        finally:
            if reporter is not None:
                reporter.close()
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Client(provider={self.provider!r}, base_url={self.base_url!r}, "
            f"history={str(self.history.path)!r}, concurrency={self.concurrency}"
            + (", resend_unknown=True)" if self.resend_unknown else ")")
        )

    # --- one call -------------------------------------------------------------------------
    def _run_or_resume(self, spec: Spec, label: str | None, resend_unknown: bool) -> Result:
        try:
            found = resumed(self.history, spec, resend_unknown=resend_unknown)
        except HistoryError as exc:  # what was done cannot be read: sending might pay twice
            return self._not_sent(spec, self.history.new_run_id(), label, exc)
        return found if found is not None else self._run(spec, label, resend_unknown)

    def _not_sent(self, spec: Spec, run_id: str, label: str | None, exc: HistoryError) -> Result:
        """The history failed before anything left (damaged, full, read-only): nothing is sent."""
        return Result(run_id=run_id, spec=spec, provider=self.provider, error=exc.explain(NOT_SENT_UNRECORDED),
                      label=label)  # fmt: skip

    def _run(self, spec: Spec, label: str | None, resend_unknown: bool | None = None) -> Result:
        """Never raises: every outcome becomes a Result (and, if anything was sent, a row)."""
        run_id = self.history.new_run_id()
        try:
            spec._raise_problems()
        except Exception as exc:  # SpecError, ImageInputError: nothing sent, nothing recorded
            return Result(run_id=run_id, spec=spec, provider=self.provider, error=exc, label=label)
        resend = self.resend_unknown if resend_unknown is None else resend_unknown
        try:
            if self._route.replay_first:
                answer = replayed(self.history, spec, run_id, label)
                if answer is not None:
                    return answer
                miss = replay_miss(self.history, spec)
                # replay: never sends. record_or_replay: sends what was never recorded, but a
                # paid success whose images are gone is not paid for again unless asked
                if self._route.upstream is None or (isinstance(miss, ReplayImageMissing) and not resend):
                    return Result(run_id=run_id, spec=spec, provider=PROVIDER_REPLAY, error=miss, label=label)
            if self._route.replay_first and not resend:  # record_or_replay: "call the rest", not the maybe-billed
                pending = held_back(self.history, spec)
                if pending is not None:
                    return pending
        except HistoryError as exc:
            return self._not_sent(spec, run_id, label, exc)
        refused = refusal(self._route, spec)
        if refused is not None:  # this provider has no such route: nothing sent, nothing recorded
            return Result(run_id=run_id, spec=spec, provider=self.provider, error=refused, label=label)
        if type(spec).endpoint in V2_ALWAYS_ASYNC_ENDPOINTS:  # answers only a generation_id: a job
            return run_job(self, spec, run_id, label, resend)
        return self._call(spec, run_id, label, resend)

    def _call(self, spec: Spec, run_id: str, label: str | None, resend_unknown: bool) -> Result:
        start = time.perf_counter()
        state = Attempt()
        images: list[ImageResult] = []
        descriptions: list[str] = []
        error: APIError | HistoryError | None = None
        # The spec as data, once: both rows, the request hash and every image's embedded
        # record come from this one snapshot. `_run` validated the spec just now.
        spec_dict = spec.to_dict()
        key = hash_spec_dict(spec_dict)
        price = spec.estimate_cost()
        wire = build_request(spec, check=False)
        # Recorded before anything leaves: if the process dies mid-call (a killed kernel, a
        # closed laptop), the row says "outcome unknown", so resume never pays for it twice.
        # A history that cannot record it (damaged, full, read-only) means it is not sent.
        try:
            inputs = [
                {"field": name, "sha256": self.history.store.put(inp.data)[0]}
                for name, items in spec.input_images().items()
                for inp in items
            ]
            in_flight = self._in_flight(spec, run_id, label, inputs, spec_dict, key, price)
            self.history.record(in_flight)
        except HistoryError as exc:
            return self._not_sent(spec, run_id, label, exc)
        try:
            body = self._sender.send(wire, spec.image_count, state, resend_unknown)
            if type(spec).endpoint == "describe":
                descriptions = [str(d.get("text", "")) for d in body.get("descriptions", [])]
            elif type(spec).endpoint == "v2-describe-4":  # its JSON prompt, as text Generate45 takes
                descriptions = [json.dumps(body.get("json_prompt"), ensure_ascii=False)]
            else:
                images = self._sender.download_all(spec_dict, body, self.history.store)
        except APIError as exc:
            error = exc
        except HistoryError as exc:  # answered (billed), but an image could not be stored
            error = exc.explain("The call was made and billed, but its images could not all be stored")
        latency = time.perf_counter() - start
        # Conservative: every attempt that may have been billed counts (budgets stay safe);
        # reports tell the "possibly billed" part apart by the status "unknown".
        cost = price * (int(state.billed) + state.unknown)
        unknown = isinstance(error, OutcomeUnknownError)
        if isinstance(error, OutcomeUnknownError):
            error.settle(run_id, cost)
        record = RunRecord(  # when the call was made: its in-flight row's time (and place in lists)
            run_id=run_id, created_at=in_flight.created_at, provider=self.provider, endpoint=type(spec).endpoint,
            spec=spec_dict, request_hash=key,
            status="ok" if error is None else ("unknown" if unknown else "error"),
            error=None if error is None else self._sender.scrub(str(error.message)),
            error_type=None if error is None else type(error).__name__,
            http_status=state.http_status, attempts=state.attempts, latency_s=latency, cost_usd=cost,
            images=[im.to_record() for im in images], descriptions=descriptions,
            inputs=inputs, label=label, replayed_from=None,
        )  # fmt: skip
        try:
            self.history.record(record, replace=True)
        except HistoryError as exc:  # sent: its in-flight row stays, counted as possibly spent
            error = exc.explain(
                f"Run {run_id} was sent, but its outcome could not be recorded: the history keeps it as "
                f"in flight (outcome unknown, ${price:.3f} counted as possibly spent); once the history is "
                "writable again, `python -m ideogram_nb history repair` settles it from the stored images"
                + (f" (the call itself: {type(error).__name__}: {error})" if error is not None else "")
            )
        with self._cost_lock:
            self.session_cost_usd += cost
        if error is not None:
            error.run_id = run_id
        result = Result(
            run_id=run_id, spec=spec, provider=self.provider, images=images,
            descriptions=descriptions, cost_usd=cost, latency_s=latency, error=error,
            attempts=state.attempts, label=label,
        )  # fmt: skip
        self._record_listeners(result)
        return result

    def on_record(self, callback: Callable[[Result], Any], remove: bool = False) -> None:
        """Call `callback(result)` each time this client has recorded a call's outcome (ok,
        error, outcome unknown, a job accepted or finished), from the thread that made it.

        Why: views that show what the session did (the Studio's cost line, a live history
        browser) learn of every call, whoever made it (a form, a compare cell, a re-run),
        at the moment its row is written, with no polling. `remove=True` lets go again."""
        self._record_listeners.register(callback, remove)

    def _in_flight(
        self, spec: Spec, run_id: str, label: str | None, inputs: list[dict[str, Any]], spec_dict: dict[str, Any],
        key: str, price: float,
    ) -> RunRecord:  # fmt: skip
        """The row of a call being sent; replaced by what happened once the call returns."""
        return RunRecord(
            run_id=run_id, created_at=utc_now_iso(), provider=self.provider, endpoint=type(spec).endpoint,
            spec=spec_dict, request_hash=key, status="unknown", error=IN_FLIGHT_MESSAGE,
            error_type=OutcomeUnknownError.__name__, http_status=None, attempts=1, latency_s=None,
            cost_usd=price, images=[], descriptions=[], inputs=inputs, label=label, replayed_from=None,
        )  # fmt: skip

    def _scrub(self, text: str) -> str:
        key = self._route.key
        return key.scrub(text) if key is not None else text
