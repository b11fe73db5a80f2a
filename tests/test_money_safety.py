"""Never pay twice: a POST is sent again only when the service certainly did not act on it.

Each test counts POSTs on the wire with its own transport: a `Counter` that answers from a
script (an exception to raise, a status to answer, or None for the simulator's real answer),
so "one POST for a call whose answer was lost" is a fact about the wire, not about the
client's own counters. The loopback tests do the same over real sockets.
"""

from __future__ import annotations

import socket

import httpx
import pytest

import ideogram_nb as ig
from ideogram_nb.simulator import Faults, SimulatorServer, SimulatorTransport

PRICE = 0.06  # Generate, DEFAULT speed, one image


class Counter(httpx.BaseTransport):
    """The simulator behind a script of faults, one entry per POST; counts what was sent.

    An entry is an httpx exception class (raised; `after_work=True` lets the simulator make
    the images first, like a service that answered into a dead connection), an int (answered
    with that status and a service-like error body) or None (the simulator answers).
    """

    def __init__(self, script: list[object], *, after_work: bool = True) -> None:
        self.sim = SimulatorTransport()
        self.script = list(script)
        self.after_work = after_work
        self.posts = 0
        self.made = 0  # POSTs the service really worked on (and would bill)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return self.sim.handle_request(request)
        request.read()
        self.posts += 1
        entry = self.script.pop(0) if self.script else None
        if isinstance(entry, type) and issubclass(entry, Exception):
            if self.after_work and not issubclass(entry, (httpx.ConnectError, httpx.ConnectTimeout,
                                                          httpx.PoolTimeout, httpx.WriteTimeout)):  # fmt: skip
                self.sim.handle_request(request).read()
                self.made += 1
            raise entry("simulated", request=request)
        if isinstance(entry, int):
            headers = {"Retry-After": "1"} if entry in (429, 503) else {}
            return httpx.Response(entry, json={"error": f"status {entry}"}, headers=headers, request=request)
        self.made += 1
        return self.sim.handle_request(request)


def client_for(transport: httpx.BaseTransport, **kw: object) -> ig.Client:
    kw.setdefault("history", ig.History())
    kw.setdefault("sleep", lambda s: None)
    kw.setdefault("max_retries", 3)
    return ig.Client(provider="offline", transport=transport, **kw)  # type: ignore[arg-type]


# --- lost answers: one POST, status "unknown", a clear error -----------------------------------
@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (httpx.ReadTimeout, ig.APITimeoutError),
        (httpx.RemoteProtocolError, ig.APIConnectionError),
        (httpx.ReadError, ig.APIConnectionError),
        (500, ig.ServerError),
        (502, ig.ServerError),
        (504, ig.ServerError),
    ],
)
def test_a_call_whose_answer_was_lost_is_sent_once(fault, kind):
    wire = Counter([fault, fault, fault])
    client = client_for(wire)
    spec = ig.Generate(prompt="a lighthouse")
    with pytest.raises(ig.OutcomeUnknownError) as info:
        client.run(spec)
    err = info.value
    assert wire.posts == 1, "a call that may have been billed was sent again"
    assert isinstance(err, kind)  # still catchable as the timeout / connection / 5xx it was
    row = client.history[err.run_id]
    assert row.status == "unknown" and row.attempts == 1
    assert row.error_type == type(err).__name__
    # counted as possibly spent: the budget side stays safe
    assert row.cost_usd == pytest.approx(PRICE) and err.estimated_usd == pytest.approx(PRICE)
    assert client.session_cost_usd == pytest.approx(PRICE)
    assert client.history.totals()["unknown_usd"] == pytest.approx(PRICE)
    text = str(err)
    for words in ("may have made and billed", "$0.060", err.run_id, "resend_unknown=True", "status 'unknown'"):
        assert words in text
    assert row.error and "billed" in row.error


def test_over_a_real_socket_a_read_timeout_is_one_post(tmp_path):
    """The loopback server holds the request past the client's read timeout."""
    faults = Faults(script=["timeout"], timeout_s=3.0)
    with SimulatorServer(faults=faults) as server:
        client = ig.Client(provider="offline", base_url=server.url, history=ig.History(tmp_path / "h"), timeout=0.5,
                           max_retries=3, sleep=lambda s: None)  # fmt: skip
        with pytest.raises(ig.OutcomeUnknownTimeoutError) as info:
            client.run(ig.Generate(prompt="slow"))
        client.close()
        assert server.stats.posts == 1
    assert client.history[info.value.run_id].status == "unknown"


