"""The simulator's v2 routes answer what Ideogram's v2 schema subset documents: each operation's
own answer (synchronous and `async`), `PriceQuote` for `dry_run`, `GenerationResponse` while
pending, completed and failed, and the 402/429 envelope; and they refuse what v2 refuses."""

from __future__ import annotations

import io

import httpx
import openapi_v2_support as v2
import pytest
from PIL import Image

from ideogram_nb._api_v2 import V2_ROUTES
from ideogram_nb.simulator import Faults, SimulatorTransport

pytestmark = v2.requires_v2_schema
KEY = {"Api-Key": "k"}
POLL = "/v2/generations/{generation_id}"


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


IMAGE = _png(Image.new("RGB", (64, 64), (200, 40, 40)))
_m = Image.new("L", (64, 64), 255)
_m.paste(0, (0, 0, 32, 64))
MASK = _png(_m)
WHITE = _png(Image.new("L", (64, 64), 255))

#: endpoint → (form fields, files) of a minimal valid request.
REQUESTS: dict[str, tuple[dict[str, str], list[tuple[str, tuple[str, bytes, str]]]]] = {
    "v2-generate-4-5": ({"prompt": "a red kite", "size": "1024x1024"}, []),
    "v2-precise-edit-4-5": ({"prompt": "gold"}, [("image", ("i.png", IMAGE, "image/png")), ("mask", ("m.png", MASK, "image/png"))]),
    "v2-inpaint-3": ({"prompt": "a cat", "rendering_speed": "turbo"},
                     [("image", ("i.png", IMAGE, "image/png")), ("mask", ("m.png", MASK, "image/png"))]),
    "v2-remix-4": ({"prompt": "blue", "image_weight": "70"}, [("image", ("i.png", IMAGE, "image/png"))]),
}  # fmt: skip


def post(client: httpx.Client, endpoint: str, extra: dict[str, str] | None = None, query: str = "") -> httpx.Response:
    fields, files = REQUESTS[endpoint]
    parts = [(k, (None, v)) for k, v in {**fields, **(extra or {})}.items()] + files
    return client.post(V2_ROUTES[endpoint] + query, files=parts, headers=KEY)


@pytest.fixture
def sim():
    transport = SimulatorTransport()
    with httpx.Client(transport=transport, base_url="http://sim") as client:
        yield transport, client


@pytest.mark.parametrize("endpoint", list(REQUESTS))
def test_synchronous_answers_match_the_schema(sim, endpoint):
    _, client = sim
    response = post(client, endpoint)
    assert response.status_code == 200, response.text
    body = response.json()
    assert v2.response_errors(V2_ROUTES[endpoint], 200, body) == []
    assert body["data"] and all(item["url"] for item in body["data"])
    assert client.get(body["data"][0]["url"]).status_code == 200


@pytest.mark.parametrize("endpoint", list(REQUESTS))
def test_dry_run_answers_a_price_quote_and_bills_nothing(sim, endpoint):
    transport, client = sim
    response = post(client, endpoint, query="?dry_run=true")
    assert response.status_code == 200
    body = response.json()
    assert v2.errors(v2.schema_of("PriceQuote"), body) == [] and body["usd_micros"] > 0
    assert transport.billed == () and transport.stats.images_generated == 0


@pytest.mark.parametrize("endpoint", list(REQUESTS))
def test_async_answers_a_generation_id_then_pending_then_completed(endpoint):
    now = [1_800_000_000.0]
    transport = SimulatorTransport(latency=10.0, clock=lambda: now[0])
    with httpx.Client(transport=transport, base_url="http://sim") as client:
        accepted = post(client, endpoint, {"async": "true"})
        body = accepted.json()
        assert accepted.status_code == 200 and "data" not in body
        assert v2.response_errors(V2_ROUTES[endpoint], 200, body) == []
        poll = POLL.format(generation_id=body["generation_id"])
        pending = client.get(poll, headers=KEY).json()
        assert pending["status"] == "pending" and set(pending) == {"generation_id", "status", "created"}
        assert v2.response_errors(POLL, 200, pending, "get") == []
        now[0] += 10.0
        done = client.get(poll, headers=KEY).json()
        assert done["status"] == "completed" and done["usage_cost_usd_micros"] > 0
        assert v2.response_errors(POLL, 200, done, "get") == []
        assert transport.stats.posts == 1 and len(transport.billed) == 1


