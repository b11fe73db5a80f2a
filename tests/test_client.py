"""The client end to end against the simulator: providers, auth, encoding, retries, errors,
downloads, recording, concurrency and replay."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.simulator import Faults, SimulatorServer, SimulatorTransport

FAKE_KEY = "sk-fake-test-key-0123456789-LEAKCHECK"  # fake: dashes keep it from looking real


class Recorder(httpx.BaseTransport):
    """Wraps the simulator and keeps every request it saw (the test's eyes on the wire)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    @property
    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]


def png_bytes(size=(64, 64), color=(200, 30, 30)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def make_client(transport=None, **kw) -> ig.Client:
    kw.setdefault("history", ig.History())
    return ig.Client(provider="offline", transport=transport or SimulatorTransport(), **kw)


def test_default_without_key_is_offline_and_returns_local_files(capsys):
    from ideogram_nb import _providers

    _providers._notice_shown = False
    client = ig.Client()
    assert client.provider == "offline"
    assert "offline simulator" in capsys.readouterr().out
    result = client.run(ig.Generate(prompt="a lighthouse at dusk", num_images=2))
    assert len(result.images) == 2
    for im in result.images:
        assert im.path is not None and im.path.exists()
        with Image.open(im.path) as img:
            assert img.size == (1024, 1024)
    assert len(client.history) == 1
    row = client.history[result.run_id]
    assert row.status == "ok" and [i["sha256"] for i in row.images] == [im.sha256 for im in result.images]


def test_provider_precedence(monkeypatch):
    monkeypatch.setenv("AIHUBMIX_API_KEY", "sk-test-aihubmix")
    assert ig.Client(transport=SimulatorTransport()).provider == "aihubmix"
    monkeypatch.setenv("IDEOGRAM_NB_PROVIDER", "offline")
    assert ig.Client(transport=SimulatorTransport()).provider == "offline"
    assert ig.Client(provider="ideogram", api_key="k-test", transport=SimulatorTransport()).provider == "ideogram"


def test_real_provider_without_key_is_a_clear_error():
    # A configuration problem found before sending: its own class, never an HTTP error.
    with pytest.raises(ig.MissingKeyError, match="IDEOGRAM_API_KEY") as info:
        ig.Client(provider="ideogram")
    assert not isinstance(info.value, ig.APIError)
    with pytest.raises(ig.MissingKeyError, match="AIHUBMIX_API_KEY"):
        ig.Client(provider="aihubmix")
    with pytest.raises(ValueError, match="not a provider"):
        ig.Client(provider="midjourney")


@pytest.mark.parametrize(
    ("provider", "prefix"),
    [("aihubmix", "https://aihubmix.com/ideogram"), ("ideogram", "https://api.ideogram.ai")],
)
def test_auth_header_and_routes_per_provider(provider, prefix):
    rec = Recorder(SimulatorTransport())
    client = ig.Client(provider=provider, api_key=FAKE_KEY, transport=rec, history=ig.History())
    client.run(ig.Generate(prompt="a red kite"))
    client.run(ig.LegacyGenerate(prompt="a red kite", model="V_2_TURBO"))
    posts = rec.posts
    assert [str(p.url) for p in posts] == [prefix + "/v1/ideogram-v3/generate", prefix + "/generate"]
    assert all(p.headers["Api-Key"] == FAKE_KEY for p in posts)
    assert "authorization" not in {k.lower() for k in posts[0].headers}
    gets = [r for r in rec.requests if r.method == "GET"]
    assert gets and all("Api-Key" not in g.headers for g in gets)  # image hosts never see the key


def test_request_encoding_v3_multipart_and_legacy_json():
    rec = Recorder(SimulatorTransport())
    client = make_client(rec)
    client.run(ig.Generate(prompt="p", num_images=2, style_type="REALISTIC"))
    client.run(ig.LegacyGenerate(prompt="p", model="V_2", num_images=1))
    client.run(ig.LegacyRemix(prompt="p", image=png_bytes(), image_weight=70))
    v3, legacy, remix = rec.posts
    assert v3.headers["content-type"].startswith("multipart/form-data")
    assert b'name="num_images"\r\n\r\n2\r\n' in v3.content
    assert legacy.headers["content-type"] == "application/json"
    assert json.loads(legacy.content)["image_request"]["model"] == "V_2"
    assert remix.headers["content-type"].startswith("multipart/form-data")
    assert b'name="image_request"' in remix.content and b'name="image_file"' in remix.content
    assert b'"image_weight": 70' in remix.content or b'"image_weight":70' in remix.content


def test_invalid_spec_never_leaves_the_machine():
    rec = Recorder(SimulatorTransport())
    client = make_client(rec)
    with pytest.raises(ig.SpecError) as info:
        client.run(ig.Generate(prompt="x", aspect_ratio="16x9", resolution="1024x1024"))
    assert "resolution" in str(info.value)
    assert rec.requests == []
    assert len(client.history) == 0


def test_retries_honour_retry_after_then_succeed():
    # 429 and 503 say "not done": sent again. (A 500 no longer is: its outcome is unknown.)
    waits: list[float] = []
    sim = SimulatorTransport(faults=Faults(script=["429", "503", None], retry_after=7))
    client = make_client(sim, sleep=waits.append, max_retries=3)
    result = client.run(ig.Generate(prompt="retry me"))
    assert result.ok and result.attempts == 3
    assert waits[0] == 7  # the server's Retry-After wins
    assert 0 < waits[1] <= 30
    assert client.history[result.run_id].attempts == 3


@pytest.mark.parametrize(("fault", "error"), [("timeout", ig.APITimeoutError), ("drop", ig.APIConnectionError)])
def test_a_lost_answer_is_not_sent_again(fault, error):
    # Old rule: re-sent (up to three POSTs for one call). The client cannot tell a lost answer
    # from one never made, so the outcome is unknown: one POST, recorded as such, not re-sent.
    waits: list[float] = []
    rec = Recorder(SimulatorTransport(faults=Faults(script=[fault, None])))
    client = make_client(rec, sleep=waits.append)
    with pytest.raises(ig.OutcomeUnknownError) as info:
        client.run(ig.Generate(prompt="flaky"))
    assert isinstance(info.value, error)  # still the timeout / connection error it was
    assert len(rec.posts) == 1 and waits == []
    assert client.history[info.value.run_id].status == "unknown"


def test_retries_give_up_with_a_typed_error_that_is_recorded():
    client = make_client(SimulatorTransport(faults=Faults(script=["503"] * 5)), sleep=lambda s: None, max_retries=2)
    with pytest.raises(ig.ServerError) as info:
        client.run(ig.Generate(prompt="down"))
    err = info.value
    assert err.status == 503 and err.run_id and not isinstance(err, ig.OutcomeUnknownError)
    row = client.history[err.run_id]
    assert row.status == "error" and row.attempts == 3 and row.http_status == 503 and row.cost_usd == 0


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (ig.Generate(prompt="__unsafe__ thing"), ig.UnprocessableError),
        (ig.Edit(prompt="x", image=png_bytes((64, 64)), mask=png_bytes((64, 64), (0, 0, 0))), None),
    ],
)
def test_typed_errors_are_not_retried(spec, error):
    sleeps: list[float] = []
    client = make_client(sleep=sleeps.append)
    if error is None:
        assert client.run(spec).ok
        return
    with pytest.raises(error) as info:
        client.run(spec)
    assert sleeps == [] and "safety" in str(info.value)


