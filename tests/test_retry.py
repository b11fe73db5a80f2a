"""The retry policy as pure functions: Retry-After parsing and capped jittered backoff."""

from __future__ import annotations

import random
from email.utils import formatdate

from ideogram_nb._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ideogram_nb._slots import ImageSlots


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 12, usegmt=True), now=now) == 12.0
    assert parse_retry_after(formatdate(now - 50, usegmt=True), now=now) == 0.0
    assert parse_retry_after("99999") == 120.0  # capped
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_is_capped_and_jittered():
    policy = RetryPolicy(max_retries=10, base_delay=1.0, max_delay=8.0, rng=random.Random(1))
    delays = [policy.delay(a) for a in range(1, 8)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(4.0 <= d <= 8.0 for d in delays[3:])
    assert len(set(delays)) == len(delays)
    assert policy.delay(1, retry_after=7.0) == 7.0


def test_retryable_statuses():
    assert all(is_retryable_status(s) for s in (429, 500, 502, 503, 504))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 422))


def test_image_slots_weight_and_oversize_call():
    slots = ImageSlots(10)
    with slots.hold(8):
        assert slots.in_flight == 8
    with slots.hold(50):  # larger than the limit: runs alone instead of deadlocking
        assert slots.in_flight == 10
    assert slots.in_flight == 0 and slots.max_in_flight == 10
