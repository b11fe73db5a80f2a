"""The simulator's images: right sizes, same bytes for the same request, expiring URLs, and
operations that do what their names say (measured on the pixels)."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from ideogram_nb import _api
from ideogram_nb.simulator import SimulatorTransport

V3 = "/v1/ideogram-v3/"


def _size_of(client: httpx.Client, response: httpx.Response) -> tuple[int, int]:
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(client.get(response.json()["data"][0]["url"]).content)) as image:
        return image.size


def _pattern(width: int, height: int) -> np.ndarray:
    """A busy, non-uniform input image, so resampling and blending show up in the numbers."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1),
                     ((x // 8 + y // 8) % 2) * 200], axis=2).astype(np.uint8)  # fmt: skip


@pytest.mark.parametrize("aspect", _api.V3_ASPECT_RATIOS)
def test_v3_images_have_the_size_of_their_aspect_ratio(client, kit, aspect):
    response = client.post(V3 + "generate", files=kit.form(prompt="x", aspect_ratio=aspect))

    width, height = _api.V3_ASPECT_SIZES[aspect]
    assert response.json()["data"][0]["resolution"] == f"{width}x{height}"
    assert _size_of(client, response) == (width, height)


@pytest.mark.parametrize("resolution", ["1536x640", "704x1472", "1024x1024"])
def test_v3_images_have_the_requested_resolution(client, kit, resolution):
    response = client.post(V3 + "generate", files=kit.form(prompt="x", resolution=resolution))

    assert _size_of(client, response) == _api.parse_size(resolution)


@pytest.mark.parametrize("aspect", _api.LEGACY_ASPECT_RATIOS)
def test_legacy_images_have_the_size_of_their_aspect_ratio(client, aspect):
    response = client.post("/generate", json={"image_request": {"prompt": "x", "aspect_ratio": aspect}})

    assert _size_of(client, response) == _api.LEGACY_ASPECT_SIZES[aspect]


def test_default_sizes_and_legacy_resolutions(client, kit):
    v3 = client.post(V3 + "generate", files=kit.form(prompt="x"))
    legacy = client.post("/generate", json={"image_request": {"prompt": "x", "resolution": "RESOLUTION_1280_720"}})

    assert _size_of(client, v3) == (1024, 1024)
    assert _size_of(client, legacy) == (1280, 720)


def test_the_same_request_gives_the_same_bytes_even_on_a_fresh_simulator(kit):
    def run() -> list[bytes]:
        with httpx.Client(transport=SimulatorTransport(), base_url=kit.base_url, headers=kit.key_headers) as c:
            answer = c.post(V3 + "generate", files=kit.form(prompt="a red kite", seed=99, num_images=2)).json()
            return [c.get(item["url"]).content for item in answer["data"]]

    first, second = run(), run()
    assert first == second
    assert first[0] != first[1]  # same seed, yet each image of a call is its own


def test_a_given_seed_is_returned_for_every_image(client, kit):
    answer = client.post(V3 + "generate", files=kit.form(prompt="x", seed=1234, num_images=3)).json()

    assert [item["seed"] for item in answer["data"]] == [1234, 1234, 1234]


def test_without_a_seed_each_image_gets_its_own_and_reusing_it_reproduces_the_image(client, kit):
    answer = client.post(V3 + "generate", files=kit.form(prompt="a red kite", num_images=2)).json()
    seeds = [item["seed"] for item in answer["data"]]
    again = client.post(V3 + "generate", files=kit.form(prompt="a red kite", seed=seeds[1])).json()

    assert len(set(seeds)) == 2
    assert all(0 <= s <= _api.SEED_MAX for s in seeds)
    assert client.get(again["data"][0]["url"]).content == client.get(answer["data"][1]["url"]).content


def test_the_simulator_seed_varies_only_unseeded_requests(kit):
    def seeds(sim_seed: int, **fields: object) -> list[int]:
        with httpx.Client(transport=SimulatorTransport(seed=sim_seed), base_url=kit.base_url,
                          headers=kit.key_headers) as c:  # fmt: skip
            answer = c.post(V3 + "generate", files=kit.form(prompt="x", **fields)).json()
            return [item["seed"] for item in answer["data"]]

    assert seeds(1) != seeds(2)
    assert seeds(1, seed=5) == seeds(2, seed=5) == [5]


def test_different_prompts_give_different_images(client, kit, fetch):
    a = fetch(client.post(V3 + "generate", files=kit.form(prompt="a red kite", seed=1)))
    b = fetch(client.post(V3 + "generate", files=kit.form(prompt="a green field", seed=1)))

    assert np.abs(a.astype(int) - b.astype(int)).mean() > 20


def test_image_urls_expire_on_the_simulators_clock(kit):
    now = [1_700_000_000.0]
    sim = SimulatorTransport(url_ttl_s=60, clock=lambda: now[0])
    with httpx.Client(transport=sim, base_url=kit.base_url, headers=kit.key_headers) as c:
        url = c.post(V3 + "generate", files=kit.form(prompt="x")).json()["data"][0]["url"]
        fresh = c.get(url)
        now[0] += 61
        stale = c.get(url)

    assert parse_qs(urlsplit(url).query)["exp"] == ["1700000060"]
    assert fresh.status_code == 200
    assert stale.status_code == 410
    assert stale.json() == {"error": "URL expired"}


def test_a_tampered_or_unsigned_url_is_forbidden(client, kit):
    url = client.post(V3 + "generate", files=kit.form(prompt="x")).json()["data"][0]["url"]
    exp = parse_qs(urlsplit(url).query)["exp"][0]

    assert client.get(url.replace(f"exp={exp}", f"exp={int(exp) + 3600}")).status_code == 403
    assert client.get(url.split("?")[0]).status_code == 403


def test_an_edit_changes_only_the_black_region_of_the_mask(client, kit, fetch):
    source = _pattern(160, 120)
    mask = np.full((120, 160, 3), 255, np.uint8)
    mask[30:90, 40:120] = 0
    response = client.post(V3 + "edit", files=kit.form(prompt="a window", image=kit.encode(source),
                                                       mask=kit.encode(mask)))  # fmt: skip
    out = fetch(response)

    edit = mask[..., 0] == 0
    changed = np.any(out != source, axis=2)
    assert out.shape == source.shape
    assert not changed[~edit].any()
    assert changed[edit].mean() > 0.9
    item = response.json()["data"][0]
    # V3 answers name a V3 resolution (the schema's enum): the one nearest in shape (4:3);
    # the size actually delivered is the input's, reported as `upscaled_resolution`.
    assert (item["resolution"], item["upscaled_resolution"]) == ("1152x864", "160x120")


def test_legacy_edit_keeps_the_white_region_bit_for_bit_even_for_noise(client, kit, fetch):
    source = np.random.default_rng(0).integers(0, 256, (96, 97, 3), dtype=np.uint8)
    mask = np.full((96, 97), 255, np.uint8)
    mask[:, :48] = 0
    response = client.post("/edit", files=kit.form(image_file=kit.encode(source), mask=kit.encode(mask),
                                                   prompt="x", model="V_2_TURBO"))  # fmt: skip
    out = fetch(response)

    assert np.array_equal(out[:, 48:], source[:, 48:])
    assert np.any(out[:, :48] != source[:, :48], axis=2).mean() > 0.9


def test_remix_leans_toward_the_input_as_image_weight_grows(client, kit, fetch):
    source = _pattern(256, 256)
    image = kit.encode(source)
    expected = np.asarray(Image.fromarray(source).resize((1024, 1024), Image.Resampling.BICUBIC)).astype(int)

    def distance(weight: int) -> float:
        fields = kit.form(prompt="a kite", image=image, image_weight=weight, seed=3)
        return float(np.abs(fetch(client.post(V3 + "remix", files=fields)).astype(int) - expected).mean())

    d10, d50, d90, d100 = distance(10), distance(50), distance(90), distance(100)
    assert d10 > d50 > d90 > d100
    assert d100 < 2


def test_legacy_remix_fits_the_input_to_its_aspect_ratio(client, kit):
    request = json.dumps({"prompt": "x", "aspect_ratio": "ASPECT_16_9", "image_weight": 80})
    response = client.post("/remix", files=kit.form(image_request=request, image_file=kit.encode(_pattern(64, 64))))

    assert _size_of(client, response) == (1280, 720)


def test_upscale_doubles_width_and_height_and_says_so(client, kit, fetch):
    source = _pattern(120, 70)
    request = json.dumps({"resemblance": 100, "detail": 1})
    response = client.post("/upscale", files=kit.form(image_request=request, image_file=kit.encode(source)))
    out = fetch(response)

    item = response.json()["data"][0]
    assert out.shape == (140, 240, 3)
    assert (item["resolution"], item["upscaled_resolution"]) == ("120x70", "240x140")
    back = np.asarray(Image.fromarray(out).resize((120, 70), Image.Resampling.BOX)).astype(int)
    assert np.abs(back - source.astype(int)).mean() < 8


def test_reframe_places_the_square_input_in_the_middle_of_the_target(client, kit, fetch):
    source = _pattern(64, 64)
    response = client.post(V3 + "reframe", files=kit.form(image=kit.encode(source), resolution="1280x704"))
    out = fetch(response).astype(int)

    assert out.shape == (704, 1280, 3)
    placed = np.asarray(Image.fromarray(source).resize((704, 704), Image.Resampling.BICUBIC)).astype(int)
    middle = out[:, 288 : 288 + 704]
    assert np.abs(middle - placed).mean() < 2
    assert np.abs(out[:, :288] - placed[:, :1].repeat(288, axis=1)).mean() > 10


def test_replace_background_keeps_the_foreground_and_replaces_the_rest(client, kit, fetch):
    source = kit.solid(200, 150, (245, 245, 245))
    source[40:110, 60:140] = (200, 30, 30)
    source[60:90, 80:120] = (20, 40, 160)
    out = fetch(client.post(V3 + "replace-background", files=kit.form(prompt="a beach", image=kit.encode(source))))

    foreground = np.zeros((150, 200), bool)
    foreground[40:110, 60:140] = True
    assert np.array_equal(out[foreground], source[foreground])
    assert np.abs(out[~foreground].astype(int) - source[~foreground].astype(int)).mean() > 20


def test_describe_is_deterministic_and_mentions_colour_and_size(client, kit):
    image = kit.encode(kit.solid(120, 80, (200, 30, 30)))
    first = client.post("/describe", files=kit.form(image_file=image)).json()
    second = client.post("/describe", files=kit.form(image_file=image)).json()

    texts = [d["text"] for d in first["descriptions"]]
    assert first == second
    assert len(texts) == 2
    assert "red" in texts[0]
    assert "120x80" in texts[0]
    assert "landscape" in texts[0]


def test_colour_words_in_the_prompt_colour_the_image(client, kit):
    url = client.post(V3 + "generate", files=kit.form(prompt="a deep blue sea", seed=11)).json()["data"][0]["url"]
    described = client.post("/describe", files=kit.form(image_file=client.get(url).content)).json()

    assert "blue" in described["descriptions"][0]["text"]
