"""Image inputs: every accepted kind normalises to the bytes that are sent; every bad file
is refused with the field, the format or size, and the rule."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ideogram_nb import ImageInput, ImageInputError, _images
from ideogram_nb._config import MAX_IMAGE_BYTES
from ideogram_nb._images import (
    MAX_IMAGE_BYTES_ANY_ENDPOINT,
    binarize_mask,
    mask_rule_violations,
    mask_warnings,
    register_image_resolver,
    resolve_image_ref,
    to_image_input,
    unregister_image_resolver,
)


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def png(w: int = 8, h: int = 6, color: object = (200, 30, 30), mode: str = "RGB") -> bytes:
    return encode(Image.new(mode, (w, h), color))


def mask_png(w: int, h: int, black_rows: int, mode: str = "L") -> bytes:
    img = Image.new(mode, (w, h), "white")
    if black_rows:
        img.paste("black", (0, 0, w, black_rows))
    return encode(img)


@pytest.fixture
def image_db():
    """A resolver serving stored images from a dict, removed after the test."""
    db: dict[str, bytes] = {}
    resolver = register_image_resolver(db.get)
    yield db
    unregister_image_resolver(resolver)


# --- accepted inputs ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "mime", "ext"), [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")]
)
def test_accepted_formats_are_sent_byte_for_byte(fmt, mime, ext):
    data = encode(Image.new("RGB", (20, 10), (10, 120, 200)), fmt)
    inp = to_image_input(data)
    assert inp.data == data
    assert inp.sha256 == hashlib.sha256(data).hexdigest()
    assert (inp.mime, inp.width, inp.height) == (mime, 20, 10)
    assert inp.ref == f"sha256:{inp.sha256}"
    assert inp.filename == f"{inp.sha256[:12]}.{ext}"
    assert inp.open().size == (20, 10)


def test_paths_as_str_and_path_give_the_file_bytes(tmp_path):
    data = png(9, 7)
    file = tmp_path / "in.png"
    file.write_bytes(data)
    assert to_image_input(str(file)).data == data
    assert to_image_input(file).sha256 == hashlib.sha256(data).hexdigest()


def test_bytearray_and_memoryview_are_bytes():
    data = png()
    assert to_image_input(bytearray(data)).data == data
    assert to_image_input(memoryview(data)).data == data


def test_an_image_input_passes_through_unchanged():
    inp = to_image_input(png())
    assert to_image_input(inp) is inp


def test_pil_rgb_is_encoded_as_png():
    inp = to_image_input(Image.new("RGB", (5, 4), (1, 2, 3)))
    assert (inp.mime, inp.width, inp.height) == ("image/png", 5, 4)
    with inp.open() as img:
        assert img.mode == "RGB" and img.getpixel((0, 0)) == (1, 2, 3)


def test_pil_transparency_is_flattened_on_white():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    with to_image_input(rgba).open() as img:
        assert img.mode == "RGB" and img.getpixel((1, 1)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["P", "CMYK", "L", "1", "LA", "I"])
def test_pil_other_modes_become_rgb(mode):
    with to_image_input(Image.new(mode, (3, 3))).open() as img:
        assert img.mode == "RGB"


def test_pil_mask_is_encoded_as_greyscale():
    src = Image.new("RGB", (6, 6), "white")
    src.paste((0, 0, 0), (0, 0, 6, 3))
    with to_image_input(src, field="mask", mask=True).open() as img:
        assert img.mode == "L"
        assert img.getpixel((0, 0)) == 0 and img.getpixel((0, 5)) == 255


def test_pil_encoding_is_deterministic():
    img = Image.new("RGB", (7, 7), (9, 9, 9))
    assert to_image_input(img).sha256 == to_image_input(img.copy()).sha256


def test_result_like_objects_with_a_path(tmp_path):
    @dataclass
    class FakeResult:
        path: Path | None

    data = png(3, 3)
    (tmp_path / "r.png").write_bytes(data)
    assert to_image_input(FakeResult(tmp_path / "r.png")).data == data
    with pytest.raises(ImageInputError, match=r"image: .*withheld"):
        to_image_input(FakeResult(None))


def test_mask_like_objects_with_to_png_and_painters_with_a_mask():
    data = mask_png(4, 4, 2)

    class FakeMask:
        def to_png(self) -> bytes:
            return data

    class FakePainter:
        mask = FakeMask()

    assert to_image_input(FakeMask(), field="mask").data == data
    assert to_image_input(FakePainter(), field="mask").data == data


def test_sha256_refs_resolve_through_registered_resolvers(image_db):
    data = png(4, 5)
    sha = hashlib.sha256(data).hexdigest()
    image_db[sha] = data
    inp = to_image_input(f"sha256:{sha}")
    assert inp.data == data and inp.ref == f"sha256:{sha}"


def test_unknown_ref_says_the_history_may_have_moved(image_db):
    ref = "sha256:" + "ab" * 32
    with pytest.raises(ImageInputError) as err:
        to_image_input(ref, field="mask")
    assert str(err.value) == f"mask: no stored image {ref} (was the history moved?)"


def test_a_resolver_that_raises_keyerror_means_not_found(image_db):
    def raising(sha: str) -> bytes:
        raise KeyError(sha)

    register_image_resolver(raising)
    try:
        data = png(2, 2)
        image_db[hashlib.sha256(data).hexdigest()] = data
        assert to_image_input(f"sha256:{hashlib.sha256(data).hexdigest()}").data == data
    finally:
        unregister_image_resolver(raising)


def test_a_stored_file_that_changed_is_refused(image_db):
    sha = hashlib.sha256(b"original").hexdigest()
    image_db[sha] = png()
    with pytest.raises(ImageInputError, match="does not match its hash"):
        resolve_image_ref(f"sha256:{sha}")


def test_malformed_ref_is_refused():
    with pytest.raises(ImageInputError, match="not an image reference"):
        to_image_input("sha256:xyz")


def test_registering_twice_is_a_no_op():
    calls: list[str] = []

    def counting(sha: str) -> bytes | None:
        calls.append(sha)
        return None

    register_image_resolver(counting)
    register_image_resolver(counting)
    try:
        with pytest.raises(ImageInputError):
            to_image_input("sha256:" + "0" * 64)
    finally:
        unregister_image_resolver(counting)
    assert len(calls) == 1


# --- refused inputs -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_refused_not_converted(fmt):
    data = encode(Image.new("RGB", (4, 4)), fmt)
    with pytest.raises(ImageInputError) as err:
        to_image_input(data, field="style_reference_images[1]")
    assert str(err.value).startswith(f"style_reference_images[1]: {fmt} is not accepted; allowed JPEG, PNG, WebP")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_png_is_refused(cut):
    data = encode(Image.effect_noise((64, 64), 60).convert("RGB"))
    with pytest.raises(ImageInputError, match=r"image: .*truncated or corrupt"):
        to_image_input(data[: int(len(data) * cut)])


def test_truncated_jpeg_file_is_refused(tmp_path):
    data = encode(Image.effect_noise((64, 64), 60).convert("RGB"), "JPEG")
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageInputError, match="truncated or corrupt"):
        to_image_input(tmp_path / "cut.jpg", field="image")


def test_unreadable_bytes_are_refused():
    with pytest.raises(ImageInputError, match="image: not a readable image"):
        to_image_input(b"this is not an image at all")


def test_empty_bytes_are_refused():
    with pytest.raises(ImageInputError, match="empty"):
        to_image_input(b"")


def test_oversized_bytes_are_refused_before_decoding(monkeypatch):
    def must_not_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized image")

    monkeypatch.setattr(_images, "_decode", must_not_decode)
    big = b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES_ANY_ENDPOINT)
    with pytest.raises(ImageInputError) as err:
        to_image_input(big, field="mask")
    assert str(err.value) == (
        "mask: the image is 25.0 MB; no endpoint takes more than 25.0 MB per image (most take 10.0 MB)"
    )


def test_the_hard_limit_is_the_largest_any_endpoint_documents():
    # 10 MB (the 2026-06 schema, the seed) for most fields; 25 MB on some per Ideogram's later
    # pages. Which applies is the spec's check, per endpoint and field (see test_specs_v3).
    assert MAX_IMAGE_BYTES == 10 * 2**20 and MAX_IMAGE_BYTES_ANY_ENDPOINT == 25 * 2**20


def test_oversized_files_are_refused_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.truncate(MAX_IMAGE_BYTES_ANY_ENDPOINT + 3 * 1024 * 1024)  # sparse: no real 28 MB written
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read an oversized file"))
    with pytest.raises(ImageInputError, match=r"image: the image is 28\.0 MB; no endpoint takes more than 25\.0 MB"):
        to_image_input(big)


def test_exactly_the_limit_is_checked_by_content_not_size():
    # 25 MB exactly is allowed by size; these bytes then fail as unreadable, not as too big.
    with pytest.raises(ImageInputError, match="not a readable image"):
        to_image_input(bytes(MAX_IMAGE_BYTES_ANY_ENDPOINT))


def test_too_many_pixels_is_refused_without_a_python_warning(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageInputError, match="too many pixels"):
        to_image_input(png(40, 40))  # 1600 px: over the limit, under twice it (a warning in PIL)
    with pytest.raises(ImageInputError, match="too many pixels"):
        to_image_input(png(64, 64))  # 4096 px: PIL's hard error


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ImageInputError, match="image: no such file"):
        to_image_input(tmp_path / "nope.png")
    with pytest.raises(ImageInputError, match="is a folder"):
        to_image_input(tmp_path)


def test_unsupported_types_name_the_field():
    with pytest.raises(ImageInputError, match=r"^mask: cannot use a int as an image"):
        to_image_input(42, field="mask")


def test_image_input_repr_shows_no_bytes_and_equality_is_by_hash():
    data = png(12, 3)
    a, b = to_image_input(data), to_image_input(bytes(data))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != to_image_input(png(12, 4))
    text = repr(a)
    assert "12x3" in text and a.sha256[:12] in text and "\\x" not in text


# --- mask rules -----------------------------------------------------------------------------
def test_a_good_mask_breaks_no_rule():
    image = to_image_input(png(10, 10))
    assert mask_rule_violations(to_image_input(mask_png(10, 10, 3)), image) == []


def test_mask_coverage_edge_ten_percent_is_enough():
    image = to_image_input(png(10, 10))
    assert mask_rule_violations(to_image_input(mask_png(10, 10, 1)), image) == []  # exactly 10 %
    rules = mask_rule_violations(to_image_input(mask_png(10, 20, 1)), None)
    assert rules == ["covers 5.0 % of the image; paint at least 10 % (black = edit)"]


def test_mask_must_match_the_image_size():
    rules = mask_rule_violations(to_image_input(mask_png(10, 8, 4)), to_image_input(png(10, 10)))
    assert rules == ["must be exactly the image's size 10x10, not 10x8"]


def test_mask_pure_white_is_refused():
    assert mask_rule_violations(to_image_input(mask_png(6, 6, 0)), None) == [
        "is pure white: nothing to edit (paint the area to change black, at least 10 % of the image)"
    ]


def pixels(inp: ImageInput) -> list[int]:
    with inp.open() as img:
        return np.asarray(img.convert("L")).ravel().tolist()


def test_mask_with_grey_pixels_is_binarised_at_mid_grey_with_a_count():
    """Grey mask pixels used to be refused; now (issue #11) they are thresholded at 128 and
    the count is reported as a warning."""
    img = Image.new("L", (10, 10), 255)
    img.paste(0, (0, 0, 10, 5))
    img.putpixel((9, 9), 128)  # at mid-grey: white (keep)
    img.putpixel((8, 9), 127)  # just below: black (edit)
    raw = to_image_input(encode(img))
    assert mask_rule_violations(raw, None) == []  # judged as sent: nothing refused
    sent = to_image_input(encode(img), field="mask", mask=True)
    assert sent.moved_pixels == 2 and sent.mime == "image/png" and sent.size == (10, 10)
    values = pixels(sent)
    assert set(values) == {0, 255}
    assert values[99] == 255 and values[98] == 0 and values.count(0) == 51
    [warning] = mask_warnings(sent)
    assert warning.startswith("2 grey or coloured pixels (2.0 %) were set to pure black (below 128) or white")
    assert binarize_mask(sent) is sent  # already clean: left alone


def test_jpeg_masks_are_sent_as_clean_png_masks():
    img = Image.new("L", (32, 32), 255)
    img.paste(0, (0, 0, 32, 13))
    jpeg = encode(img.convert("RGB"), "JPEG")
    raw = to_image_input(jpeg)
    assert raw.mime == "image/jpeg"
    sent = to_image_input(jpeg, field="mask", mask=True)
    assert sent.mime == "image/png" and sent.size == (32, 32) and set(pixels(sent)) == {0, 255}
    assert sent.moved_pixels > 0 and "JPEG" in mask_warnings(sent)[0]
    assert pixels(sent).count(0) == 13 * 32  # the region survives the round trip exactly
    assert to_image_input(jpeg, field="mask", mask=True).data == sent.data  # deterministic


def test_rules_judge_the_thresholded_mask():
    light = Image.new("L", (10, 10), 200)  # all light grey: white once thresholded
    assert mask_rule_violations(to_image_input(encode(light)), None) == [
        "is pure white: nothing to edit (paint the area to change black, at least 10 % of the image)"
    ]
    dark = Image.new("L", (10, 10), 255)
    dark.paste(60, (0, 0, 10, 2))  # dark grey band: 20 % edit once thresholded
    assert mask_rule_violations(to_image_input(encode(dark)), None) == []


def test_clean_masks_are_sent_byte_for_byte():
    data = mask_png(10, 10, 4, mode="RGB")
    sent = to_image_input(data, field="mask", mask=True)
    assert sent.data == data and sent.moved_pixels == 0 and mask_warnings(sent) == []


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "1"])
def test_masks_in_rgb_rgba_and_bilevel_are_accepted(mode):
    img = Image.new("L", (10, 10), 255)
    img.paste(0, (0, 0, 10, 4))
    assert mask_rule_violations(to_image_input(encode(img.convert(mode))), to_image_input(png(10, 10))) == []


def test_input_objects_are_frozen():
    inp = to_image_input(png())
    with pytest.raises(AttributeError):
        inp.data = b""  # type: ignore[misc]
    assert isinstance(inp, ImageInput)


def test_one_wording_of_the_edit_area_rule_everywhere_and_never_rounded_up():
    """9.97 % used to read "10.0 %, must be at least 10 %" in one copy and "9.9 %" in another."""
    from ideogram_nb import ImageInputError, Mask
    from ideogram_nb._images import mask_coverage_rule

    assert mask_coverage_rule(0.0997) == "covers 9.9 % of the image; paint at least 10 % (black = edit)"
    assert mask_coverage_rule(0.10) is None
    mask = Mask(1000, 1000)
    mask.rect(0, 0, 997, 100)  # 99,700 of 1,000,000 pixels: 9.97 %
    assert mask.coverage == pytest.approx(0.0997)
    assert mask.coverage_problem() == "The mask covers 9.9 % of the image; paint at least 10 % (black = edit)"
    with pytest.raises(ImageInputError, match="covers 9.9 %"):
        mask.validate()
    image = to_image_input(png(1000, 1000))
    assert mask_rule_violations(to_image_input(mask.to_png(), field="mask", mask=True), image) == [
        mask_coverage_rule(0.0997)
    ]
