"""When and how long to wait before trying a call again.

Why its own module: the policy (what is retryable, capped exponential backoff with jitter,
`Retry-After` as seconds or an HTTP date) is the part users most need to trust, and it is
easiest to test as pure functions with an injected random source and clock.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from ._config import RETRY_AFTER_CAP_S, RETRY_BASE_DELAY_S, RETRY_MAX_DELAY_S

#: 429 and 5xx are worth another try; 400/401/403/422 never are (the answer will not change).
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


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
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_S)


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
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        # Half fixed, half jitter: never zero (a thundering herd), never above the cap.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)