def test_auth_errors_map_401_and_403():
    class BadKey(httpx.BaseTransport):
        def __init__(self, status):
            self.status = status

        def handle_request(self, request):
            return httpx.Response(self.status, json={"detail": "Invalid key", "title": "Unauthorized"})

    for status in (401, 403):
        client = make_client(BadKey(status), sleep=lambda s: None)
        with pytest.raises(ig.AuthenticationError, match="Invalid key"):
            client.run(ig.Generate(prompt="x"))


def test_aihubmix_error_shape_is_read():
    transport = httpx.MockTransport(
        lambda r: httpx.Response(400, json={"error": {"message": "prompt_missing", "type": "bad"}})
    )
    with pytest.raises(ig.BadRequestError, match="prompt_missing"):
        make_client(transport).run(ig.Generate(prompt="x"))


def test_malformed_json_and_expired_urls_are_typed_and_billed():
    client = make_client(SimulatorTransport(faults=Faults(script=["malformed"])))
    with pytest.raises(ig.APIResponseError) as info:
        client.run(ig.Generate(prompt="x"))
    assert client.history[info.value.run_id].cost_usd == pytest.approx(0.06)
    client = make_client(SimulatorTransport(faults=Faults(expired_urls=1.0)))
    with pytest.raises(ig.APIResponseError, match="expired"):
        client.run(ig.Generate(prompt="x"))


