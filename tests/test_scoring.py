"""score_image and near_duplicates on constructed images: every metric measured, none faked."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import ideogram_nb as ig
from ideogram_nb import _config, _scoring_ocr
from ideogram_nb._scoring import dominant_colours, score_images, srgb_to_lab

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="apt-get install tesseract-ocr")


def _texture(size=(512, 512), seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((size[1], size[0], 3)) * 80 + 120).astype("uint8"))


def _lettering(text, size=(1024, 512)):
    img = Image.new("RGB", size, (235, 230, 220))
    ImageDraw.Draw(img).text((40, 180), text, fill=(10, 10, 10), font=ImageFont.load_default(size=120))
    return img


@needs_tesseract
def test_text_accuracy_reads_the_quoted_text_back():
    spec = ig.Generate(prompt='a shop sign that says "OPEN 24H", night')
    right = ig.score_image(_lettering("OPEN 24H"), spec)
    wrong = ig.score_image(_lettering("CLOSED"), spec)
    blank = ig.score_image(Image.new("RGB", (1024, 512), (235, 230, 220)), spec)
    assert right["text_accuracy"] == 1.0
    assert wrong["text_accuracy"] is not None and wrong["text_accuracy"] < 0.5
    assert blank["text_accuracy"] == 0.0  # no text read: measured as none, not skipped


def test_text_accuracy_does_not_apply_without_quotes_or_spec():
    assert ig.score_image(_lettering("OPEN"), ig.Generate(prompt="a shop sign"))["text_accuracy"] is None
    assert ig.score_image(_lettering("OPEN"))["text_accuracy"] is None
    assert _scoring_ocr.quoted_text('a “café” sign and "OPEN"') == ["café", "OPEN"]


def test_without_tesseract_text_accuracy_is_none_with_one_warning(monkeypatch):
    monkeypatch.setattr(_config, "TESSERACT_BINARY", "no-such-ocr-engine")
    monkeypatch.setattr(_scoring_ocr, "_warned", set())
    spec = ig.Generate(prompt='a sign saying "HELLO"')
    with pytest.warns(RuntimeWarning, match="no-such-ocr-engine.*not installed.*tesseract-ocr"):
        first = ig.score_image(_lettering("HELLO"), spec)
    again = ig.score_image(_lettering("HELLO"), spec)  # the warning is not repeated (filterwarnings=error)
    assert first["text_accuracy"] is None and again["text_accuracy"] is None
    assert first["sharpness"] is not None


def test_edit_locality_counts_only_changes_outside_the_mask():
    source = _texture()
    mask = ig.Mask(512, 512)
    mask.rect(128, 128, 384, 384)  # the middle quarter may change
    spec = ig.Edit(prompt="a hat", image=source, mask=mask.to_png())
    inside = source.copy()
    ImageDraw.Draw(inside).rectangle((150, 150, 360, 360), fill=(255, 0, 0))
    assert ig.score_image(inside, spec)["edit_locality"] == 1.0
    outside = inside.copy()
    ImageDraw.Draw(outside).rectangle((0, 0, 511, 63), fill=(0, 0, 255))  # a band across the top
    keep = 512 * 512 - 256 * 256
    assert ig.score_image(outside, spec)["edit_locality"] == pytest.approx(1 - 512 * 64 / keep, abs=1e-3)
    assert ig.score_image(inside, ig.Generate(prompt="a hat"))["edit_locality"] is None


def test_palette_delta_e_is_small_for_the_requested_colours():
    img = Image.new("RGB", (256, 256), "#d62828")
    ImageDraw.Draw(img).rectangle((128, 0, 255, 255), fill="#1d3557")
    asked = ig.score_image(img, ig.Generate(prompt="flag", color_palette=["#d62828", "#1d3557"]))
    other = ig.score_image(img, ig.Generate(prompt="flag", color_palette=["#2a9d8f", "#e9c46a"]))
    assert asked["palette_delta_e"] < 1.0
    assert other["palette_delta_e"] > 30
    assert ig.score_image(img, ig.Generate(prompt="flag", color_palette="EMBER"))["palette_delta_e"] is None
    assert ig.score_image(img, ig.Generate(prompt="flag"))["palette_delta_e"] is None
    assert {rgb for rgb, _ in dominant_colours(img)} == {(0xD6, 0x28, 0x28), (0x1D, 0x35, 0x57)}
    # CIE76 against a known pair: white vs black is 100 in L*
    lab = srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0]]))
    assert np.linalg.norm(lab[0] - lab[1]) == pytest.approx(100.0, abs=0.01)


def test_sharpness_drops_with_blur_and_is_zero_when_flat():
    sharp = _texture()
    blurred = sharp.filter(ImageFilter.GaussianBlur(4))
    s, b = ig.score_image(sharp)["sharpness"], ig.score_image(blurred)["sharpness"]
    assert 0 < b < s <= 1
    assert ig.score_image(Image.new("RGB", (64, 64), "grey"))["sharpness"] == 0.0


def test_near_duplicates_find_the_same_picture_twice(tmp_path):
    a, b = _texture(seed=1), _texture(seed=2)
    a_small = a.resize((256, 256))  # the same picture, smaller and re-encoded
    a_small.save(tmp_path / "a.jpg", quality=70)
    assert ig.near_duplicates([a, b, tmp_path / "a.jpg"]) == [(0, 2, ig.near_duplicates([a, tmp_path / "a.jpg"])[0][2])]
    assert ig.near_duplicates([a, b]) == []
    scores = score_images([a, b, a.copy()], None)
    assert [s["near_duplicate"] for s in scores] == [1.0, 0.0, 1.0]
    assert score_images([a], None)[0]["near_duplicate"] is None


@needs_tesseract
def test_text_accuracy_is_measured_on_the_simulators_lettering(tmp_path):
    from ideogram_nb.simulator import SimulatorTransport

    client = ig.Client(provider="offline", history=ig.History(tmp_path / "h"), transport=SimulatorTransport())
    res = client.run(ig.Generate(prompt='a shop sign that says "OPEN LATE"', rendering_speed="TURBO", seed=1))
    image = res.images[0]
    assert ig.score_image(image, res.spec)["text_accuracy"] == 1.0
    # the same picture judged against text it does not show: read, and found wanting
    assert ig.score_image(image, ig.Generate(prompt='a sign that says "CLOSED"'))["text_accuracy"] < 0.5
