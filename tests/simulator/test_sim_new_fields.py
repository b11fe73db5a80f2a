"""The fields the schema added, modelled: character references (drawn into the picture, checked
like the service states, counted in the billed ledger), custom models (style CUSTOM), legacy
`model=AUTO` and the newer legacy style types, `magic_prompt_version`, and describe's
`describe_model_version`. Each changes the output deterministically."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
from _schema_cases import mask_png, png
from PIL import Image

V3 = "/v1/ideogram-v3/"
RED = (220, 30, 30)


def _file(name: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return name, (f"{name}.png", data, "image/png")


def _grey(width: int, height: int, top: int, bottom: int) -> bytes:
    """A grey mask: `top` in the upper half, `bottom` in the lower half."""
    pixels = np.full((height, width), bottom, np.uint8)
    pixels[: height // 2] = top
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _pixels(client: httpx.Client, kit, response: httpx.Response, index: int = 0) -> np.ndarray:
    assert response.status_code == 200, response.text
    return kit.decode(client.get(response.json()["data"][index]["url"]).content)


BASE = [("prompt", (None, "a knight in a blue field")), ("seed", (None, "9"))]


# --- character references ------------------------------------------------------------------------
def test_a_character_reference_is_drawn_into_every_image_of_the_call(client, kit, sim):
    with_character = client.post(V3 + "generate", files=[*BASE, ("num_images", (None, "2")),
                                                         _file("character_reference_images", png(60, 80, RED))])  # fmt: skip
    without = client.post(V3 + "generate", files=BASE)

    for index in (0, 1):
        centre = _pixels(client, kit, with_character, index)[480:544, 480:544].reshape(-1, 3)
        assert np.abs(centre.astype(int) - RED).max() <= 2  # the red character sits in the middle
    assert not np.array_equal(_pixels(client, kit, with_character), _pixels(client, kit, without))
    assert [b.character_references for b in sim.billed] == [1, 0]  # priced apart upstream


def test_a_character_mask_keeps_only_the_white_part_of_the_character(client, kit):
    fields = [*BASE, _file("character_reference_images", png(64, 64, RED)),
              _file("character_reference_images_mask", _grey(64, 64, top=255, bottom=0))]  # fmt: skip
    out = _pixels(client, kit, client.post(V3 + "generate", files=fields)).astype(int)

    # The sprite is 0.4 x 1024 ≈ 409 px square, centred: its upper half is red; in its lower
    # half (masked out) no pixel comes near red, the blue picture shows through.
    assert np.abs(out[420:500, 420:600] - RED).max() <= 2
    assert np.abs(out[560:700, 420:600] - RED).max(axis=2).min() > 20


def test_on_edit_a_character_appears_only_inside_the_edited_region(client, kit):
    source = kit.solid(128, 128, (240, 240, 240))
    fields = [("prompt", (None, "a knight")), _file("image", kit.encode(source)), _file("mask", mask_png(128, 128)),
              _file("character_reference_images", png(32, 32, RED))]  # fmt: skip
    out = _pixels(client, kit, client.post(V3 + "edit", files=fields))

    keep = np.ones((128, 128), bool)
    keep[32:96, 32:96] = False
    assert np.array_equal(out[keep], source[keep])
    assert np.abs(out[60:68, 60:68].astype(int) - RED).max() <= 2


@pytest.mark.parametrize(
    ("parts", "problem"),
    [
        ([png(), png()], "at most 1"),
        ([png(), ("mask", _grey(64, 64, 255, 0)), ("mask", _grey(64, 64, 255, 0))], "counts must match"),
        ([("mask", _grey(64, 64, 255, 0))], "counts must match"),
        ([b"not an image"], "not a decodable"),
    ],
    ids=["two references", "two masks for one", "a mask alone", "not an image"],
)
def test_character_references_are_checked_like_the_service_states(client, parts, problem):
    files = []
    for part in parts:
        if isinstance(part, tuple):
            files.append(_file("character_reference_images_mask", part[1]))
        else:
            files.append(_file("character_reference_images", part))
    response = client.post(V3 + "remix", files=[*BASE, _file("image", png()), *files])

    assert response.status_code == 400
    assert "'character_reference_images" in response.json()["detail"]
    assert problem in response.json()["detail"]


def test_a_character_mask_of_another_size_or_in_colour_is_read_as_its_luminance(client, kit):
    """Prose rules ("a grayscale image of the same dimensions"): warned by the client, so
    accepted here; a half-size mask stretched over the reference means the same as a full one."""
    reference = _file("character_reference_images", png(64, 64, RED))
    half = client.post(V3 + "generate", files=[*BASE, reference,
                                               _file("character_reference_images_mask", _grey(32, 32, 255, 0))])  # fmt: skip
    coloured = client.post(V3 + "generate", files=[*BASE, reference,
                                                   _file("character_reference_images_mask", png(64, 64, (255, 255, 0)))])  # fmt: skip

    assert np.abs(_pixels(client, kit, half)[420:500, 420:600].astype(int) - RED).max() <= 2
    assert coloured.status_code == 200


def test_routes_without_character_references_ignore_the_field_like_any_unknown_field(client, kit):
    plain = client.post(
        V3 + "reframe", files=[("resolution", (None, "1024x1024")), ("seed", (None, "3")), _file("image", png())]
    )
    extra = client.post(V3 + "reframe", files=[("resolution", (None, "1024x1024")), ("seed", (None, "3")), _file("image", png()),
                                               _file("character_reference_images", png(8, 8, RED))])  # fmt: skip

    assert np.array_equal(_pixels(client, kit, extra), _pixels(client, kit, plain))


# --- custom models ---------------------------------------------------------------------------------
def test_a_custom_model_answers_style_custom_and_changes_the_image(client, kit):
    custom = client.post(V3 + "generate", files=[*BASE, ("custom_model_uri", (None, "model/knights/version/2"))])
    other = client.post(V3 + "generate", files=[*BASE, ("custom_model_uri", (None, "model/knights/version/3")),
                                                ("style_type", (None, "CUSTOM"))])  # fmt: skip
    plain = client.post(V3 + "generate", files=BASE)

    assert [r.json()["data"][0]["style_type"] for r in (custom, other, plain)] == ["CUSTOM", "CUSTOM", "GENERAL"]
    images = [_pixels(client, kit, r) for r in (custom, other, plain)]
    assert not np.array_equal(images[0], images[1]) and not np.array_equal(images[0], images[2])


@pytest.mark.parametrize(
    "fields",
    [
        [("style_type", (None, "CUSTOM"))],
        [("custom_model_uri", (None, "my-model"))],
        [("custom_model_uri", (None, "model/knights/version/2")), ("style_type", (None, "REALISTIC"))],
    ],
    ids=["CUSTOM without a model", "not in the documented form", "a model and another style"],
)
def test_custom_model_prose_rules_are_not_refused(client, fields):
    """The form model/<name>/version/<version> and "style_type is not required" are prose,
    not schema rules: the client only warns about them, so the simulator accepts them (and a
    custom model's style is CUSTOM, as "the style will be resolved from this URI")."""
    response = client.post(V3 + "generate", files=[*BASE, *fields])

    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["style_type"] == "CUSTOM"


# --- legacy: model AUTO, newer style types, magic_prompt_version --------------------------------------
def test_legacy_model_auto_lets_the_service_choose_a_model_that_fits_the_request(client):
    request = {"prompt": "x", "model": "AUTO", "negative_prompt": "fog", "resolution": "RESOLUTION_1280_720",
               "color_palette": {"name": "JUNGLE"}, "style_type": "RENDER_3D"}  # fmt: skip
    generated = client.post("/generate", json={"image_request": request})
    edited = client.post("/edit", files=[("prompt", (None, "x")), ("model", (None, "AUTO")),
                                         _file("image_file", png()), _file("mask", mask_png())])  # fmt: skip

    assert generated.status_code == 200, generated.text
    assert generated.json()["data"][0]["resolution"] == "1280x720"
    assert edited.status_code == 200, edited.text


@pytest.mark.parametrize("style", ["FICTION", "STYLIZED", "CUSTOM"])
def test_the_newer_legacy_style_types_are_accepted_and_reported(client, style):
    response = client.post("/generate", json={"image_request": {"prompt": "x", "style_type": style}})

    assert response.status_code == 200
    assert response.json()["data"][0]["style_type"] == style


def test_magic_prompt_version_changes_the_image_deterministically(client, kit):
    def image(version: str | None) -> np.ndarray:
        request = {"prompt": "x", "seed": 4, "magic_prompt_option": "ON"}
        if version:
            request["magic_prompt_version"] = version
        return _pixels(client, kit, client.post("/generate", json={"image_request": request}))

    assert np.array_equal(image("V_0_2"), image("V_0_2"))
    assert not np.array_equal(image("V_0_2"), image("V_0_3"))
    assert not np.array_equal(image("V_0_2"), image(None))
    bad = client.post("/upscale", files=[("image_request", (None, json.dumps({"magic_prompt_version": "V_1"}))),
                                         _file("image_file", png())])  # fmt: skip
    assert bad.status_code == 400 and "'magic_prompt_version'" in bad.json()["detail"]


# --- describe ------------------------------------------------------------------------------------
def test_describe_model_version_changes_the_descriptions(client):
    def texts(version: str | None) -> list[str]:
        fields = [_file("image_file", png(80, 40, RED))]
        if version:
            fields.append(("describe_model_version", (None, version)))
        response = client.post("/describe", files=fields)
        assert response.status_code == 200
        return [d["text"] for d in response.json()["descriptions"]]

    default, v3, v2, custom = texts(None), texts("V_3"), texts("V_2"), texts("CUSTOM")
    assert default == v3 and len(v3) == 2
    assert v2 == v3[:1]
    assert len(custom) == 2 and custom != v3
    assert "red" in v3[0] and "landscape" in v3[0]


# --- per-field size limits ---------------------------------------------------------------------------
def test_the_larger_per_file_limits_of_later_docs_are_accepted_where_they_apply(client):
    """25 MB on V3 remix's and edit's image (later v1 pages; the client sends it with a
    warning), 10 MB elsewhere."""
    noise = np.random.default_rng(1).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG", compress_level=0)
    big = buffer.getvalue()
    assert 10 * 2**20 < len(big) < 25 * 2**20

    remix = client.post(V3 + "remix", files=[*BASE, _file("image", big)])
    reframe = client.post(V3 + "reframe", files=[("resolution", (None, "1024x1024")), _file("image", big)])

    assert remix.status_code == 200, remix.text
    assert reframe.status_code == 400 and "larger than 10 MB" in reframe.json()["detail"]
