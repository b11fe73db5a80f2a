"""The simulator answers like the schema: every answer it gives, on every route, in every shape
(several images, withheld images, describe, upscale, custom models, character references,
errors), validates against the response Ideogram's official OpenAPI schema documents for that
route and status (issue #11).

The oracle is `tests/openapi_support.py` (OpenAPI 3.0 → JSON Schema); formats the draft-4
validator does not check (`date-time`, `uri`) are checked here. A first test shows the oracle
rejects the mismatches this issue fixed, so a pass means something.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import pytest
from _schema_cases import mask_png, path_of, png, request
from openapi_support import requires_schema, response_errors, validate_response

from ideogram_nb import _api
from ideogram_nb.simulator import Faults, SimulatorTransport

pytestmark = requires_schema

BASE_URL = "http://simulator.invalid"
KEY = {"Api-Key": "test-key-not-secret"}
FORMATS = jsonschema.FormatChecker()


def _check_formats(body: dict[str, Any]) -> None:
    """What the draft-4 validator leaves unchecked: `created` is an RFC 3339 date-time, every
    `url` a URI, and `is_image_safe` false exactly when the URL is withheld."""
    assert FORMATS.conforms(body["created"], "date-time"), body["created"]
    for item in body["data"]:
        assert (item["url"] is None) == (item["is_image_safe"] is False), item
        if item["url"] is not None:
            assert FORMATS.conforms(item["url"], "uri"), item["url"]


def _post(endpoint: str, kwargs: dict[str, Any], *, sim: SimulatorTransport | None = None,
          headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    with httpx.Client(transport=sim or SimulatorTransport(), base_url=BASE_URL) as client:
        return client.post(path_of(endpoint), headers=KEY if headers is None else headers, **kwargs)


def test_the_oracle_rejects_the_answers_this_issue_fixed():
    """Without this, a broken oracle would pass every test below."""
    item = {"url": None, "prompt": "", "resolution": "120x70", "is_image_safe": False, "seed": 1}
    upscale_null_style = {"created": "2026-01-01T00:00:00+00:00", "data": [{**item, "style_type": None}]}
    v3_freeform_resolution = {"created": "2026-01-01T00:00:00+00:00", "data": [{**item, "resolution": "160x120"}]}

    assert any("style_type" in e for e in response_errors("/upscale", 200, upscale_null_style))
    assert any("resolution" in e for e in response_errors("/v1/ideogram-v3/edit", 200, v3_freeform_resolution))
    assert response_errors("/describe", 401, None)  # undocumented statuses are errors too
    assert not FORMATS.conforms("2026-01-01 00:00", "date-time")


# --- 200 answers: (endpoint, fields added to the minimal request, images expected) --------------
CHARACTER = png(48, 64, (220, 30, 30))
SUCCESS: dict[str, tuple[str, Callable[[], dict[str, Any]], int]] = {
    "v3 generate, multipart": ("generate", lambda: request("generate"), 1),
    "v3 generate, JSON body, several images": (
        "generate", lambda: {"json": {"prompt": "a kite", "num_images": 3, "seed": 5, "style_type": "FICTION"}}, 3),
    "v3 generate, withheld image": ("generate", lambda: request("generate", {"prompt": "__withhold__ x", "num_images": 2}), 2),
    "v3 generate, resolution": ("generate", lambda: request("generate", {"resolution": "512x1536"}), 1),
    "v3 generate, every extra": ("generate", lambda: request("generate", {
        "aspect_ratio": "16x9", "rendering_speed": "BALANCED", "magic_prompt": "ON", "negative_prompt": "fog",
        "style_preset": "BAUHAUS", "color_palette": {"name": "EMBER"}, "style_codes": ["AAFF5733", "0133FF57"]}), 1),
    "v3 generate, custom model": ("generate", lambda: request("generate", {
        "style_type": "CUSTOM", "custom_model_uri": "model/my-model/version/1"}), 1),
    "v3 generate, character reference + mask": ("generate", lambda: {"files": request("generate")["files"] + [
        ("character_reference_images", ("c.png", CHARACTER, "image/png")),
        ("character_reference_images_mask", ("m.png", png(48, 64, (255, 255, 255)), "image/png"))]}, 1),
    "v3 remix, several images": ("remix", lambda: request("remix", {"num_images": 2, "image_weight": 70}), 2),
    "v3 edit, input size kept": ("edit", lambda: {"files": request("edit")["files"][:1] + [
        ("image", ("i.png", png(160, 120), "image/png")), ("mask", ("m.png", mask_png(160, 120), "image/png"))]}, 1),
    "v3 edit, an image too small to spell": ("edit", lambda: {"files": request("edit")["files"][:1] + [
        ("image", ("i.png", png(8, 6), "image/png")), ("mask", ("m.png", mask_png(8, 6), "image/png"))]}, 1),
    "v3 edit, custom model and character": ("edit", lambda: {"files": request("edit", {
        "custom_model_uri": "model/m/version/2"})["files"] + [("character_reference_images", ("c.png", CHARACTER, "image/png"))]}, 1),
    "v3 reframe, several images": ("reframe", lambda: request("reframe", {"resolution": "1536x512", "num_images": 2}), 2),
    "v3 replace-background, odd size": ("replace-background", lambda: request("replace-background", image=png(200, 150)), 1),
    "legacy generate, several images": ("legacy-generate", lambda: request("legacy-generate", {"num_images": 2}), 2),
    "legacy generate, V_1 (no style)": ("legacy-generate", lambda: request("legacy-generate", {"model": "V_1"}), 1),
    "legacy generate, AUTO model, new style": ("legacy-generate", lambda: request("legacy-generate", {
        "model": "AUTO", "style_type": "STYLIZED", "magic_prompt_version": "V_0_3",
        "resolution": "RESOLUTION_1280_720", "negative_prompt": "fog"}), 1),
    "legacy generate, withheld": ("legacy-generate", lambda: request("legacy-generate", {"prompt": "__withhold__"}), 1),
    "legacy remix": ("legacy-remix", lambda: request("legacy-remix", {"image_weight": 20, "model": "V_2A"}), 1),
    "legacy edit": ("legacy-edit", lambda: request("legacy-edit", {"num_images": 2, "style_type": "ANIME"}), 2),
    "upscale": ("upscale", lambda: request("upscale", {"resemblance": 80, "detail": 20}, image=png(120, 70)), 1),
    "upscale, prompt, several, withheld": ("upscale", lambda: request("upscale", {
        "prompt": "__withhold__ sharper", "num_images": 2, "magic_prompt_option": "ON"}), 2),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SUCCESS))
def test_every_200_answer_validates_against_the_official_schema(case):
    endpoint, build, count = SUCCESS[case]
    response = _post(endpoint, build())

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    validate_response(path_of(endpoint), 200, body)
    _check_formats(body)
    assert len(body["data"]) == count


def test_the_cases_above_cover_every_image_route():
    covered = {endpoint for endpoint, _, _ in SUCCESS.values()}
    assert covered == set(_api.ROUTES) - {"describe"}


@pytest.mark.parametrize("version", [None, "V_2", "V_3", "CUSTOM"])
def test_describe_answers_validate_for_every_model_version(version):
    fields = {} if version is None else {"describe_model_version": version}
    response = _post("describe", request("describe", fields, image=png(80, 40, (200, 40, 40))))

    assert response.status_code == 200, response.text
    body = response.json()
    validate_response("/describe", 200, body)
    assert body["descriptions"] and all(d["text"] for d in body["descriptions"])


def test_answers_with_faults_that_keep_the_answer_still_validate():
    sim = SimulatorTransport(faults=Faults(script=["expired_urls"]))
    response = _post("generate", request("generate", {"num_images": 2}), sim=sim)

    assert response.status_code == 200
    validate_response(path_of("generate"), 200, response.json())
    _check_formats(response.json())


# --- errors: the statuses each route documents ---------------------------------------------------
def _documented(endpoint: str, status: int) -> bool:
    return not response_errors(path_of(endpoint), status, None)  # documented, no body schema


INVALID: dict[str, dict[str, Any]] = {
    "generate": request("generate", {"num_images": 9}),
    "remix": request("remix", {"image_weight": 0}),
    "edit": {"files": request("edit")["files"][:-1]},  # no mask
    "reframe": request("reframe", {"resolution": "1000x1000"}),
    "replace-background": request("replace-background", {"rendering_speed": "SLOW"}),
    "legacy-generate": request("legacy-generate", {"model": "V_9"}),
    "legacy-remix": request("legacy-remix", {"aspect_ratio": "ASPECT_5_4"}),
    "legacy-edit": request("legacy-edit", {"model": "V_1"}),
    "upscale": request("upscale", {"detail": 101}),
    "describe": request("describe", {"describe_model_version": "V_9"}),
}


@pytest.mark.parametrize("endpoint", list(_api.ROUTES))
def test_400_answers_are_documented_for_every_route(endpoint):
    response = _post(endpoint, INVALID[endpoint])

    assert response.status_code == 400, response.text
    validate_response(path_of(endpoint), 400, response.json())
    assert response.json()["detail"]  # the message a client shows


@pytest.mark.parametrize("endpoint", [e for e in _api.ROUTES if e != "describe"])
def test_a_missing_key_gets_the_status_the_route_documents(endpoint):
    response = _post(endpoint, request(endpoint), headers={})

    documented = [s for s in (401, 403) if _documented(endpoint, s)]
    assert documented and response.status_code == documented[0]
    validate_response(path_of(endpoint), response.status_code, response.json())


@pytest.mark.parametrize("endpoint", list(_api.ROUTES))
def test_422_safety_answers_have_the_documented_error_body(endpoint):
    if endpoint in ("reframe", "upscale", "describe"):  # no prompt to flag: the image fails
        kwargs = request(endpoint, image=png(text="__unsafe__"))
    else:
        kwargs = request(endpoint, {"prompt": "__unsafe__ thing"})
    response = _post(endpoint, kwargs)

    assert response.status_code == 422, response.text
    validate_response(path_of(endpoint), 422, response.json())
    assert "safety check" in response.json()["error"]


@pytest.mark.parametrize("endpoint", [e for e in _api.ROUTES if e not in ("generate", "legacy-generate")])
def test_unsafe_input_images_are_refused_with_422_on_every_image_route(endpoint):
    response = _post(endpoint, request(endpoint, image=png(text="__unsafe__")))

    assert response.status_code == 422
    validate_response(path_of(endpoint), 422, response.json())
    assert response.json()["error"].startswith("Image provided failed safety check")


@pytest.mark.parametrize("endpoint", list(_api.ROUTES))
def test_429_answers_are_documented_for_every_route(endpoint):
    response = _post(endpoint, request(endpoint), sim=SimulatorTransport(faults=Faults(script=["429"])))

    assert response.status_code == 429
    validate_response(path_of(endpoint), 429, response.json())


def test_the_error_bodies_are_json_a_client_can_read():
    bad = _post("generate", INVALID["generate"])
    unsafe = _post("generate", request("generate", {"prompt": "__unsafe__"}))

    assert bad.headers["content-type"] == "application/problem+json"
    assert set(bad.json()) == {"detail", "status", "title", "type"}
    assert json.loads(unsafe.text) == {"error": unsafe.json()["error"]}
