"""The client's v2 side end to end against the simulator: quotes, jobs that survive a restart,
the AiHubMix refusal, and the typed 402/429 errors. Money claims are checked by asking the
simulator what it was sent and what it billed."""

from __future__ import annotations

import httpx
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.simulator import Faults, SimulatorTransport


class FakeClock:
    """The simulator's clock, moved only by the client's sleeps: no test waits for real."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _client(transport: SimulatorTransport, tmp_path, clock: FakeClock | None = None, **kw) -> ig.Client:
    history = ig.History(tmp_path / "history")
    sleep = clock.sleep if clock is not None else (lambda s: None)
    return ig.Client(provider="offline", transport=transport, history=history, sleep=sleep, **kw)


def _edit_inputs() -> tuple[Image.Image, Image.Image]:
    image = Image.new("RGB", (256, 256), (20, 40, 200))
    mask = Image.new("L", (256, 256), 255)
    mask.paste(0, (64, 64, 192, 192))
    return image, mask


def test_a_quote_sends_dry_run_and_records_no_image_and_no_cost(tmp_path):
    sim = SimulatorTransport()
    client = _client(sim, tmp_path)
    quote = client.quote(ig.Generate45(prompt="a lighthouse", num_images=2, quality="low", size="1024x1024"))
    assert quote.source == "dry_run" and quote.exact and quote.usd == pytest.approx(0.06)
    assert quote.quantity == 2 and quote.upper_bound_usd is None
    assert sim.stats.posts == 1 and sim.billed == () and sim.stats.images_generated == 0
    assert len(client.history) == 0 and client.session_cost_usd == 0.0
    assert list((client.history.path / "images").rglob("*.png")) == []


def test_a_v1_quote_comes_from_the_price_table_and_sends_nothing(tmp_path):
    sim = SimulatorTransport()
    quote = _client(sim, tmp_path).quote(ig.Generate(prompt="x", rendering_speed="TURBO", num_images=3))
    assert (quote.source, quote.usd, quote.exact) == ("price table", pytest.approx(0.09), True)
    assert sim.stats.requests == 0


def test_a_started_job_is_pending_in_the_history_before_the_first_poll(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(latency=5.0, clock=clock)
    client = _client(sim, tmp_path, clock)
    image, mask = _edit_inputs()
    job = client.start(ig.PreciseEdit45(prompt="gold", image=image, mask=mask, quality="low"))
    row = client.history[job.run_id]
    assert (row.status, row.generation_id, job.status) == ("pending", job.generation_id, "pending")
    assert sim.stats.gets == 0 and sim.stats.posts == 1
    assert client.history.totals()["unknown_usd"] == pytest.approx(row.cost_usd)  # possibly spent
    assert [j.run_id for j in client.jobs()] == [job.run_id]
    result = job.wait()
    assert result.ok and result.images[0].size == (256, 256) and result.images[0].path.exists()
    assert clock.slept and all(s <= 15.0 for s in clock.slept)  # it backed off while pending
    done = client.history[job.run_id]
    assert done.status == "ok" and done.usage_cost_usd == pytest.approx(0.03) and client.jobs() == []


def test_a_job_whose_kernel_died_resumes_with_exactly_one_post(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(latency=30.0, clock=clock)
    first = _client(sim, tmp_path, clock)
    job = first.start(ig.Generate45(prompt="a red kite", size="1024x1024", seed=5, num_images=2))
    run_id = job.run_id
    first.close()
    del first, job  # the kernel is gone; only the history and the service remain

    second = _client(sim, tmp_path, clock)
    assert [j.run_id for j in second.jobs()] == [run_id]
    result = second.resume(run_id).wait()
    assert result.ok and len(result.images) == 2 and result.run_id == run_id
    assert sim.stats.posts == 1 and len(sim.billed) == 1  # never submitted again
    assert second.history[run_id].status == "ok" and second.jobs() == []
    again = second.resume(run_id)  # a finished job answers from the history, nothing sent
    assert again.status == "completed" and again.wait().run_id == run_id and sim.stats.posts == 1


def test_waiting_past_a_timeout_leaves_the_job_resumable(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(latency=1e6, clock=clock)
    client = _client(sim, tmp_path)  # sleeps do not move the clock: the job never finishes
    job = client.start(ig.Generate45(prompt="x"))
    with pytest.raises(TimeoutError, match="resume"):
        job.wait(timeout=0.01)
    assert client.history[job.run_id].status == "pending" and sim.stats.posts == 1


def test_polls_that_fail_are_retried_and_retry_after_is_honoured(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(clock=clock, faults=Faults(poll_script=["429", "500", "drop"], retry_after=7))
    client = _client(sim, tmp_path, clock)
    result = client.start(ig.Generate45(prompt="x")).wait()
    assert result.ok and 7.0 in clock.slept and sim.stats.posts == 1


def test_a_job_that_fails_upstream_raises_and_is_recorded(tmp_path):
    sim = SimulatorTransport(faults=Faults(script=["job_failed"]))
    client = _client(sim, tmp_path)
    job = client.start(ig.Generate45(prompt="x"))
    with pytest.raises(ig.JobFailedError) as caught:
        job.wait()
    assert caught.value.failure_reason == "content_policy_violation" and job.status == "failed"
    assert client.history[job.run_id].status == "error" and sim.stats.posts == 1


def test_a_v2_spec_with_aihubmix_is_refused_before_anything_is_sent(tmp_path):
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(500))
    client = ig.Client(provider="aihubmix", api_key="sk-test-not-real", transport=transport,
                       history=ig.History(tmp_path / "h"))  # fmt: skip
    spec = ig.Generate45(prompt="x")
    with pytest.raises(ig.ProviderRefusedError, match="AiHubMix documents no v2 routes"):
        client.run(spec)
    with pytest.raises(ig.ProviderRefusedError):
        client.start(spec)
    with pytest.raises(ig.ProviderRefusedError):
        client.quote(spec)
    assert seen == [] and len(client.history) == 0


def test_a_402_is_final_and_carries_its_reject_reason(tmp_path):
    sim = SimulatorTransport(faults=Faults(script=["402", None]))
    client = _client(sim, tmp_path)
    with pytest.raises(ig.PaymentRequiredError) as caught:
        client.run(ig.Generate45(prompt="x"))
    error = caught.value
    assert error.status == 402 and error.reject_reason == "insufficient_funds" and "insufficient_funds" in str(error)
    assert sim.stats.posts == 1 and sim.billed == ()  # not sent again
    assert client.history[error.run_id].status == "error"


def test_a_429_carries_the_inflight_limit_and_retry_after(tmp_path):
    sim = SimulatorTransport(faults=Faults(script=["429"], retry_after=7))
    client = _client(sim, tmp_path, max_retries=0)
    with pytest.raises(ig.RateLimitError) as caught:
        client.run(ig.Generate45(prompt="x"))
    error = caught.value
    assert (error.reject_reason, error.max_inflight_requests, error.retry_after) == ("inflight_limit", 1, 7.0)
    assert error.task_completion_speed == "fast" and sim.billed == ()


def test_a_429_is_resent_because_nothing_was_done(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(faults=Faults(script=["429"], retry_after=3), clock=clock)
    result = _client(sim, tmp_path, clock).run(ig.Generate45(prompt="x"))
    assert result.ok and result.attempts == 2 and len(sim.billed) == 1 and clock.slept == [3.0]


def test_resuming_a_batch_never_resubmits_a_pending_job(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(latency=100.0, clock=clock)
    client = _client(sim, tmp_path, clock)
    spec = ig.Generate45(prompt="a kite", seed=1)
    job = client.start(spec)
    [again] = client.run_many([spec], resume=True, progress=False)
    assert isinstance(again.error, ig.OutcomeUnknownError) and again.run_id == job.run_id
    assert "Client.resume" in str(again.error) and sim.stats.posts == 1
    assert client.history.totals()["unknown"] == 1  # the pending job counts as possibly spent


def test_v1_specs_never_go_out_as_jobs_or_dry_runs(tmp_path):
    from ideogram_nb._specs._wire import build_request

    sim = SimulatorTransport()
    client = _client(sim, tmp_path)
    with pytest.raises(ValueError, match="v1 operation"):
        client.start(ig.Generate(prompt="x"))
    for flags in ({"dry_run": True}, {"run_async": True}):  # v1 has neither: it would run for real
        with pytest.raises(ValueError, match="takes neither"):
            build_request(ig.Generate(prompt="x"), **flags)
    assert sim.stats.requests == 0 and len(client.history) == 0


def test_an_exported_pending_job_resumes_instead_of_sending_again(tmp_path):
    import nbformat

    sim = SimulatorTransport(latency=100.0, clock=FakeClock())
    client = _client(sim, tmp_path)
    job = client.start(ig.Generate45(prompt="a kite", seed=2))
    path = client.history.export_notebook(tmp_path / "out.ipynb")
    sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert f'client.resume("{job.run_id}").wait()' in sources and "possibly billed" in sources
    assert "ig.Generate45(" in sources and "client.run(spec" not in sources


def _subject() -> Image.Image:
    """A red square (the subject) on a plain grey backdrop: what replace-background keeps."""
    image = Image.new("RGB", (192, 128), (230, 230, 230))
    image.paste((200, 20, 20), (64, 32, 128, 96))
    return image


class PendingBeforePoll(httpx.BaseTransport):
    """The simulator, checking at the first poll that the job's row was already "pending" with
    its generation_id: what lets a killed kernel resume instead of paying again."""

    def __init__(self, sim: SimulatorTransport, history: ig.History) -> None:
        self.sim, self.history, self.rows_at_first_poll = sim, history, None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v2/generations/") and self.rows_at_first_poll is None:
            self.rows_at_first_poll = [(r.status, r.generation_id) for r in self.history.runs()]
        return self.sim.handle_request(request)


def test_run_on_replace_background_goes_through_the_job_path_with_one_post(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(latency=8.0, clock=clock)
    history = ig.History(tmp_path / "history")
    spy = PendingBeforePoll(sim, history)
    client = ig.Client(provider="offline", transport=spy, history=history, sleep=clock.sleep)
    source = _subject()
    result = client.run(ig.ReplaceBackground3(prompt="a green meadow", image=source, num_images=2))
    assert result.ok and len(result.images) == 2 and result.images[0].size == source.size
    row = client.history[result.run_id]
    assert spy.rows_at_first_poll == [("pending", row.generation_id)] and row.generation_id
    assert sim.stats.posts == 1 and sim.stats.by_route["v2-generations"] >= 2 and len(sim.billed) == 1
    assert row.status == "ok" and row.usage_cost_usd == pytest.approx(0.12) and row.cost_usd == pytest.approx(0.12)
    made = Image.open(result.images[0].path).convert("RGB")
    assert made.getpixel((96, 64)) == (200, 20, 20) and made.getpixel((2, 2)) != (230, 230, 230)  # subject kept
    assert client.jobs() == [] and clock.slept  # it polled, backing off, until the job was done


def test_replace_background_killed_while_waiting_resumes_with_one_post_in_total(tmp_path):
    clock = FakeClock()
    sim = SimulatorTransport(latency=30.0, clock=clock)
    spec = ig.ReplaceBackground3(prompt="a snowy street", image=_subject(), rendering_speed="turbo")

    def killed(seconds: float) -> None:  # the kernel dies while run() waits for the job
        raise KeyboardInterrupt

    first = ig.Client(provider="offline", transport=sim, history=ig.History(tmp_path / "history"), sleep=killed)
    with pytest.raises(KeyboardInterrupt):
        first.run(spec)
    first.close()
    del first

    second = _client(sim, tmp_path, clock)
    [job] = second.jobs()
    assert job.status == "pending" and type(job.spec) is ig.ReplaceBackground3
    result = second.resume(job.run_id).wait()
    assert result.ok and result.run_id == job.run_id and len(result.images) == 1
    assert sim.stats.posts == 1 and len(sim.billed) == 1  # never submitted again
    [again] = second.run_many([spec], resume=True, progress=False)  # the same cell run again
    assert again.ok and again.run_id == job.run_id and sim.stats.posts == 1


def test_a_finished_replace_background_replays_and_exports_like_any_run(tmp_path):
    import nbformat

    sim = SimulatorTransport()
    client = _client(sim, tmp_path)
    spec = ig.ReplaceBackground3(prompt="a harbour", image=_subject())
    first = client.run(spec)
    replay = ig.Client(provider="replay", history=client.history, transport=sim)
    again = replay.run(spec)
    assert again.ok and [im.sha256 for im in again.images] == [im.sha256 for im in first.images]
    assert sim.stats.posts == 1  # answered from the history, nothing sent
    path = client.history.export_notebook(tmp_path / "out.ipynb")
    sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "ig.ReplaceBackground3(" in sources


def test_replace_background_quotes_with_a_dry_run(tmp_path):
    sim = SimulatorTransport()
    client = _client(sim, tmp_path)
    spec = ig.ReplaceBackground3(prompt="a desert", image=_subject(), num_images=3)
    quote = client.quote(spec)
    assert (quote.source, quote.exact, quote.quantity) == ("dry_run", True, 3) and quote.usd == pytest.approx(0.18)
    assert spec.estimate_cost() == pytest.approx(0.18)  # 3.0's published $0.06 per image at default speed
    assert ig.ReplaceBackground3(prompt="x", image=_subject(), rendering_speed="quality").estimate_cost() == 0.09
    assert sim.stats.posts == 1 and sim.billed == () and sim.stats.images_generated == 0 and len(client.history) == 0


def test_replace_background_in_a_batch_and_its_failures_are_results(tmp_path):
    sim = SimulatorTransport(faults=Faults(script=[None, "job_failed", "402"]))
    client = _client(sim, tmp_path, concurrency=1)  # one at a time: the faults meet the specs in order
    specs = [ig.ReplaceBackground3(prompt=p, image=_subject()) for p in ("a sea", "a cave", "a moon")]
    ok, failed, refused = client.run_many(specs, progress=False)  # as compare runs its cells
    assert ok.ok and len(ok.images) == 1
    assert isinstance(failed.error, ig.JobFailedError) and client.history[failed.run_id].status == "error"
    assert isinstance(refused.error, ig.PaymentRequiredError) and client.history[refused.run_id].status == "error"
    assert sim.stats.posts == 3 and client.jobs() == []
    with pytest.raises(ig.JobFailedError):  # run() raises what the job ended with
        _client(SimulatorTransport(faults=Faults(script=["job_failed"])), tmp_path / "b").run(specs[0])


def test_replace_background_rules_are_checked_before_sending():
    wide = Image.new("RGB", (400, 100), (9, 9, 9))
    with pytest.raises(ig.SpecError, match=r"400x100; its longer side must be at most 3 times the shorter side"):
        ig.ReplaceBackground3(prompt="x", image=wide).validate()
    with pytest.raises(ig.SpecError, match="at most 4000 characters"):
        ig.ReplaceBackground3(prompt="x" * 4001, image=_subject()).validate()
    with pytest.raises(ig.SpecError) as caught:
        ig.ReplaceBackground3(prompt="   ").validate()
    assert set(caught.value.fields) == {"prompt", "image"}
    assert ig.ReplaceBackground3(prompt="x" * 4000, image=Image.new("RGB", (300, 100))).validate() == []


def test_v2_rules_name_field_value_and_rule_and_disputed_ones_only_warn():
    image, mask = _edit_inputs()
    with pytest.raises(ig.SpecError) as caught:
        ig.Generate45(prompt="x", mask=mask, size="1024x1024", quality="very_low").validate()
    assert set(caught.value.fields) == {"mask", "size", "quality"}
    small = Image.new("L", (64, 64), 255)
    with pytest.raises(ig.SpecError, match="exactly the size of the image, 256x256, not 64x64"):
        ig.PreciseEdit45(prompt="x", image=image, mask=small).validate()
    tiny = Image.new("L", (256, 256), 255)
    tiny.paste(0, (0, 0, 40, 40))  # 2.4 % black: v2 states no minimum, V3 edit needed 10 %
    warnings = ig.Inpaint3(prompt="x", image=image, mask=tiny).validate()
    assert [w.field for w in warnings] == ["mask"] and "10%" in warnings[0].rule
    with pytest.raises(ig.SpecError, match="must be 'auto', 'source' or WIDTHxHEIGHT"):
        ig.Generate45(prompt="x", size="big")
