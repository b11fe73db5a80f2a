"""The record inside saved images: PNG chunks, A1111 `parameters`, JPEG/WebP exports."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

import ideogram_nb as ig
from ideogram_nb._history._metadata import (
    embed_metadata,
    parameters_text,
    parse_parameters,
    read_metadata,
    save_with_metadata,
    spec_from_image,
    toolkit_version,
)

META = {
    "endpoint": "generate",
    "spec": {"endpoint": "generate", "prompt": "a red fox, watercolor", "rendering_speed": "TURBO",
             "style_type": "DESIGN", "magic_prompt": "OFF"},
    "seed": 1234,
    "resolution": "1024x1024",
    "prompt": "a red fox, watercolor",
    "provider": "offline",
}  # fmt: skip


def png_bytes(mode: str = "RGB", size: tuple[int, int] = (16, 12), seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    if mode == "P":
        im = Image.fromarray(rng.integers(0, 4, size[::-1], dtype=np.uint8), "L").convert("P")
        im.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
        im.info["transparency"] = 0
    else:
        bands = len(Image.new(mode, (1, 1)).getbands())
        shape = size[::-1] + ((bands,) if bands > 1 else ())
        im = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
    out = io.BytesIO()
    im.save(out, format="PNG", **({"transparency": 0} if mode == "P" else {}))
    return out.getvalue()


def png_chunk_types(data: bytes) -> list[bytes]:
    pos, types = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        types.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return types


def pixels(data: bytes) -> tuple[str, np.ndarray]:
    with Image.open(io.BytesIO(data)) as im:
        return im.mode, np.asarray(im).copy()


def test_roundtrip_adds_only_the_version():
    out = embed_metadata(png_bytes(), META)
    assert read_metadata(out) == {**META, "version": toolkit_version()}


def test_embedded_chunks_are_text_and_no_timestamp():
    out = embed_metadata(png_bytes(), META)
    types = png_chunk_types(out)
    assert b"tIME" not in types
    with Image.open(io.BytesIO(out)) as im:
        assert set(im.text) == {"ideogram_nb", "parameters"}
        assert json.loads(im.text["ideogram_nb"]) == {**META, "version": toolkit_version()}


def test_embedding_is_deterministic_and_idempotent():
    src = png_bytes(seed=3)
    once = embed_metadata(src, META)
    assert embed_metadata(src, META) == once
    assert embed_metadata(once, META) == once  # old chunks replaced, not stacked
    assert embed_metadata(src, {**META, "seed": 1235}) != once


def test_non_png_is_refused():
    with pytest.raises(ValueError, match="PNG"):
        embed_metadata(b"\xff\xd8\xff\xe0 not a png", META)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(["L", "LA", "RGB", "RGBA", "P"]),
    w=st.integers(1, 24),
    h=st.integers(1, 24),
    prompt=st.text(max_size=60),
    seed=st.one_of(st.none(), st.integers(0, 2_147_483_647)),
)
def test_embedding_is_lossless_and_reads_back(mode, w, h, prompt, seed):
    src = png_bytes(mode, (w, h), seed=w * 31 + h)
    meta = {**META, "seed": seed, "prompt": prompt, "spec": {**META["spec"], "prompt": prompt}}
    out = embed_metadata(src, meta)
    src_mode, src_px = pixels(src)
    out_mode, out_px = pixels(out)
    assert out_mode == src_mode
    assert np.array_equal(out_px, src_px)
    assert read_metadata(out) == {**meta, "version": toolkit_version()}


def test_parameters_line_for_v3():
    text = parameters_text({**META, "version": "9.9"})
    assert text == (
        "a red fox, watercolor\n"
        "Seed: 1234, Size: 1024x1024, Model: V3 TURBO, Endpoint: generate, Style: DESIGN, "
        "Magic prompt: OFF, Version: ideogram_nb 9.9"
    )


def test_parameters_line_for_legacy_with_negative_and_absent_parts():
    meta = {
        "endpoint": "legacy-generate",
        "spec": {"endpoint": "legacy-generate", "prompt": "cat", "model": "V_2_TURBO",
                 "negative_prompt": "blurry"},
        "seed": None, "resolution": None, "version": "1.0",
    }  # fmt: skip
    text = parameters_text(meta, size=(640, 480))
    assert text == (
        "cat\nNegative prompt: blurry\n"
        "Size: 640x480, Model: V_2_TURBO, Endpoint: legacy-generate, Version: ideogram_nb 1.0"
    )


def test_parameters_chunk_parses_back():
    out = embed_metadata(png_bytes(), {**META, "spec": {**META["spec"], "negative_prompt": "text, logos"}})
    with Image.open(io.BytesIO(out)) as im:
        parsed = parse_parameters(im.text["parameters"])
    assert parsed["prompt"] == "a red fox, watercolor"
    assert parsed["negative_prompt"] == "text, logos"
    assert parsed["seed"] == 1234
    assert parsed["size"] == "1024x1024"
    assert parsed["model"] == "V3 TURBO"
    assert parsed["magic_prompt"] == "OFF"


def test_a1111_only_png_is_read_from_parameters(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        "masterpiece, a castle\non a hill\nNegative prompt: lowres\nSteps: 20, Sampler: Euler a, "
        'CFG scale: 7, Seed: 42, Size: 512x768, Model: "sd, v1.5"',
    )
    path = tmp_path / "a1111.png"
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    meta = read_metadata(path)
    assert meta["prompt"] == "masterpiece, a castle\non a hill"
    assert meta["negative_prompt"] == "lowres"
    assert meta["seed"] == 42
    assert meta["size"] == "512x768"
    assert meta["model"] == "sd, v1.5"
    assert meta["cfg_scale"] == "7"
    with pytest.raises(ValueError, match="only A1111-style"):
        spec_from_image(path)


def test_plain_image_has_no_metadata(tmp_path):
    path = tmp_path / "plain.png"
    path.write_bytes(png_bytes())
    with pytest.raises(ValueError, match="no ideogram_nb metadata"):
        read_metadata(path)


def test_read_accepts_bytes_path_and_result_like(tmp_path):
    out = embed_metadata(png_bytes(), META)
    path = tmp_path / "x.png"
    path.write_bytes(out)

    class ResultLike:
        def __init__(self, p: Path) -> None:
            self.path = p

    assert read_metadata(out) == read_metadata(path) == read_metadata(str(path)) == read_metadata(ResultLike(path))
    with pytest.raises(TypeError):
        read_metadata(12)


def test_save_png_copies_a_stored_image_byte_for_byte(tmp_path):
    src = tmp_path / "src.png"
    src.write_bytes(embed_metadata(png_bytes(), META))
    dest = save_with_metadata(src, tmp_path / "out" / "copy.png")
    assert dest.read_bytes() == src.read_bytes()


def test_save_jpeg_keeps_record_and_flattens_alpha(tmp_path):
    src = tmp_path / "src.png"
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    meta = {**META, "prompt": "café ☕"}
    src.write_bytes(embed_metadata(buf.getvalue(), meta))
    dest = save_with_metadata(src, tmp_path / "out.JPG")
    with Image.open(dest) as im:
        assert im.format == "JPEG"
        assert im.mode == "RGB"
        r, g, b = im.getpixel((4, 4))
        assert min(r, g, b) > 240  # transparent → white, not black
    assert read_metadata(dest) == {**meta, "version": toolkit_version()}


def test_save_webp_keeps_record_losslessly(tmp_path):
    src = tmp_path / "src.png"
    src.write_bytes(embed_metadata(png_bytes(), META))
    dest = save_with_metadata(src, tmp_path / "out.bin", format="webp")
    with Image.open(dest) as im:
        assert im.format == "WEBP"
        assert np.array_equal(np.asarray(im.convert("RGB")), pixels(png_bytes())[1])
    assert read_metadata(dest) == {**META, "version": toolkit_version()}


def test_save_with_explicit_meta_and_unknown_format(tmp_path):
    src = tmp_path / "plain.png"
    src.write_bytes(png_bytes())
    dest = save_with_metadata(src, tmp_path / "tagged.png", meta=META)
    assert read_metadata(dest)["seed"] == 1234
    assert np.array_equal(pixels(dest.read_bytes())[1], pixels(src.read_bytes())[1])
    with pytest.raises(ValueError, match="format"):
        save_with_metadata(src, tmp_path / "out.gif")
    assert not (tmp_path / "out.gif").exists()


def test_toolkit_version_needs_no_installed_metadata(monkeypatch):
    """Read from the package itself (not importlib.metadata): works from an uninstalled tree
    and costs nothing when eight download threads ask at once."""
    import importlib.metadata as md

    import ideogram_nb

    def missing(name: str) -> str:
        raise md.PackageNotFoundError(name)

    monkeypatch.setattr(md, "version", missing)
    assert toolkit_version() == ideogram_nb.__version__


def test_spec_from_image_rebuilds_the_spec_with_the_image_seed(tmp_path):
    from ideogram_nb._specs import _base as base
    from ideogram_nb._specs import _v3 as v3

    spec = v3.Generate(prompt="a lighthouse at dusk", num_images=4, rendering_speed="TURBO")
    meta = {"endpoint": "generate", "spec": spec.to_dict(), "seed": 777, "resolution": "1024x1024",
            "prompt": "a lighthouse at dusk", "provider": "offline"}  # fmt: skip
    path = tmp_path / "img.png"
    path.write_bytes(embed_metadata(png_bytes(), meta))
    rebuilt = spec_from_image(path)
    assert isinstance(rebuilt, base.Spec)
    assert type(rebuilt) is v3.Generate
    assert rebuilt.prompt == "a lighthouse at dusk"
    assert rebuilt.rendering_speed == "TURBO"
    assert rebuilt.seed == 777
    assert rebuilt.num_images == 1  # that one image, not the batch it came from


def test_files_that_are_not_images_raise_our_error_naming_them(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    cut = tmp_path / "cut.png"
    cut.write_bytes(embed_metadata(png_bytes(), META)[:30])
    for path, words in ((text, "is not a readable image"), (cut, "is not a readable image"),
                        (tmp_path / "gone.png", "cannot read"), (tmp_path, "cannot read")):  # fmt: skip
        with pytest.raises(ig.MetadataError, match=words) as info:
            read_metadata(path)
        assert str(path) in str(info.value)
        assert isinstance(info.value, ValueError)  # what "no record" always raised
    with pytest.raises(ig.MetadataError, match="this image is not a readable image"):
        read_metadata(b"plain bytes")