def test_withheld_image_is_a_result_not_a_crash():
    result = make_client().run(ig.Generate(prompt="__withhold__ a cat", num_images=2))
    assert [im.withheld for im in result.images] == [True, False]
    assert result.cost_usd == pytest.approx(0.12)  # withheld images are still billed


def test_run_many_keeps_order_and_returns_failures():
    client = make_client()
    specs = [ig.Generate(prompt=f"p{i}") for i in range(3)] + [ig.Generate(prompt="__unsafe__")]
    specs.insert(1, ig.Generate(prompt="x", aspect_ratio="1x1", resolution="1024x1024"))  # invalid: never sent
    seen: list[int] = []
    results = client.run_many(specs, progress=lambda done, total, r: seen.append(done))
    assert [r.spec for r in results] == specs
    assert [r.ok for r in results] == [True, False, True, True, False]
    assert isinstance(results[1].error, ig.SpecError)
    assert isinstance(results[4].error, ig.UnprocessableError)
    assert sorted(seen) == [1, 2, 3, 4, 5]
    assert len(client.history) == 4  # the invalid spec was never sent, so never recorded


def test_concurrency_counts_images_not_requests():
    sim = SimulatorTransport(latency=0.05, inflight_limit=10)
    client = make_client(sim, concurrency=10)
    results = client.run_many([ig.Generate(prompt=f"c{i}", num_images=4) for i in range(8)], progress=False)
    assert all(r.ok for r in results)
    assert sim.stats.max_inflight_images <= 10
    assert sim.stats.max_inflight_images >= 8  # two 4-image calls did overlap


def test_submit_returns_a_future():
    client = make_client()
    fut = client.submit(ig.Generate(prompt="later"))
    assert fut.result(timeout=30).ok


def test_describe_returns_text():
    result = make_client().run(ig.Describe(image=png_bytes()))
    assert result.descriptions and all(isinstance(t, str) and t for t in result.descriptions)


def test_inputs_are_stored_with_the_run():
    client = make_client()
    data = png_bytes((80, 80), (1, 2, 3))
    result = client.run(ig.Upscale(image=data))
    row = client.history[result.run_id]
    (inp,) = row.inputs
    assert client.history.store.get(inp["sha256"]) == data
    assert result.images[0].size == (160, 160)


def test_loopback_server_end_to_end():
    with SimulatorServer() as server:
        client = ig.Client(provider="offline", base_url=server.url, history=ig.History())
        result = client.run(ig.Generate(prompt="over a socket", aspect_ratio="16x9"))
        with Image.open(result.images[0].path) as img:
            assert img.size == (1312, 736)
        client.close()


def test_replay_gives_identical_bytes_at_zero_cost(monkeypatch):
    history = ig.History()
    spec = ig.Generate(prompt="replay me", seed=42, num_images=2)
    first = make_client(history=history).run(spec)
    rec = Recorder(SimulatorTransport())
    replay = ig.Client(provider="replay", history=history, transport=rec)
    again = replay.run(ig.Generate(prompt="replay me", seed=42, num_images=2))
    assert [im.sha256 for im in again.images] == [im.sha256 for im in first.images]
    assert again.cost_usd == 0 and again.provider == "replay" and again.replayed_from == first.run_id
    assert rec.requests == []
    with pytest.raises(ig.ReplayMiss, match="nothing was sent"):
        replay.run(ig.Generate(prompt="never recorded"))
    assert rec.requests == []


def test_api_key_never_written_anywhere(tmp_path):
    history = ig.History(tmp_path / "h")
    client = ig.Client(provider="aihubmix", api_key=FAKE_KEY, history=history,
                       transport=SimulatorTransport(faults=Faults(script=[None, "500", "500", "500", "500"])),
                       sleep=lambda s: None, max_retries=1)  # fmt: skip
    client.run(ig.Generate(prompt="a", num_images=2))
    with pytest.raises(ig.ServerError) as info:
        client.run(ig.Generate(prompt="b"))
    texts = [repr(client), str(info.value), repr(info.value), repr(client._route)]
    assert all(FAKE_KEY not in t for t in texts)
    client.close()
    files = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes(), path
