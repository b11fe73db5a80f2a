"""`Client.on_record`: every call the client records is announced once, whoever made it.

The Studio's cost line and a live history browser depend on this: a compare cell, a re-run or
a job must show up the moment its row is written, not when someone presses Refresh."""

from __future__ import annotations

import threading

import pytest

import ideogram_nb as ig
from ideogram_nb.simulator import Faults, SimulatorTransport


def _client(tmp_path, transport: SimulatorTransport | None = None) -> ig.Client:
    return ig.Client(
        provider="offline", transport=transport or SimulatorTransport(),
        history=ig.History(tmp_path / "h"), sleep=lambda s: None,
    )  # fmt: skip


def test_each_recorded_call_is_announced_once_with_its_result_after_its_row_is_written(tmp_path):
    client = _client(tmp_path, SimulatorTransport(faults=Faults(script=[None, "402"])))
    seen: list[tuple[str, str, bool]] = []

    def listener(result: ig.Result) -> None:  # the row is already there when we are told
        seen.append((result.run_id, client.history[result.run_id].status, result.error is None))

    client.on_record(listener)
    ok = client.run(ig.Generate(prompt="a lighthouse", seed=1))
    failed = client.run_many([ig.Generate(prompt="a harbour", seed=2)], progress=False)[0]
    assert seen == [(ok.run_id, "ok", True), (failed.run_id, "error", False)]


def test_a_spec_refused_before_sending_is_not_announced_and_remove_lets_go(tmp_path):
    client = _client(tmp_path)
    seen: list[str] = []
    client.on_record(lambda result: seen.append(result.run_id))
    client.on_record(seen.append, remove=True)  # removing a callback never added is harmless
    bad = client.run_many([ig.Generate(prompt="")], progress=False)[0]
    assert bad.error is not None and seen == [] and len(client.history) == 0

    def other(result: ig.Result) -> None:
        seen.append("other")

    client.on_record(other)
    client.on_record(other, remove=True)
    client.run(ig.Generate(prompt="a lighthouse", seed=3))
    assert len(seen) == 1 and seen[0] != "other"


def test_compare_cells_run_by_the_client_are_each_announced_from_their_threads(tmp_path):
    client = _client(tmp_path)
    threads: set[str] = set()
    run_ids: list[str] = []
    lock = threading.Lock()

    def listener(result: ig.Result) -> None:
        with lock:
            run_ids.append(result.run_id)
            threads.add(threading.current_thread().name)

    client.on_record(listener)
    comparison = ig.compare(
        ig.Generate(prompt="a lighthouse", seed=4), rendering_speed=["TURBO", "DEFAULT"], client=client
    )
    comparison.run(progress=False)
    recorded = [rec.run_id for rec in client.history.runs()]
    assert sorted(run_ids) == sorted(recorded) and len(recorded) == 2
    assert all(name.startswith("ideogram_nb") for name in threads)


def test_a_job_is_announced_when_accepted_and_when_finished(tmp_path):
    client = _client(tmp_path)
    statuses: list[str] = []
    client.on_record(lambda result: statuses.append(client.history[result.run_id].status))
    job = client.start(ig.Generate45(prompt="a lighthouse", seed=5, size="1024x1024"))
    assert statuses == ["pending"]
    job.wait()
    assert statuses == ["pending", "ok"]


def test_a_job_refused_when_submitted_is_announced_as_an_error(tmp_path):
    client = _client(tmp_path, SimulatorTransport(faults=Faults(script=["402"])))
    seen: list[tuple[str, str]] = []
    client.on_record(lambda result: seen.append((client.history[result.run_id].status, type(result.error).__name__)))
    with pytest.raises(ig.PaymentRequiredError):
        client.start(ig.Generate45(prompt="a lighthouse", seed=6, size="1024x1024"))
    assert seen == [("error", "PaymentRequiredError")]
