"""The simulator rejects what the service rejects: 400 problem documents naming the field,
422 for the safety check, and withheld (unsafe) images inside a good answer."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

V3 = "/v1/ideogram-v3/"


def _png(kit, w=64, h=64, colour=(40, 120, 200)):
    return kit.encode(kit.solid(w, h, colour))


def _mask(kit, w=64, h=64, black=(16, 48, 16, 48), grey=False):
    pixels = np.full((h, w, 3), 255, np.uint8)
    x0, x1, y0, y1 = black
    pixels[y0:y1, x0:x1] = 128 if grey else 0
    return kit.encode(pixels)


def _gif(kit):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buffer, format="GIF")
    return buffer.getvalue()


# (path, builder(kit) -> httpx keyword args, field the 400 must name)
CASES = {
    "missing prompt": (V3 + "generate", lambda k: {"files": k.form(num_images=1)}, "prompt"),
    "rendering_speed enum": (V3 + "generate", lambda k: {"files": k.form(prompt="x", rendering_speed="FAST")}, "rendering_speed"),
    "num_images 0": (V3 + "generate", lambda k: {"files": k.form(prompt="x", num_images=0)}, "num_images"),
    "num_images 9": (V3 + "generate", lambda k: {"files": k.form(prompt="x", num_images=9)}, "num_images"),
    "num_images text": (V3 + "generate", lambda k: {"files": k.form(prompt="x", num_images="two")}, "num_images"),
    "seed negative": (V3 + "generate", lambda k: {"files": k.form(prompt="x", seed=-1)}, "seed"),
    "seed too big": (V3 + "generate", lambda k: {"json": {"prompt": "x", "seed": 2147483648}}, "seed"),
    "aspect_ratio enum": (V3 + "generate", lambda k: {"files": k.form(prompt="x", aspect_ratio="7x5")}, "aspect_ratio"),
    "resolution enum": (V3 + "generate", lambda k: {"files": k.form(prompt="x", resolution="1000x1000")}, "resolution"),
    "aspect and resolution": (V3 + "generate", lambda k: {"files": k.form(prompt="x", aspect_ratio="1x1", resolution="1024x1024")}, "resolution"),
    "magic_prompt enum": (V3 + "generate", lambda k: {"files": k.form(prompt="x", magic_prompt="MAYBE")}, "magic_prompt"),
    "v3 style_type enum": (V3 + "generate", lambda k: {"files": k.form(prompt="x", style_type="ANIME")}, "style_type"),
    "style_codes pattern": (V3 + "generate", lambda k: {"files": k.form(prompt="x", style_codes="xyz")}, "style_codes"),
    "style_codes with style_type": (V3 + "generate", lambda k: {"files": k.form(prompt="x", style_codes="0a1b2c3d", style_type="DESIGN")}, "style_codes"),
    "style_codes with references": (V3 + "generate", lambda k: {"files": k.form(prompt="x", style_codes="0a1b2c3d", style_reference_images=_png(k))}, "style_codes"),
    "color_palette shape": (V3 + "generate", lambda k: {"files": k.form(prompt="x", color_palette='{"name": "NEON"}')}, "color_palette"),
    "style reference not an image": (V3 + "generate", lambda k: {"files": k.form(prompt="x", style_reference_images=[_png(k), b"not an image"])}, "style_reference_images"),
    "json num_images as string": (V3 + "generate", lambda k: {"json": {"prompt": "x", "num_images": "2"}}, "num_images"),
    "remix image_weight 0": (V3 + "remix", lambda k: {"files": k.form(prompt="x", image=_png(k), image_weight=0)}, "image_weight"),
    "remix image_weight 101": (V3 + "remix", lambda k: {"files": k.form(prompt="x", image=_png(k), image_weight=101)}, "image_weight"),
    "remix missing image": (V3 + "remix", lambda k: {"files": k.form(prompt="x")}, "image"),
    "remix image as text": (V3 + "remix", lambda k: {"files": k.form(prompt="x", image="cat.png")}, "image"),
    "remix GIF image": (V3 + "remix", lambda k: {"files": k.form(prompt="x", image=_gif(k))}, "image"),
    "remix undecodable image": (V3 + "remix", lambda k: {"files": k.form(prompt="x", image=b"\x89PNG\r\n\x1a\nbroken")}, "image"),
    "remix image over 10 MB": (V3 + "remix", lambda k: {"files": k.form(prompt="x", image=b"\0" * (10 * 1024 * 1024 + 1))}, "image"),
    "edit missing mask": (V3 + "edit", lambda k: {"files": k.form(prompt="x", image=_png(k))}, "mask"),
    "edit mask size": (V3 + "edit", lambda k: {"files": k.form(prompt="x", image=_png(k), mask=_mask(k, 32, 32, (0, 16, 0, 16)))}, "mask"),
    "edit mask grey": (V3 + "edit", lambda k: {"files": k.form(prompt="x", image=_png(k), mask=_mask(k, grey=True))}, "mask"),
    "edit mask pure white": (V3 + "edit", lambda k: {"files": k.form(prompt="x", image=_png(k), mask=_mask(k, black=(0, 0, 0, 0)))}, "mask"),
    "edit mask under 10%": (V3 + "edit", lambda k: {"files": k.form(prompt="x", image=_png(k), mask=_mask(k, black=(0, 8, 0, 8)))}, "mask"),
    "reframe not square": (V3 + "reframe", lambda k: {"files": k.form(image=_png(k, 64, 32), resolution="1024x1024")}, "image"),
    "reframe missing resolution": (V3 + "reframe", lambda k: {"files": k.form(image=_png(k))}, "resolution"),
    "replace-background missing prompt": (V3 + "replace-background", lambda k: {"files": k.form(image=_png(k))}, "prompt"),
    "legacy no image_request": ("/generate", lambda k: {"json": {"prompt": "x"}}, "image_request"),
    "legacy aspect enum": ("/generate", lambda k: {"json": {"image_request": {"prompt": "x", "aspect_ratio": "1x1"}}}, "aspect_ratio"),
    "legacy model enum": ("/generate", lambda k: {"json": {"image_request": {"prompt": "x", "model": "V_9"}}}, "model"),
    "legacy style_type with V_1": ("/generate", lambda k: {"json": {"image_request": {"prompt": "x", "model": "V_1", "style_type": "ANIME"}}}, "style_type"),
    "legacy negative_prompt with V_2A": ("/generate", lambda k: {"json": {"image_request": {"prompt": "x", "model": "V_2A", "negative_prompt": "y"}}}, "negative_prompt"),
    "legacy resolution with V_1": ("/generate", lambda k: {"json": {"image_request": {"prompt": "x", "model": "V_1", "resolution": "RESOLUTION_1024_1024"}}}, "resolution"),
    "legacy aspect and resolution": ("/generate", lambda k: {"json": {"image_request": {"prompt": "x", "aspect_ratio": "ASPECT_1_1", "resolution": "RESOLUTION_1024_1024"}}}, "resolution"),
    "legacy remix image_request not JSON": ("/remix", lambda k: {"files": k.form(image_request="{prompt: x}", image_file=_png(k))}, "image_request"),
    "legacy remix image_weight": ("/remix", lambda k: {"files": k.form(image_request=json.dumps({"prompt": "x", "image_weight": 0}), image_file=_png(k))}, "image_weight"),
    "legacy edit model V_1": ("/edit", lambda k: {"files": k.form(image_file=_png(k), mask=_mask(k), prompt="x", model="V_1")}, "model"),
    "legacy edit missing model": ("/edit", lambda k: {"files": k.form(image_file=_png(k), mask=_mask(k), prompt="x")}, "model"),
    "upscale resemblance": ("/upscale", lambda k: {"files": k.form(image_request=json.dumps({"resemblance": 0}), image_file=_png(k))}, "resemblance"),
    "upscale detail": ("/upscale", lambda k: {"files": k.form(image_request=json.dumps({"detail": 101}), image_file=_png(k))}, "detail"),
    "upscale missing image_file": ("/upscale", lambda k: {"files": k.form(image_request="{}")}, "image_file"),
    "describe not an image": ("/describe", lambda k: {"files": k.form(image_file=b"hello")}, "image_file"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_is_a_400_problem_document_naming_the_field(client, sim, kit, case):
    path, build, field = CASES[case]
    response = client.post(path, **build(kit))

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert body["type"] == "about:blank"
    assert f"'{field}'" in body["detail"]
    assert sim.stats.invalid == 1
    assert sim.stats.images_generated == 0


def test_every_broken_field_is_named_at_once(client):
    response = client.post("/v1/ideogram-v3/generate", json={"num_images": 12, "seed": -5})

    detail = response.json()["detail"]
    assert response.status_code == 400
    assert all(f"'{name}'" in detail for name in ("prompt", "num_images", "seed"))


def test_the_seed_typo_for_16_10_is_accepted_as_the_real_value(client):
    response = client.post("/generate", json={"image_request": {"prompt": "x", "aspect_ratio": "SPECT_16_10"}})

    assert response.status_code == 200
    assert response.json()["data"][0]["resolution"] == "1280x800"


def test_an_unsafe_prompt_is_a_422_with_the_service_error_shape(client, sim):
    response = client.post("/v1/ideogram-v3/generate", json={"prompt": "something __unsafe__", "num_images": 2})

    assert response.status_code == 422
    assert response.json()["error"].startswith("Prompt provided failed safety check due to")
    assert sim.stats.unsafe == 1
    assert sim.stats.images_generated == 0


def test_a_withheld_image_has_no_url_and_the_others_arrive(client, sim, fetch):
    response = client.post("/v1/ideogram-v3/generate", json={"prompt": "a cat __withhold__", "num_images": 3})

    assert response.status_code == 200
    first, *rest = response.json()["data"]
    assert first["url"] is None
    assert first["is_image_safe"] is False
    assert isinstance(first["seed"], int)
    assert [item["is_image_safe"] for item in rest] == [True, True]
    assert fetch(response, 1).shape == (1024, 1024, 3)
    assert (sim.stats.images_withheld, sim.stats.images_generated) == (1, 2)


def test_valid_color_palettes_and_style_codes_are_accepted(client, kit):
    members = json.dumps({"members": [{"color_hex": "#ff8800", "color_weight": 0.6}, {"color_hex": "#00f"}]})
    by_members = client.post(V3 + "generate", files=kit.form(prompt="x", color_palette=members))
    by_name = client.post(V3 + "generate", files=kit.form(prompt="x", color_palette='{"name": "PASTEL"}'))
    codes = client.post(V3 + "generate", files=kit.form(prompt="x", style_codes=["0a1b2c3d", "DEADBEEF"]))

    assert [r.status_code for r in (by_members, by_name, codes)] == [200, 200, 200]
