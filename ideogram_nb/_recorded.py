"""Answers from the history, without sending anything: replay, resume, and the calls that
resume must leave alone.

Why apart from the client: these answers never touch the network, and their rules are about
money (a request already answered is not paid for again; a request whose earlier call may
have been billed is not sent again unless the user asks), so they are easiest to audit and to
test as plain functions over a `History`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ._config import PROVIDER_REPLAY
from ._errors import ReplayImageMissing, ReplayMiss, unknown_error_class
from ._history._records import RunRecord, utc_now_iso
from ._results import ImageResult, Result
from ._specs._wire import request_hash

if TYPE_CHECKING:
    from ._history._database import History
    from ._specs._base import Spec


def resumed(history: History, spec: Spec, *, resend_unknown: bool) -> Result | None:
    """What `run_many(resume=True)` answers without sending, or None (send it).

    A request that already succeeded: that run (same run id, no new row). A request whose
    newest call ended with its outcome unknown (maybe made and billed), unless
    `resend_unknown`: that run again, its `OutcomeUnknownError` saying it was not re-sent.
    """
    try:
        key = request_hash(spec)
    except Exception:  # an invalid spec has no hash to look up: the client reports it
        return None
    found = history.find_replay(key)
    if found is not None:
        return Result.from_record(found, history.store, spec=spec)
    return None if resend_unknown else held_back(history, spec, key)


def held_back(history: History, spec: Spec, key: str | None = None) -> Result | None:
    """The request's newest call ended with its outcome unknown (maybe made and billed) and
    nothing succeeded since: that run again, its error saying it was not sent again. Used by
    resume and by `record_or_replay`, which would otherwise send it a second time."""
    pending = history.find_unknown(key if key is not None else request_hash(spec))
    if pending is None:
        return None
    if pending.status == "pending":  # a v2 job accepted (maybe billed): finish it, never submit again
        cause = (f"not sent again: an identical request is a v2 job still pending (generation "
                 f"{pending.generation_id}); Client.resume({pending.run_id!r}).wait() finishes it")  # fmt: skip
    else:
        cause = (f"not sent again: an identical request's earlier call ({pending.error_type or 'OutcomeUnknownError'}) "
                 "lost its answer")  # fmt: skip
    error = unknown_error_class(pending.error_type)(
        cause, status=pending.http_status, run_id=pending.run_id, estimated_usd=pending.cost_usd,
    )  # fmt: skip
    return Result(
        run_id=pending.run_id, spec=spec, provider=pending.provider, cost_usd=pending.cost_usd,
        latency_s=pending.latency_s, error=error, attempts=pending.attempts, label=pending.label,
    )  # fmt: skip


def replay_miss(history: History, spec: Spec) -> ReplayMiss:
    """Why replay has no answer: the request was never recorded, or it was and an image its
    run names is gone from the store (deleted, a partial copy). Saying "never recorded" then
    would be false, and would send the user hunting for a run they can see in the history."""
    key = request_hash(spec)
    name = type(spec).__name__
    found = history.find_recorded(key)
    missing = [sha for sha in found.image_shas() if sha not in history.store] if found is not None else []
    if found is None or not missing:
        return ReplayMiss(
            f"no recorded run matches this {name} request (hash {key[:12]}); nothing was sent. Run it "
            "once with a real or offline provider, or use provider='record_or_replay'."
        )
    shown = ", ".join(f"sha256:{sha[:16]}…" for sha in missing[:3]) + (" …" if len(missing) > 3 else "")
    return ReplayImageMissing(
        f"run {found.run_id} recorded this {name} request, but {len(missing)} image(s) it names are gone "
        f"from {history.store.root} ({shown}); nothing was sent. `python -m ideogram_nb history check` "
        "lists what is missing; `history repair --search DIR` brings images back from a copy",
        sha256=missing[0], path=history.store.root, run_id=found.run_id,
    )  # fmt: skip


def replayed(history: History, spec: Spec, run_id: str, label: str | None) -> Result | None:
    """The replay provider's answer from a recorded success (a new row, cost 0), or None."""
    start = time.perf_counter()
    found = history.find_replay(request_hash(spec))
    if found is None:
        return None
    images = [ImageResult.from_record(d, history.store) for d in found.images]
    latency = time.perf_counter() - start
    history.record(
        RunRecord(
            run_id=run_id, created_at=utc_now_iso(), provider=PROVIDER_REPLAY,
            endpoint=found.endpoint, spec=spec.to_dict(), request_hash=found.request_hash,
            status="ok", error=None, error_type=None, http_status=None, attempts=0,
            latency_s=latency, cost_usd=0.0, images=list(found.images),
            descriptions=list(found.descriptions), inputs=list(found.inputs), label=label,
            replayed_from=found.run_id,
        )
    )  # fmt: skip
    return Result(
        run_id=run_id, spec=spec, provider=PROVIDER_REPLAY, images=images,
        descriptions=list(found.descriptions), cost_usd=0.0, latency_s=latency,
        label=label, replayed_from=found.run_id,
    )  # fmt: skip
