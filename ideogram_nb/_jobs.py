"""v2 jobs: a call accepted at once and finished later, that survives a kernel restart.

Why the row comes first: a v2 request sent with `async=true` (or one that is always
asynchronous, such as replace-background, which `Client.run` sends through here too) is
accepted (and paid for) before its images exist, and the service answers only a
`generation_id`. That id is written to the history (status "pending") before the first poll,
so whoever holds the history (this kernel after a restart, another process) can finish the
same paid job with `Client.resume(run_id)`, and nothing ever submits it a second time. Polls
are GETs: they pay for nothing, so they are repeated freely, backing off (capped,
`_config.JOB_POLL_*`) and honouring a 429's Retry-After. Images are downloaded as soon as a
poll says `completed`, like every other call.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ._api_v2 import V2_GENERATIONS_ROUTE
from ._config import JOB_POLL_FACTOR, JOB_POLL_FIRST_S, JOB_POLL_MAX_S, RETRY_AFTER_CAP_S
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    HistoryError,
    JobFailedError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
)
from ._history._records import RunRecord, utc_now_iso
from ._results import Result
from ._sending import Attempt
from ._specs._registry import spec_from_dict
from ._specs._wire import build_request, hash_spec_dict

if TYPE_CHECKING:
    from ._client import Client
    from ._specs._base import Spec

#: The `status` values a job reports (the service's: `GenerationResponse.status`).
JOB_STATUSES = ("pending", "completed", "failed")


class Job:
    """A v2 call accepted by the service and polled until it is done.

    `run_id` names its history row, `generation_id` the service's job; `status` is
    "pending", "completed" or "failed" as last seen. `refresh()` polls once; `wait()` polls
    until done and returns the `Result` (images already downloaded), raising like `run`.
    """

    def __init__(self, client: Client, record: RunRecord, spec: Spec | None = None) -> None:
        if record.generation_id is None:
            raise ValueError(f"run {record.run_id} is not a v2 job: it has no generation_id")
        self._client = client
        self._record = record
        self.spec: Spec = spec if spec is not None else spec_from_dict(record.spec)
        self.run_id = record.run_id
        self.generation_id: str = record.generation_id
        self.status = {"pending": "pending", "ok": "completed"}.get(record.status, "failed")
        self._result: Result | None = None
        self._error: APIError | HistoryError | None = None  # this process saw it fail: raised as such
        self._polls = 0

    def __repr__(self) -> str:
        return f"<Job {self.run_id} {type(self.spec).__name__} generation={self.generation_id}: {self.status}>"

    @property
    def done(self) -> bool:
        return self.status != "pending"

    def refresh(self) -> str:
        """Poll the service once (a GET: free); on completion download the images and record
        the run. Returns the status. A failed poll raises (the job stays pending, resumable)."""
        if self.done:
            return self.status
        client = self._client
        body = client._sender.poll(V2_GENERATIONS_ROUTE.format(generation_id=self.generation_id))
        self._polls += 1
        status = body.get("status")
        if status == "completed":
            self._finish(body)
        elif status == "failed":
            self._fail(body)
        elif status != "pending":
            raise APIError(f"job {self.generation_id}: the service reported an unknown status {status!r}")
        return self.status

    def wait(self, timeout: float | None = None) -> Result:
        """Poll until the job is done (backing off, capped; a 429's Retry-After wins) and return
        its `Result`. `timeout` seconds: `TimeoutError` after that, the job still pending and
        resumable (`Client.resume(run_id)`); nothing is sent again either way."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = JOB_POLL_FIRST_S
        while not self.done:
            wait_for: float | None = None
            try:
                self.refresh()
            except RateLimitError as exc:
                wait_for = exc.retry_after
            except (ServerError, APIConnectionError):
                pass  # a GET changes nothing: poll again after the back-off
            if self.done:
                break
            pause = min(wait_for if wait_for is not None else delay, RETRY_AFTER_CAP_S)
            if deadline is not None and time.monotonic() + pause > deadline:
                raise TimeoutError(
                    f"job {self.generation_id} (run {self.run_id}) still pending after {timeout} s; it keeps "
                    f"running upstream: Client.resume({self.run_id!r}).wait() finishes it (nothing is sent again)"
                )
            self._client._sleep(pause)
            delay = min(delay * JOB_POLL_FACTOR, JOB_POLL_MAX_S)
        return self.result().raise_for_error()

    def result(self) -> Result:
        """The finished job's `Result` (ValueError while it is pending)."""
        if self._result is None:
            if not self.done:
                raise ValueError(f"job {self.generation_id} is still pending: call wait()")
            record = self._client.history[self.run_id]
            self._result = Result.from_record(record, self._client.history.store, spec=self.spec)
            if self._error is not None:
                self._result.error = self._error
        return self._result

    # --- recording ---------------------------------------------------------------------------
    def _finish(self, body: dict[str, Any]) -> None:
        client, rec = self._client, self._record
        error: APIError | HistoryError | None = None
        images = []
        try:
            images = client._sender.download_all(rec.spec, body, client.history.store)
        except APIError as exc:
            error = exc
        except HistoryError as exc:
            error = exc.explain("The job was made and billed, but its images could not all be stored")
        micros = body.get("usage_cost_usd_micros")
        usage = micros / 1_000_000 if isinstance(micros, int) and not isinstance(micros, bool) else None
        self._save(
            status="ok" if error is None else "error", images=[im.to_record() for im in images],
            error=None if error is None else error.message, error_type=None if error is None else type(error).__name__,
            usage_cost_usd=usage,
        )  # fmt: skip
        self.status = "completed" if error is None else "failed"
        self._error = error
        self._client._record_listeners(self.result())

    def _fail(self, body: dict[str, Any]) -> None:
        reason = body.get("failure_reason")
        reason = reason if isinstance(reason, str) else None
        error = JobFailedError(
            f"job {self.generation_id} failed upstream ({reason or 'no reason given'}); it was accepted, so it may "
            "be billed; not sent again", failure_reason=reason, generation_id=self.generation_id, run_id=self.run_id,
        )  # fmt: skip
        self._save(status="error", images=[], error=error.message, error_type=type(error).__name__, usage_cost_usd=None)
        self.status = "failed"
        self._error = error
        self._client._record_listeners(self.result())

    def _save(self, **changes: Any) -> None:
        rec = self._record
        started = rec.latency_s or 0.0
        latency = time.time() - _epoch(rec.created_at) if rec.created_at else started
        record = RunRecord(**{
            **rec.to_dict(), "latency_s": max(latency, 0.0), "attempts": rec.attempts + self._polls, **changes,
        })  # fmt: skip
        self._client.history.record(record, replace=True)
        self._record = record


def _epoch(iso: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return time.time()


def submit_job(client: Client, spec: Spec, label: str | None, resend_unknown: bool, run_id: str | None = None) -> Job:
    """`Client.start` after its checks: the in-flight row, the POST with `async=true`, then the
    "pending" row with the `generation_id`, all before anything polls. A failure is recorded
    in place of the in-flight row (an unknown outcome stays counted as possibly spent)."""
    history = client.history
    run_id, spec_dict = run_id or history.new_run_id(), spec.to_dict()
    key, price = hash_spec_dict(spec_dict), spec.estimate_cost()
    wire = build_request(spec, check=False, run_async=True)
    try:  # before anything leaves: a HistoryError here sends nothing
        inputs = [{"field": name, "sha256": history.store.put(inp.data)[0]}
                  for name, items in spec.input_images().items() for inp in items]  # fmt: skip
        flight = client._in_flight(spec, run_id, label, inputs, spec_dict, key, price)
        history.record(flight)
    except HistoryError as exc:
        raise exc.explain("Nothing was sent: a job leaves only once the history has recorded it") from None
    state = Attempt()
    try:
        body = client._sender.send(wire, spec.image_count, state, resend_unknown)
        generation_id = body.get("generation_id")
        if not isinstance(generation_id, str) or not generation_id:
            raise APIResponseError("the service accepted the job but answered no generation_id", body=body)
    except APIError as error:
        unknown = isinstance(error, OutcomeUnknownError)
        cost = price * (int(state.billed) + state.unknown)
        if isinstance(error, OutcomeUnknownError):
            error.settle(run_id, cost)
        error.run_id = run_id
        failed = RunRecord(**{
            **flight.to_dict(), "status": "unknown" if unknown else "error",
            "error": client._sender.scrub(str(error.message)), "error_type": type(error).__name__,
            "http_status": state.http_status, "attempts": state.attempts, "cost_usd": cost,
        })  # fmt: skip
        history.record(failed, replace=True)
        announced = Result.from_record(failed, history.store, spec=spec)
        announced.error = error
        client._record_listeners(announced)
        raise
    record = RunRecord(**{
        **flight.to_dict(), "status": "pending", "error": None, "error_type": None, "generation_id": generation_id,
        "http_status": state.http_status, "attempts": state.attempts, "created_at": utc_now_iso(),
    })  # fmt: skip
    try:
        history.record(record, replace=True)
    except HistoryError as exc:  # accepted upstream: its in-flight row stays, counted as possibly spent
        raise exc.explain(
            f"Job {generation_id} was accepted (and may be billed) but its pending row could not be written: "
            f"run {run_id} stays in flight (outcome unknown) and is not sent again"
        ) from None
    with client._cost_lock:
        client.session_cost_usd += price
    job = Job(client, record, spec)
    client._record_listeners(Result.from_record(record, history.store, spec=spec))
    return job


def run_job(client: Client, spec: Spec, run_id: str, label: str | None, resend_unknown: bool) -> Result:
    """`Client.run` of an operation that is always asynchronous upstream: the same job path as
    `start(...).wait()` (the "pending" row with its `generation_id` before the first poll, so a
    killed kernel resumes it instead of paying again), but every outcome is a `Result`, so
    `run_many` and compare treat it like any other call. Interrupting it (KeyboardInterrupt)
    leaves the job pending and resumable: `Client.resume(run_id)`."""
    try:
        job = submit_job(client, spec, label, resend_unknown, run_id=run_id)
    except (APIError, HistoryError) as exc:  # recorded (or explained) by submit_job
        return Result(run_id=run_id, spec=spec, provider=client.provider, error=exc, label=label)
    try:
        job.wait()
    except (APIError, HistoryError) as exc:
        if job.done:  # completed or failed upstream: recorded, and the result carries the error
            return job.result()
        if isinstance(exc, APIError):
            exc.run_id = run_id
        # a poll failed for good (e.g. 401): the paid job is still pending upstream
        return Result(run_id=run_id, spec=spec, provider=client.provider, error=exc, label=label)
    return job.result()
