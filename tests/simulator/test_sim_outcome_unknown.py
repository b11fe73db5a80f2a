"""The outcome-unknown case, offline: the service makes and bills the images, then the answer
is lost (`drop_after_work`, alias `lost_answer`; `timeout_after_work`). The billed ledger
(`SimulatorTransport.billed`, `SimulatorServer.billed`) says what the account was charged for,
so tests of "retries never pay twice" can count."""

from __future__ import annotations

import httpx
import pytest

from ideogram_nb.simulator import BilledCall, Faults, SimulatorServer, SimulatorTransport

GENERATE = "/v1/ideogram-v3/generate"
FORM = [("prompt", (None, "a lighthouse")), ("num_images", (None, "3")), ("rendering_speed", (None, "TURBO"))]


def _client(sim: SimulatorTransport, kit) -> httpx.Client:
    return httpx.Client(transport=sim, base_url=kit.base_url, headers=kit.key_headers)


@pytest.mark.parametrize(
    ("entry", "raised"),
    [("drop_after_work", httpx.RemoteProtocolError), ("lost_answer", httpx.RemoteProtocolError),
     ("timeout_after_work", httpx.ReadTimeout)],
)  # fmt: skip
def test_a_lost_answer_raises_after_the_work_was_done_and_billed(kit, entry, raised):
    sim = SimulatorTransport(faults=Faults(script=[entry]))
    with _client(sim, kit) as c:
        with pytest.raises(raised):
            c.post(GENERATE, files=FORM)
        (lost,) = sim.billed
        again = c.post(GENERATE, files=FORM)

    assert lost.answered is False and lost.images == 3
    assert (lost.endpoint, lost.rendering_speed, lost.character_references) == ("generate", "TURBO", 0)
    assert sim.stats.images_generated == 6  # the lost images were made too
    assert (sim.stats.posts, sim.stats.billed_calls, sim.stats.billed_images, sim.stats.answers_lost) == (2, 2, 6, 1)
    # Sending the same request again is paying twice: the ledger shows it.
    second = sim.billed[1]
    assert second.answered is True and second.fingerprint == lost.fingerprint
    assert len(again.json()["data"]) == 3


@pytest.mark.parametrize("entry", ["timeout", "drop", "429", "500"])
def test_faults_before_the_work_are_never_billed(kit, entry):
    sim = SimulatorTransport(faults=Faults(script=[entry]))
    with _client(sim, kit) as c:
        try:
            c.post(GENERATE, files=FORM)
        except httpx.TransportError:
            pass

    assert sim.billed == ()
    assert (sim.stats.billed_calls, sim.stats.images_generated) == (0, 0)


def test_rejected_requests_are_not_billed_and_withheld_images_are(kit):
    sim = SimulatorTransport(faults=Faults(script=[None, None, None, "malformed"]))
    with _client(sim, kit) as c:
        invalid = c.post(GENERATE, files=[("prompt", (None, "x")), ("num_images", (None, "9"))])
        unsafe = c.post(GENERATE, files=[("prompt", (None, "__unsafe__"))])
        anonymous = c.post(GENERATE, files=FORM, headers={"Api-Key": ""})
        withheld = c.post(GENERATE, files=[("prompt", (None, "__withhold__ x")), ("num_images", (None, "2"))])
        malformed = c.post("/generate", json={"image_request": {"prompt": "x", "model": "V_2_TURBO"}})
        described = c.post("/describe", files=[("image_file", ("a.png", kit.encode(kit.solid(20, 20)), "image/png"))])

    assert [r.status_code for r in (invalid, unsafe, anonymous)] == [400, 422, 401]
    assert [r.status_code for r in (withheld, malformed, described)] == [200, 200, 200]
    assert [(b.endpoint, b.images, b.model, b.answered) for b in sim.billed] == [
        ("generate", 2, None, True),  # one of the two withheld: still billed
        ("legacy-generate", 1, "V_2_TURBO", True),  # the truncated answer was still paid for
        ("describe", 0, None, True),
    ]


def test_the_ledger_records_the_seeds_and_resets_with_the_stats(kit):
    sim = SimulatorTransport()
    with _client(sim, kit) as c:
        answer = c.post(GENERATE, files=[*FORM, ("seed", (None, "77"))]).json()
    (call,) = sim.billed
    assert isinstance(call, BilledCall)
    assert call.seeds == tuple(item["seed"] for item in answer["data"]) == (77, 77, 77)

    sim.reset_stats()
    assert sim.billed == () and sim.stats.billed_calls == 0


def test_the_ledger_fingerprint_tells_requests_apart_by_seed_and_count(kit):
    sim = SimulatorTransport()
    prompt = [("prompt", (None, "a lighthouse"))]
    with _client(sim, kit) as c:
        for extra in ([], [("seed", (None, "1"))], [("seed", (None, "2"))], [("num_images", (None, "2"))], []):
            assert c.post(GENERATE, files=prompt + extra).status_code == 200

    prints = [b.fingerprint for b in sim.billed]
    assert len(set(prints)) == 4 and prints[0] == prints[-1]  # only the identical resend matches


def test_lost_answers_by_probability_are_reproducible(kit):
    def outcomes(seed: int) -> list[str]:
        sim = SimulatorTransport(faults=Faults(drop_after_work=0.3, timeout_after_work=0.2, seed=seed))
        seen = []
        with _client(sim, kit) as c:
            for _ in range(20):
                try:
                    seen.append(str(c.post("/describe", files=[("image_file", ("a.png", kit.encode(kit.solid(8, 8)),
                                                                                "image/png"))]).status_code))  # fmt: skip
                except httpx.TransportError as exc:
                    seen.append(type(exc).__name__)
        assert len(sim.billed) == 20  # every call was worked on, answered or not
        return seen

    first, again = outcomes(3), outcomes(3)
    assert first == again
    assert {"200", "RemoteProtocolError", "ReadTimeout"} == set(first)


def test_over_loopback_a_lost_answer_closes_the_connection_after_billing(kit):
    # The server holds the timed-out answer until it stops; each call that must be answered (or
    # dropped after the work) gets time to draw on a busy machine, and the one that must time
    # out gets 2 s, well past its drawing.
    faults = Faults(script=["drop_after_work", "timeout_after_work"], timeout_s=60)
    with SimulatorServer(port=0, faults=faults) as server:
        with httpx.Client(base_url=server.url, headers=kit.key_headers, timeout=30) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                c.post(GENERATE, files=FORM)
            with pytest.raises(httpx.ReadTimeout):
                c.post("/generate", json={"image_request": {"prompt": "x", "num_images": 2}}, timeout=2)
            after = c.post("/generate", json={"image_request": {"prompt": "x"}})

        assert after.status_code == 200
        assert [(b.endpoint, b.images, b.answered) for b in server.billed] == [
            ("generate", 3, False), ("legacy-generate", 2, False), ("legacy-generate", 1, True)]  # fmt: skip
        assert server.stats.answers_lost == 2