def test_a_failed_job_and_an_unknown_generation(sim):
    transport = SimulatorTransport(faults=Faults(script=["job_failed"]))
    with httpx.Client(transport=transport, base_url="http://sim") as client:
        body = post(client, "v2-generate-4-5", {"async": "true"}).json()
        failed = client.get(POLL.format(generation_id=body["generation_id"]), headers=KEY).json()
        assert failed["status"] == "failed" and failed["failure_reason"] == "content_policy_violation"
        assert v2.response_errors(POLL, 200, failed, "get") == []
        assert client.get(POLL.format(generation_id="nope"), headers=KEY).status_code == 404


def test_402_and_429_answer_the_generation_error_envelope():
    transport = SimulatorTransport(faults=Faults(script=["402", "429"], retry_after=4))
    with httpx.Client(transport=transport, base_url="http://sim") as client:
        paid = post(client, "v2-generate-4-5")
        limited = post(client, "v2-generate-4-5")
    assert paid.status_code == 402 and paid.json()["reject_reason"] == "insufficient_funds"
    assert limited.status_code == 429 and limited.headers["retry-after"] == "4"
    assert limited.json()["reject_reason"] == "inflight_limit" and limited.json()["max_inflight_requests"] >= 1
    for response in (paid, limited):
        assert v2.response_errors(V2_ROUTES["v2-generate-4-5"], response.status_code, response.json()) == []
    assert transport.billed == ()


def test_poll_faults_happen_to_polls_only(sim):
    transport = SimulatorTransport(faults=Faults(poll_script=["429", "503"], retry_after=2))
    with httpx.Client(transport=transport, base_url="http://sim") as client:
        body = post(client, "v2-generate-4-5", {"async": "true"}).json()
        poll = POLL.format(generation_id=body["generation_id"])
        first, second, third = (client.get(poll, headers=KEY) for _ in range(3))
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (429, "2", 503)
    assert third.json()["status"] == "completed"


@pytest.mark.parametrize(("endpoint", "extra", "files", "word"), [
    ("v2-generate-4-5", {"quality": "HIGH"}, None, "quality"),
    ("v2-generate-4-5", {"quality": "very_low"}, None, "very_low"),
    ("v2-generate-4-5", {"size": "1000x1000"}, None, "size"),
    ("v2-generate-4-5", {"size": "source"}, None, "source"),
    ("v2-precise-edit-4-5", {"context_window": "auto"}, [("image", ("i.png", IMAGE, "image/png"))], "auto"),
    ("v2-precise-edit-4-5", {}, [("image", ("i.png", IMAGE, "image/png")), ("mask", ("m.png", WHITE, "image/png"))],
     "black"),
    ("v2-inpaint-3", {}, [("image", ("i.png", IMAGE, "image/png"))], "mask"),
])  # fmt: skip
def test_what_v2_refuses_is_refused(sim, endpoint, extra, files, word):
    transport, client = sim
    fields, default_files = REQUESTS[endpoint]
    parts = [(k, (None, v)) for k, v in {**fields, **extra}.items()] + (default_files if files is None else files)
    response = client.post(V2_ROUTES[endpoint], files=parts, headers=KEY)
    assert response.status_code == 400 and word in response.json()["detail"]
    assert transport.billed == ()


def test_json_bodies_and_no_key(sim):
    _, client = sim
    ok = client.post(V2_ROUTES["v2-generate-4-5"], json={"prompt": "x", "num_images": 2, "private": True}, headers=KEY)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 2
    assert client.post(V2_ROUTES["v2-generate-4-5"], json={"prompt": "x"}).status_code == 401


