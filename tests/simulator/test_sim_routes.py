"""The simulator speaks the service's HTTP API: routes, bodies, auth and answer shapes."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import numpy as np
import pytest

from ideogram_nb import _api
from ideogram_nb.simulator import SimulatorTransport


def minimal_request(endpoint: str, kit) -> dict:
    """The smallest valid, real-shaped body for each endpoint (httpx.post keyword args)."""
    image = kit.encode(kit.solid(64, 64))
    mask = np.full((64, 64, 3), 255, np.uint8)
    mask[16:48, 16:48] = 0
    mask_png = kit.encode(mask)
    bodies = {
        "generate": {"files": kit.form(prompt="a lighthouse")},
        "remix": {"files": kit.form(prompt="a lighthouse", image=image)},
        "edit": {"files": kit.form(prompt="a lighthouse", image=image, mask=mask_png)},
        "reframe": {"files": kit.form(image=image, resolution="1280x704")},
        "replace-background": {"files": kit.form(prompt="a beach", image=image)},
        "legacy-generate": {"json": {"image_request": {"prompt": "a lighthouse"}}},
        "legacy-remix": {"files": kit.form(image_request=json.dumps({"prompt": "a lighthouse"}), image_file=image)},
        "legacy-edit": {"files": kit.form(image_file=image, mask=mask_png, prompt="a lighthouse", model="V_2")},
        "upscale": {"files": kit.form(image_request="{}", image_file=image)},
        "describe": {"files": kit.form(image_file=image)},
    }
    return bodies[endpoint]


@pytest.mark.parametrize("prefix", ["", "/ideogram"])
@pytest.mark.parametrize("endpoint", list(_api.ROUTES))
def test_every_route_answers_at_the_root_and_under_the_proxy_prefix(client, kit, endpoint, prefix):
    response = client.post(prefix + _api.ROUTES[endpoint], **minimal_request(endpoint, kit))

    assert response.status_code == 200, response.text
    body = response.json()
    if endpoint == "describe":
        assert [set(d) for d in body["descriptions"]] == [{"text"}, {"text"}]
        return
    datetime.fromisoformat(body["created"])
    (item,) = body["data"]
    assert {"url", "prompt", "resolution", "is_image_safe", "seed"} <= set(item)
    # Upscale has no style: the key is left out rather than null (the schema allows no null).
    assert ("style_type" in item) == (endpoint != "upscale")
    assert item["url"].startswith(f"{kit.base_url}{prefix}/images/ephemeral/")
    assert item["is_image_safe"] is True
    image = client.get(item["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"


@pytest.mark.parametrize("endpoint", list(_api.ROUTES))
def test_a_request_without_a_key_is_refused_with_401_or_403_for_remix_and_upscale(kit, endpoint):
    sim = SimulatorTransport()
    with httpx.Client(transport=sim, base_url=kit.base_url) as anonymous:
        response = anonymous.post(_api.ROUTES[endpoint], **minimal_request(endpoint, kit))

    expected = 403 if endpoint in ("remix", "legacy-remix", "upscale") else 401
    assert response.status_code == expected
    assert "Not authorized" in response.json()["detail"]
    assert sim.stats.unauthorized == 1
    assert sim.stats.images_generated == 0


def test_a_blank_key_is_refused_and_any_other_key_is_accepted(kit):
    sim = SimulatorTransport()
    with httpx.Client(transport=sim, base_url=kit.base_url) as c:
        blank = c.post("/generate", headers={"Api-Key": "  "}, json={"image_request": {"prompt": "x"}})
        other = c.post("/generate", headers={"Api-Key": "whatever"}, json={"image_request": {"prompt": "x"}})

    assert blank.status_code == 401
    assert other.status_code == 200
    assert "whatever" not in blank.text


def test_unknown_paths_answer_404_and_wrong_methods_405(client):
    assert client.post("/v1/ideogram-v3/paint", files={"prompt": (None, "x")}).status_code == 404
    assert client.post("/ideogram/nothing/here", json={}).status_code == 404
    wrong_method = client.get("/v1/ideogram-v3/generate")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


def test_a_url_encoded_form_is_refused_because_the_service_reads_multipart_or_json(client, sim):
    # httpx sends data= without files= as application/x-www-form-urlencoded.
    response = client.post("/v1/ideogram-v3/generate", data={"prompt": "a cat"})

    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]
    assert sim.stats.invalid == 1


def test_legacy_generate_takes_json_only(client):
    response = client.post("/generate", files={"image_request": (None, json.dumps({"prompt": "x"}))})

    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_v3_generate_as_json_or_multipart_gives_the_same_image(client, kit, fetch):
    as_form = client.post("/v1/ideogram-v3/generate", files=kit.form(prompt="a fox", num_images="1", seed="42"))
    as_json = client.post("/v1/ideogram-v3/generate", json={"prompt": "a fox", "num_images": 1, "seed": 42})

    assert as_form.json()["data"][0]["seed"] == as_json.json()["data"][0]["seed"] == 42
    assert np.array_equal(fetch(as_form), fetch(as_json))


def test_unknown_fields_are_ignored_like_the_service_does(client, kit, fetch):
    plain = client.post("/v1/ideogram-v3/generate", files=kit.form(prompt="a fox", seed=7))
    extra = client.post("/v1/ideogram-v3/generate", files=kit.form(prompt="a fox", seed=7, flavour="vanilla"))

    assert extra.status_code == 200
    assert np.array_equal(fetch(plain), fetch(extra))


@pytest.mark.parametrize(
    ("sent", "returned"),
    [(None, "GENERAL"), ("AUTO", "GENERAL"), ("REALISTIC", "REALISTIC"), ("DESIGN", "DESIGN")],
)
def test_style_type_is_resolved_in_the_answer(client, kit, sent, returned):
    fields = {"prompt": "a fox"} if sent is None else {"prompt": "a fox", "style_type": sent}
    response = client.post("/v1/ideogram-v3/generate", files=kit.form(**fields))

    assert response.json()["data"][0]["style_type"] == returned


def test_legacy_v1_answers_carry_no_style_type(client):
    response = client.post("/generate", json={"image_request": {"prompt": "x", "model": "V_1"}})

    assert response.status_code == 200
    # No style applies: the key is left out (the schema's StyleType has no null).
    assert "style_type" not in response.json()["data"][0]


@pytest.mark.parametrize(("magic", "suffix"), [("ON", ", highly detailed"), ("OFF", ""), ("AUTO", ""), (None, "")])
def test_the_prompt_comes_back_with_magic_prompt_applied(client, kit, magic, suffix):
    fields = {"prompt": "a quiet harbour"} | ({"magic_prompt": magic} if magic else {})
    v3 = client.post("/v1/ideogram-v3/generate", files=kit.form(**fields))
    legacy_request = {"prompt": "a quiet harbour"} | ({"magic_prompt_option": magic} if magic else {})
    legacy = client.post("/generate", json={"image_request": legacy_request})

    assert v3.json()["data"][0]["prompt"] == "a quiet harbour" + suffix
    assert legacy.json()["data"][0]["prompt"] == "a quiet harbour" + suffix


def test_stats_count_requests_by_route_and_reset(client, sim, kit, fetch):
    fetch(client.post("/v1/ideogram-v3/generate", files=kit.form(prompt="a", num_images=2)))
    client.post("/ideogram/generate", json={"image_request": {"prompt": "b"}})
    client.post("/generate", json={"image_request": {}})

    stats = sim.stats
    assert (stats.requests, stats.posts, stats.gets, stats.invalid) == (4, 3, 1, 1)
    assert stats.by_route == {"generate": 1, "legacy-generate": 2, "images": 1}
    assert stats.images_generated == 3
    assert stats.max_inflight_images == 2
    assert stats.inflight_images == 0

    sim.reset_stats()
    assert sim.stats.requests == 0
    assert sim.stats.by_route == {}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_inputs_are_read(client, kit, fmt):
    image = kit.encode(kit.solid(40, 30, (30, 160, 60)), fmt)
    response = client.post("/describe", files=kit.form(image_file=image))

    assert response.status_code == 200
    assert "40x30" in response.json()["descriptions"][0]["text"]
    assert "green" in response.json()["descriptions"][0]["text"]
