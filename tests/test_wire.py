"""Wire shapes per endpoint, exactly as API.md describes them."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import ImageInput, SpecError
from ideogram_nb._images import to_image_input
from ideogram_nb._specs._wire import WireRequest, build_request, request_hash


def png(w: int, h: int, color: object = (10, 200, 90)) -> ImageInput:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return to_image_input(buf.getvalue())


def mask(w: int, h: int) -> ImageInput:
    img = Image.new("L", (w, h), 255)
    img.paste(0, (0, 0, w, h // 2))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return to_image_input(buf.getvalue())


IMG, IMG2, MASK = png(16, 16), png(16, 16, (1, 2, 3)), mask(16, 16)


def part(img: ImageInput) -> tuple[str, bytes, str]:
    return (img.filename, img.data, img.mime)


PATHS = [
    (ig.Generate(prompt="p"), "/v1/ideogram-v3/generate"),
    (ig.Remix(prompt="p", image=IMG), "/v1/ideogram-v3/remix"),
    (ig.Edit(prompt="p", image=IMG, mask=MASK), "/v1/ideogram-v3/edit"),
    (ig.Reframe(image=IMG, resolution="1024x1024"), "/v1/ideogram-v3/reframe"),
    (ig.ReplaceBackground(prompt="p", image=IMG), "/v1/ideogram-v3/replace-background"),
    (ig.LegacyGenerate(prompt="p"), "/generate"),
    (ig.LegacyRemix(prompt="p", image=IMG), "/remix"),
    (ig.LegacyEdit(prompt="p", image=IMG, mask=MASK), "/edit"),
    (ig.Upscale(image=IMG), "/upscale"),
    (ig.Describe(image=IMG), "/describe"),
]


@pytest.mark.parametrize(("spec", "path"), PATHS, ids=[p for _, p in PATHS])
def test_paths_and_body_kind(spec, path):
    wire = build_request(spec)
    assert wire.path == path
    assert wire.is_multipart == (path != "/generate")
    assert (wire.json is None) == wire.is_multipart


# --- V3: multipart, every value a string ----------------------------------------------------
def test_v3_generate_sends_strings_and_omits_unset_fields():
    wire = build_request(ig.Generate(prompt="a fox", num_images=2, seed=42, rendering_speed="TURBO",
                                     aspect_ratio="16:9", style_type="DESIGN"))  # fmt: skip
    assert wire.data == {"prompt": "a fox", "rendering_speed": "TURBO", "num_images": "2",
                         "aspect_ratio": "16x9", "style_type": "DESIGN", "seed": "42"}  # fmt: skip
    assert wire.files == [] and wire.json is None
    assert all(isinstance(v, str) for v in wire.data.values())


def test_v3_color_palette_is_a_json_string():
    preset = build_request(ig.Generate(prompt="p", color_palette="EMBER")).data["color_palette"]
    assert json.loads(preset) == {"name": "EMBER"}
    members = build_request(ig.Generate(prompt="p", color_palette=[("#ff0000", 0.6), "#00ff00"])).data["color_palette"]
    assert json.loads(members) == {"members": [{"color_hex": "#ff0000", "color_weight": 0.6}, {"color_hex": "#00ff00"}]}


def test_v3_style_codes_are_a_repeated_part():
    wire = build_request(ig.Generate(prompt="p", style_codes=["A1B2C3D4", "00ff00ff"]))
    assert wire.data["style_codes"] == ["A1B2C3D4", "00ff00ff"]


def test_v3_images_are_file_parts_and_references_repeat():
    wire = build_request(ig.Remix(prompt="p", image=IMG, image_weight=80, style_reference_images=[IMG2, IMG]))
    assert wire.data == {"prompt": "p", "image_weight": "80", "num_images": "1"}
    assert wire.files == [("image", part(IMG)), ("style_reference_images", part(IMG2)),
                          ("style_reference_images", part(IMG))]  # fmt: skip


def test_v3_edit_sends_image_and_mask():
    wire = build_request(ig.Edit(prompt="hat", image=IMG, mask=MASK))
    assert [name for name, _ in wire.files] == ["image", "mask"]
    assert wire.files[1] == ("mask", part(MASK)) and MASK.filename.endswith(".png")


def test_reframe_sends_no_prompt():
    wire = build_request(ig.Reframe(image=IMG, resolution="1536x640", seed=0))
    assert wire.data == {"resolution": "1536x640", "num_images": "1", "seed": "0"}


# --- legacy ---------------------------------------------------------------------------------
def test_legacy_generate_is_json_with_numbers_and_the_model():
    wire = build_request(ig.LegacyGenerate(prompt="p", num_images=3, seed=9, aspect_ratio="SPECT_16_10",
                                           color_palette=["#ff0000"], negative_prompt=""))  # fmt: skip
    assert wire.json == {"image_request": {"prompt": "p", "model": "V_2", "aspect_ratio": "ASPECT_16_10",
                                           "num_images": 3, "seed": 9,
                                           "color_palette": {"members": [{"color_hex": "#ff0000"}]}}}  # fmt: skip
    assert wire.data is None and wire.files is None


def test_legacy_remix_sends_image_request_as_a_json_string_beside_image_file():
    wire = build_request(ig.LegacyRemix(prompt="p", image=IMG, image_weight=70, model="V_2A", color_palette=None))
    assert set(wire.data) == {"image_request"}
    expected = {"prompt": "p", "image_weight": 70, "model": "V_2A", "num_images": 1}
    assert json.loads(wire.data["image_request"]) == expected
    assert wire.files == [("image_file", part(IMG))]


def test_upscale_sends_image_request_and_image_file():
    wire = build_request(ig.Upscale(image=IMG, resemblance=55, detail=90))
    assert json.loads(wire.data["image_request"]) == {"resemblance": 55, "detail": 90, "num_images": 1}
    assert wire.files == [("image_file", part(IMG))]


def test_legacy_edit_is_flat_multipart():
    wire = build_request(ig.LegacyEdit(prompt="p", image=IMG, mask=MASK, model="V_2_TURBO", seed=5))
    assert wire.data == {"prompt": "p", "model": "V_2_TURBO", "num_images": "1", "seed": "5"}
    assert wire.files == [("image_file", part(IMG)), ("mask", part(MASK))]
    assert "image_request" not in wire.data


def test_describe_sends_image_file_and_optional_version():
    plain = build_request(ig.Describe(image=IMG))
    assert plain.data == {} and plain.files == [("image_file", part(IMG))]
    versioned = build_request(ig.Describe(image=IMG, describe_model_version="V_2"))
    assert versioned.data == {"describe_model_version": "V_2"}


# --- safety and identity --------------------------------------------------------------------
def test_an_invalid_spec_cannot_be_built_unless_asked():
    with pytest.raises(SpecError) as err:
        build_request(ig.Generate(prompt=""))
    assert err.value.fields == ["prompt"]
    assert build_request(ig.Generate(prompt=""), check=False).data == {"num_images": "1"}


def test_wire_repr_shows_no_image_bytes():
    text = repr(build_request(ig.Remix(prompt="p", image=IMG)))
    assert "bytes" in text and IMG.filename in text and "\\x89PNG" not in text


def test_request_hash_is_sha256_of_the_canonical_dict():
    spec = ig.Generate(prompt="p", seed=1, num_images=2)
    canonical = json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"))
    assert request_hash(spec) == hashlib.sha256(canonical.encode()).hexdigest()


def test_request_hash_ignores_spelling_and_order_but_not_content(tmp_path):
    a = ig.Generate(prompt="p", aspect_ratio="16:9", seed=1)
    b = ig.Generate(seed=1, aspect_ratio="16x9", prompt="p")
    assert request_hash(a) == request_hash(b)
    assert request_hash(a) != request_hash(a.copy(seed=2))
    assert request_hash(a) != request_hash(ig.LegacyGenerate(prompt="p", seed=1))
    file = tmp_path / "in.png"
    file.write_bytes(IMG.data)
    assert request_hash(ig.Remix(prompt="p", image=file)) == request_hash(ig.Remix(prompt="p", image=IMG.data))
    assert request_hash(ig.Remix(prompt="p", image=IMG)) != request_hash(ig.Remix(prompt="p", image=IMG2))


def test_wire_request_is_a_plain_dataclass():
    wire = WireRequest("/describe", data={}, files=[])
    assert wire.json is None and wire.is_multipart