def test_describe_4_answers_a_json_prompt(sim):
    transport, client = sim
    parts = [("include_tags", (None, "true")), ("image", ("i.png", IMAGE, "image/png"))]
    response = client.post(V2_ROUTES["v2-describe-4"], files=parts, headers=KEY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert v2.response_errors(V2_ROUTES["v2-describe-4"], 200, body) == []
    assert "red" in body["json_prompt"]["high_level_description"] and body["json_prompt"]["tags"]
    assert client.post(V2_ROUTES["v2-describe-4"] + "?dry_run=true", files=parts, headers=KEY).json().get("object") != (
        "price_quote"
    )  # describe takes no dry_run: the simulator, like the service, ignores it and describes


# --- replace-background: always asynchronous --------------------------------------------------
def _subject_on_plain(width: int = 96, height: int = 64) -> bytes:
    """A red square (the subject) on a plain light grey backdrop."""
    img = Image.new("RGB", (width, height), (235, 235, 235))
    img.paste((200, 20, 20), (32, 16, 64, 48))
    return _png(img)


def _replace_background(client: httpx.Client, fields: dict[str, str], image: bytes, query: str = "") -> httpx.Response:
    parts = [(k, (None, v)) for k, v in fields.items()] + [("image", ("i.png", image, "image/png"))]
    return client.post(V2_ROUTES["v2-replace-background-3"] + query, files=parts, headers=KEY)


def test_replace_background_answers_only_a_generation_id_and_the_job_keeps_the_subject():
    now = [1_800_000_000.0]
    transport = SimulatorTransport(latency=10.0, clock=lambda: now[0])
    source = _subject_on_plain()
    with httpx.Client(transport=transport, base_url="http://sim") as client:
        accepted = _replace_background(client, {"prompt": "a deep blue ocean", "num_images": "2"}, source)
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert set(body) == {"generation_id"}  # no data, no seed: the job is polled
        assert v2.response_errors(V2_ROUTES["v2-replace-background-3"], 200, body) == []
        poll = POLL.format(generation_id=body["generation_id"])
        pending = client.get(poll, headers=KEY).json()
        assert pending["status"] == "pending" and v2.response_errors(POLL, 200, pending, "get") == []
        now[0] += 10.0
        done = client.get(poll, headers=KEY).json()
        assert done["status"] == "completed" and v2.response_errors(POLL, 200, done, "get") == []
        assert len(done["data"]) == 2 and done["usage_cost_usd_micros"] == 2 * 60_000  # 3.0 default speed
        made = Image.open(io.BytesIO(client.get(done["data"][0]["url"]).content)).convert("RGB")
    assert made.size == (96, 64) and done["data"][0]["resolution"] == "96x64"
    before, after = Image.open(io.BytesIO(source)).convert("RGB"), made
    subject = [(x, y) for x in range(32, 64) for y in range(16, 48)]
    assert all(after.getpixel(p) == before.getpixel(p) for p in subject)  # the subject is kept as it was
    border = [(x, 0) for x in range(96)] + [(0, y) for y in range(64)]
    changed = sum(after.getpixel(p) != before.getpixel(p) for p in border)
    assert changed > len(border) // 2  # the backdrop is new
    assert transport.stats.posts == 1 and len(transport.billed) == 1


def test_replace_background_dry_run_is_a_price_quote_and_bills_nothing(sim):
    transport, client = sim
    response = _replace_background(client, {"prompt": "a forest", "rendering_speed": "turbo", "num_images": "3"},
                                   _subject_on_plain(), "?dry_run=true")  # fmt: skip
    body = response.json()
    assert response.status_code == 200 and v2.errors(v2.schema_of("PriceQuote"), body) == []
    assert body["usd_micros"] == 3 * 30_000 and body["quantity"] == 3
    assert transport.billed == () and transport.stats.images_generated == 0


@pytest.mark.parametrize(("fields", "image", "word"), [
    ({"prompt": "a forest"}, _png(Image.new("RGB", (200, 64), (9, 9, 9))), "3 times"),
    ({"prompt": "   "}, IMAGE, "prompt"),
    ({"prompt": "x" * 4001}, IMAGE, "4000"),
    ({"prompt": "a forest", "rendering_speed": "FLASH"}, IMAGE, "rendering_speed"),
    ({"prompt": "a forest", "num_images": "9"}, IMAGE, "num_images"),
])  # fmt: skip
def test_what_replace_background_refuses_is_refused(sim, fields, image, word):
    transport, client = sim
    response = _replace_background(client, fields, image)
    assert response.status_code == 400 and word in response.json()["detail"]
    assert transport.billed == ()
