"""Injected faults and the in-flight image limit: what a client's retry and download code
must survive, reproducibly."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from ideogram_nb.simulator import Faults, SimulatorTransport

GENERATE = "/v1/ideogram-v3/generate"


def _client(kit, sim: SimulatorTransport) -> httpx.Client:
    return httpx.Client(transport=sim, base_url=kit.base_url, headers=kit.key_headers)


def _post(c: httpx.Client, prompt: str = "x", num_images: int = 1) -> httpx.Response:
    return c.post(GENERATE, json={"prompt": prompt, "num_images": num_images})


def test_a_script_decides_each_post_in_turn_then_answers_normally(kit):
    sim = SimulatorTransport(faults=Faults(script=["429", "500", None, "503"]))
    with _client(kit, sim) as c:
        statuses = [_post(c).status_code for _ in range(5)]

    assert statuses == [429, 500, 200, 503, 200]
    assert sim.stats.faults_injected == 3
    assert sim.stats.faults_by_kind == {"rate_limit": 1, "server_error": 2}


def test_a_429_carries_retry_after_and_the_inflight_reason(kit):
    with _client(kit, SimulatorTransport(faults=Faults(script=["429"]))) as c:
        response = _post(c)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {"error": "Too many requests", "reject_reason": "inflight_limit"}


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(2.5, "2.5"), (3, "3"), ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT"), (None, None)],
)
def test_retry_after_is_sent_as_configured(kit, retry_after, header):
    with _client(kit, SimulatorTransport(faults=Faults(script=["rate_limit"], retry_after=retry_after))) as c:
        response = _post(c)

    assert response.headers.get("Retry-After") == header


def test_a_server_error_is_a_problem_document(kit):
    with _client(kit, SimulatorTransport(faults=Faults(script=["server_error"]))) as c:
        response = _post(c)

    assert response.status_code == 500
    assert response.json()["status"] == 500


def test_a_timeout_raises_httpx_read_timeout(kit):
    with _client(kit, SimulatorTransport(faults=Faults(script=["timeout"]))) as c:
        with pytest.raises(httpx.ReadTimeout):
            _post(c)
        assert _post(c).status_code == 200


def test_a_dropped_connection_raises_like_httpx_does(kit):
    with _client(kit, SimulatorTransport(faults=Faults(script=["drop"]))) as c:
        with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending a response"):
            _post(c)


def test_expired_urls_fault_hands_out_urls_that_no_longer_work(kit):
    with _client(kit, SimulatorTransport(faults=Faults(script=["expired_urls"]))) as c:
        response = _post(c, num_images=2)
        downloads = [c.get(item["url"]) for item in response.json()["data"]]

    assert response.status_code == 200
    assert [d.status_code for d in downloads] == [410, 410]
    assert downloads[0].json() == {"error": "URL expired"}


def test_malformed_fault_answers_200_with_truncated_json(kit):
    with _client(kit, SimulatorTransport(faults=Faults(script=["malformed"]))) as c:
        response = _post(c)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith('{"created"')
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_faults_skip_image_downloads_and_unauthenticated_requests(kit):
    sim = SimulatorTransport(faults=Faults(script=[None, "500"]))
    with _client(kit, sim) as c:
        ok = _post(c)
        download = c.get(ok.json()["data"][0]["url"])
        anonymous = c.post(GENERATE, json={"prompt": "x"}, headers={"Api-Key": ""})
        failed = _post(c)

    assert (ok.status_code, download.status_code, anonymous.status_code, failed.status_code) == (200, 200, 401, 500)


def test_probabilities_are_reproducible_from_the_fault_seed(kit):
    def statuses(seed: int) -> list[int]:
        sim = SimulatorTransport(faults=Faults(server_error=0.3, rate_limit=0.2, seed=seed))
        with _client(kit, sim) as c:
            return [c.post("/describe", files=kit.form(image_file=kit.encode(kit.solid(8, 8)))).status_code
                    for _ in range(30)]  # fmt: skip

    first, again, other = statuses(7), statuses(7), statuses(8)
    assert first == again
    assert first != other
    assert {200, 429, 500} == set(first)


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_limit": 1.5},
        {"server_error": 0.6, "drop": 0.6},
        {"script": ["explode"]},
        {"script": [404]},
    ],
)
def test_impossible_faults_are_refused_when_built(bad):
    with pytest.raises(ValueError):
        Faults(**bad)


def _concurrently(kit, sim: SimulatorTransport, sizes: list[int]) -> list[httpx.Response]:
    """Send one generate per entry of `sizes` (its num_images) at the same moment."""
    barrier = threading.Barrier(len(sizes))
    results: list[httpx.Response | None] = [None] * len(sizes)

    def send(i: int) -> None:
        with _client(kit, sim) as c:
            barrier.wait()
            results[i] = _post(c, num_images=sizes[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(sizes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


def test_latency_keeps_requests_in_flight_together(kit):
    sim = SimulatorTransport(latency=0.25)
    responses = _concurrently(kit, sim, [2, 2, 2])

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert sim.stats.max_inflight_images == 6
    assert sim.stats.inflight_images == 0


def test_past_the_inflight_image_limit_the_service_answers_429(kit):
    sim = SimulatorTransport(latency=0.25, inflight_limit=4)
    responses = _concurrently(kit, sim, [2, 2, 2])

    assert sorted(r.status_code for r in responses) == [200, 200, 429]
    rejected = next(r for r in responses if r.status_code == 429)
    assert rejected.json()["reject_reason"] == "inflight_limit"
    assert "Retry-After" not in rejected.headers  # the service promises none
    assert sim.stats.max_inflight_images == 4
    assert sim.stats.rate_limited == 1


def test_a_call_larger_than_the_limit_runs_when_it_is_alone(kit):
    sim = SimulatorTransport(inflight_limit=2)
    with _client(kit, sim) as c:
        response = _post(c, num_images=3)

    assert response.status_code == 200
    assert len(response.json()["data"]) == 3


def test_a_call_takes_at_least_its_latency():
    """`latency` is the service time: drawing counts towards it, and the rest is slept."""
    import time as _time

    import httpx

    from ideogram_nb.simulator import SimulatorTransport

    sim = SimulatorTransport(latency=0.3)
    with httpx.Client(transport=sim, base_url="http://simulator.invalid") as http:
        start = _time.monotonic()
        reply = http.post("/v1/ideogram-v3/generate", headers={"Api-Key": "k"},
                          files={"prompt": (None, "x"), "num_images": (None, "4")})  # fmt: skip
        took = _time.monotonic() - start
    assert reply.status_code == 200 and len(reply.json()["data"]) == 4
    assert took >= 0.3  # never faster than the latency asked for
