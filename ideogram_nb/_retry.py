"""When a call may be sent again, and how long to wait first.

Why its own module: the policy is the part users most need to trust, because it decides
whether a call can be paid twice. Ideogram has no idempotency keys, so a POST is sent again
automatically only when the service certainly did not act on it. This module states that
rule for answers (status codes) as pure functions; the client applies the same rule to
transport failures (it is the only core module that may import httpx). The reasons for each
decision are in docs/reliability.md.

Backoff: capped exponential with jitter; a server's `Retry-After` (seconds or an HTTP date)
wins. Pure functions with an injected random source and clock, so they are easy to test.
"""

from __future__ import annotations

import enum
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from ._config import RETRY_AFTER_CAP_S, RETRY_BASE_DELAY_S, RETRY_MAX_DELAY_S


class Verdict(enum.Enum):
    """What one failed attempt means for the money."""

    #: The service certainly did not act (not sent, or an answer that says "not done"):
    #: safe to send again after a back-off.
    RESEND = "resend"
    #: The request was sent and the service may have acted (and billed): never sent again
    #: automatically unless the user opted in (`resend_unknown=True`).
    UNKNOWN = "unknown"
    #: A definite answer that sending again would not change (400, 401, 403, 422, …).
    FINAL = "final"


#: Answers that say the request was not acted on and may succeed later:
#: 408 (the server did not receive the whole request), 429 (too many images in flight; the
#: service rejects before generating), 503 (unavailable: it did not handle the request).
NOT_DONE_STATUSES = frozenset({408, 429, 503})
#: 5xx that say the server cannot handle this request at all: final, never billed.
FINAL_SERVER_STATUSES = frozenset({501, 505})


def classify_status(status: int) -> Verdict:
    """The verdict for an HTTP error answer to a POST that was sent whole.

    Every 5xx not listed above (500, 502, 504, 520–599 …) is UNKNOWN: the request was
    delivered, and behind a gateway (AiHubMix is one) the upstream may have made and billed
    the images before the error was produced.
    """
    if status in NOT_DONE_STATUSES:
        return Verdict.RESEND
    if status >= 500 and status not in FINAL_SERVER_STATUSES:
        return Verdict.UNKNOWN
    return Verdict.FINAL


def is_retryable_status(status: int) -> bool:
    """True when an answer with this status may be re-sent automatically (never pays twice)."""
    return classify_status(status) is Verdict.RESEND


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), capped."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        now = time.time() if now is None else now
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return float(min(max(seconds, 0.0), RETRY_AFTER_CAP_S))


@dataclass
class RetryPolicy:
    """Capped exponential backoff with full jitter; a server's Retry-After wins when given."""

    max_retries: int
    base_delay: float = RETRY_BASE_DELAY_S
    max_delay: float = RETRY_MAX_DELAY_S
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Wait before try number `attempt + 1` (attempt counts from 1)."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        # Half fixed, half jitter: never zero (a thundering herd), never above the cap.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def should_send_again(self, verdict: Verdict, attempts: int, resend_unknown: bool) -> bool:
        """Whether to send again after `attempts` tries ended in `verdict`."""
        if attempts > self.max_retries:
            return False
        return verdict is Verdict.RESEND or (verdict is Verdict.UNKNOWN and resend_unknown)
