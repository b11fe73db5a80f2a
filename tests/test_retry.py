"""The retry policy as pure functions: Retry-After parsing and capped jittered backoff."""

from __future__ import annotations

import random
from email.utils import formatdate

from ideogram_nb._retry import RetryPolicy, Verdict, classify_status, is_retryable_status, parse_retry_after
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


def test_only_answers_that_say_not_done_are_sent_again():
    # Old rule: every 5xx was re-sent. Now only what proves the service did not act.
    assert all(is_retryable_status(s) for s in (408, 429, 503))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 409, 422, 500, 501, 502, 504, 524))


def test_verdict_per_status():
    assert {s: classify_status(s) for s in (408, 429, 503)} == dict.fromkeys((408, 429, 503), Verdict.RESEND)
    # delivered, and behind a gateway the upstream may have made and billed the images
    assert all(classify_status(s) is Verdict.UNKNOWN for s in (500, 502, 504, 520, 524, 599))
    assert all(classify_status(s) is Verdict.FINAL for s in (300, 400, 401, 402, 403, 404, 409, 422, 501, 505))


def test_send_again_only_within_the_retries_and_only_unknown_when_asked():
    policy = RetryPolicy(max_retries=2)
    assert policy.should_send_again(Verdict.RESEND, 1, resend_unknown=False)
    assert policy.should_send_again(Verdict.RESEND, 2, resend_unknown=False)
    assert not policy.should_send_again(Verdict.RESEND, 3, resend_unknown=False)
    assert not policy.should_send_again(Verdict.UNKNOWN, 1, resend_unknown=False)
    assert policy.should_send_again(Verdict.UNKNOWN, 1, resend_unknown=True)
    assert not policy.should_send_again(Verdict.FINAL, 1, resend_unknown=True)


def test_image_slots_weight_and_oversize_call():
    slots = ImageSlots(10)
    with slots.hold(8):
        assert slots.in_flight == 8
    with slots.hold(50):  # larger than the limit: runs alone instead of deadlocking
        assert slots.in_flight == 10
    assert slots.in_flight == 0 and slots.max_in_flight == 10