# --- not sent, or "not done": sent again -----------------------------------------------------
@pytest.mark.parametrize(
    "fault", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout, 408, 429, 503]
)
def test_failures_where_the_service_did_not_act_are_sent_again(fault):
    wire = Counter([fault, fault])
    waits: list[float] = []
    client = client_for(wire, sleep=waits.append)
    result = client.run(ig.Generate(prompt="retry me"))
    assert result.ok and wire.posts == 3 and len(waits) == 2
    assert wire.made == 1 and result.cost_usd == pytest.approx(PRICE)  # paid once
    assert client.history[result.run_id].status == "ok"


def test_a_real_connect_failure_is_retried_then_recorded_as_not_billed(tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    client = ig.Client(provider="offline", base_url=f"http://127.0.0.1:{port}", history=ig.History(tmp_path / "h"),
                       max_retries=2, sleep=waits.append)  # fmt: skip
    with pytest.raises(ig.APIConnectionError) as info:
        client.run(ig.Generate(prompt="nobody home"))
    err = info.value
    assert not isinstance(err, ig.OutcomeUnknownError) and "nothing was billed" in str(err)
    row = client.history[err.run_id]
    assert row.status == "error" and row.attempts == 3 and row.cost_usd == 0 and len(waits) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_definite_refusals_are_not_sent_again_and_cost_nothing(status):
    wire = Counter([status])
    client = client_for(wire)
    with pytest.raises(ig.APIStatusError) as info:
        client.run(ig.Generate(prompt="no"))
    assert wire.posts == 1 and not isinstance(info.value, ig.OutcomeUnknownError)
    row = client.history[info.value.run_id]
    assert row.status == "error" and row.cost_usd == 0


def test_malformed_json_on_200_is_billed_and_not_sent_again():
    sim = SimulatorTransport(faults=Faults(script=["malformed", None]))
    client = client_for(sim)
    with pytest.raises(ig.APIResponseError) as info:
        client.run(ig.Generate(prompt="x"))
    assert sim.stats.posts == 1
    row = client.history[info.value.run_id]
    assert row.status == "error" and row.cost_usd == pytest.approx(PRICE)


# --- opting in -------------------------------------------------------------------------------
def test_resend_unknown_opts_in_and_counts_every_possibly_billed_send():
    wire = Counter([httpx.ReadTimeout, None])
    client = client_for(wire, resend_unknown=True)
    result = client.run(ig.Generate(prompt="again, on purpose"))
    assert result.ok and wire.posts == 2 and wire.made == 2  # the service did make it twice
    assert result.cost_usd == pytest.approx(2 * PRICE)  # and the record says it may have cost that
    assert "resend_unknown=True" in repr(client)


def test_with_resend_unknown_a_later_refusal_keeps_the_outcome_unknown():
    wire = Counter([httpx.ReadTimeout, 422])
    client = client_for(wire, resend_unknown=True)
    with pytest.raises(ig.OutcomeUnknownError) as info:
        client.run(ig.Generate(prompt="x"))
    assert wire.posts == 2 and "earlier attempt whose answer was lost" in str(info.value)
    assert client.history[info.value.run_id].status == "unknown"


def test_run_many_and_run_can_opt_in_per_call():
    wire = Counter([httpx.RemoteProtocolError, None, 502, None])
    client = client_for(wire)
    (result,) = client.run_many([ig.Generate(prompt="batch")], progress=False, resend_unknown=True)
    assert result.ok and wire.posts == 2
    assert client.run(ig.Generate(prompt="one"), resend_unknown=True).ok and wire.posts == 4
    assert client.resend_unknown is False  # the opt-in was for those calls only


# --- resume and comparisons leave unknown calls alone unless asked -----------------------------
def test_resume_does_not_send_an_unknown_call_again_unless_asked():
    wire = Counter([httpx.ReadTimeout])
    client = client_for(wire)
    specs = [ig.Generate(prompt="first", seed=1), ig.Generate(prompt="second", seed=2)]
    first = client.run_many(specs, progress=False)
    lost = next(r for r in first if not r.ok)
    assert wire.posts == 2 and len(client.history) == 2

    again = client.run_many(specs, progress=False, resume=True)
    assert wire.posts == 2 and len(client.history) == 2  # nothing sent, no new row
    redo = next(r for r in again if not r.ok)
    assert redo.run_id == lost.run_id and isinstance(redo.error, ig.OutcomeUnknownTimeoutError)
    assert "not sent again" in str(redo.error)

    final = client.run_many(specs, progress=False, resume=True, resend_unknown=True)
    assert all(r.ok for r in final) and wire.posts == 3  # only the unknown one, on purpose
    assert client.run_many(specs, progress=False, resume=True) and wire.posts == 3  # now it succeeded


def test_record_or_replay_does_not_send_an_unknown_call_again_unless_asked():
    wire = Counter([httpx.ReadTimeout])
    history = ig.History()
    spec = ig.Generate(prompt="record me", seed=5)
    with pytest.raises(ig.OutcomeUnknownError):
        client_for(wire, history=history).run(spec)
    both = ig.Client(provider="record_or_replay", transport=wire, history=history, sleep=lambda s: None)
    with pytest.raises(ig.OutcomeUnknownTimeoutError, match="not sent again"):
        both.run(spec)
    assert wire.posts == 1
    assert both.run_many([spec], progress=False, resend_unknown=True)[0].ok and wire.posts == 2
    assert both.run(spec).replayed_from and wire.posts == 2  # now recorded: replayed


def test_comparison_leaves_unknown_cells_alone_and_counts_them_against_the_budget():
    wire = Counter([httpx.ReadTimeout, 503, 503, 503, 503])
    client = client_for(wire, max_retries=3, concurrency=1)
    cmp = ig.compare(ig.Generate(prompt="a fox"), client=client, budget_usd=0.20,
                     rendering_speed=["TURBO", "DEFAULT", "QUALITY"])  # fmt: skip
    cmp.run(progress=False)
    unknown = [c for c in cmp.cells if c.outcome_unknown]
    failed = [c for c in cmp.failed if not c.outcome_unknown]
    assert len(unknown) == 1 and len(failed) == 1 and wire.posts == 1 + 4 + 1
    assert cmp.spent_usd == pytest.approx(0.03 + 0.09)  # the unknown TURBO cell counts as possibly spent

    posts = wire.posts
    cmp.run(progress=False)  # "run every cell not done" must not re-send the unknown one
    cmp.retry_failed(progress=False)
    assert wire.posts == posts + 1  # only the plainly failed cell was sent
    assert [c.outcome_unknown for c in cmp.cells].count(True) == 1

    # the budget counts the possibly billed cell as spent: re-sending it would exceed it
    with pytest.raises(ig.BudgetError):
        cmp.retry_failed(progress=False, resend_unknown=True)
    cmp.budget_usd = 1.0
    cmp.retry_failed(progress=False, resend_unknown=True)
    assert wire.posts == posts + 2 and all(c.ok for c in cmp.cells)


# --- keys: a missing one is a configuration error -----------------------------------------------
@pytest.mark.parametrize(("provider", "env"), [("ideogram", "IDEOGRAM_API_KEY"), ("aihubmix", "AIHUBMIX_API_KEY")])
def test_a_missing_key_is_a_configuration_error(provider, env, monkeypatch):
    monkeypatch.setenv(env, "   ")  # set but blank counts as missing
    with pytest.raises(ig.MissingKeyError) as info:
        ig.Client(provider=provider)
    err = info.value
    assert isinstance(err, ig.IdeogramError) and not isinstance(err, ig.APIError)
    assert env in str(err) and err.env_var == env and err.provider == provider
    monkeypatch.setenv("IDEOGRAM_NB_PROVIDER", provider)
    monkeypatch.delenv(env)
    with pytest.raises(ig.MissingKeyError, match=env):
        ig.Client()


def test_record_or_replay_does_not_pay_again_for_a_success_whose_images_are_gone(tmp_path):
    """record_or_replay sends what was never recorded; a recorded, paid success whose image
    files were deleted is reported (ReplayImageMissing), not silently bought a second time."""
    from ideogram_nb.simulator import SimulatorTransport

    history = ig.History(tmp_path / "h")
    spec = ig.Generate(prompt="a lighthouse", seed=7)
    first = ig.Client(provider="offline", history=history).run(spec)
    for image in first.images:
        image.path.unlink()
    transport = SimulatorTransport()
    client = ig.Client(provider="record_or_replay", history=history, transport=transport)
    result = client.run_many([ig.Generate(prompt="a lighthouse", seed=7)], progress=False)[0]
    assert isinstance(result.error, ig.ReplayImageMissing) and first.run_id in str(result.error)
    assert transport.stats.posts == 0
    # asked explicitly, it pays for it again
    again = client.run(ig.Generate(prompt="a lighthouse", seed=7), resend_unknown=True)
    assert again.ok and transport.stats.posts == 1
    client.close()
