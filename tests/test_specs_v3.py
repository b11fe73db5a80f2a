"""The Ideogram 3.0 specs: their fields, defaults, aliases and every cross-field rule,
each from both sides (an error where it applies, none where it does not)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import ImageInput, SpecError
from ideogram_nb._images import to_image_input
from ideogram_nb._specs._base import ADVANCED_PRECEDENCE


def png(w: int, h: int, color: object = (90, 140, 200)) -> ImageInput:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return to_image_input(buf.getvalue())


def mask(w: int, h: int, black_rows: int) -> ImageInput:
    img = Image.new("L", (w, h), 255)
    if black_rows:
        img.paste(0, (0, 0, w, black_rows))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return to_image_input(buf.getvalue(), field="mask")


IMG = png(20, 20)
WIDE = png(30, 20)


def problem_fields(spec: ig.Spec) -> list[str]:
    return [p.field for p in spec.problems()]


def warning_fields(spec: ig.Spec) -> list[str]:
    return [p.field for p in spec.warnings()]


# --- fields ---------------------------------------------------------------------------------
SEED_FIELDS = {
    ig.Generate: ["prompt", "rendering_speed", "num_images", "aspect_ratio", "magic_prompt", "style_type",
                  "negative_prompt", "seed", "style_reference_images"],
    ig.Remix: ["prompt", "image", "image_weight", "rendering_speed", "num_images", "aspect_ratio",
               "style_reference_images", "seed", "magic_prompt", "style_type", "negative_prompt"],
    ig.Edit: ["prompt", "image", "mask", "rendering_speed", "num_images", "aspect_ratio", "seed",
              "magic_prompt", "style_type", "negative_prompt"],
    ig.Reframe: ["image", "resolution", "num_images", "seed", "rendering_speed", "style_reference_images"],
    ig.ReplaceBackground: ["prompt", "image", "rendering_speed", "num_images", "style_reference_images",
                           "seed", "magic_prompt", "style_type"],
}  # fmt: skip
CHARACTER = ["character_reference_images", "character_reference_images_mask", "custom_model_uri"]
ADVANCED = {
    ig.Generate: ["resolution", "color_palette", "style_codes", "style_preset", *CHARACTER],
    ig.Remix: ["resolution", "color_palette", "style_codes", "style_preset", *CHARACTER],
    ig.Edit: ["style_reference_images", "color_palette", "style_codes", "style_preset", *CHARACTER],
    ig.Reframe: ["color_palette", "style_codes", "style_preset"],
    ig.ReplaceBackground: ["color_palette", "style_codes", "style_preset"],
}


@pytest.mark.parametrize("cls", list(SEED_FIELDS), ids=lambda c: c.__name__)
def test_fields_are_the_seeds_then_ideograms_as_advanced(cls):
    assert set(cls.field_names()) == set(SEED_FIELDS[cls]) | set(ADVANCED[cls])
    for name in SEED_FIELDS[cls]:
        assert cls.param[name].precedence < ADVANCED_PRECEDENCE, name
    for name in ADVANCED[cls]:
        assert cls.param[name].precedence >= ADVANCED_PRECEDENCE, name
    first = min(cls.field_names(), key=lambda n: cls.param[n].precedence)
    assert first == ("image" if cls is ig.Reframe else "prompt")


def test_optional_fields_default_to_not_sent_and_docs_name_the_service_default():
    spec = ig.Generate(prompt="p")
    assert (spec.rendering_speed, spec.aspect_ratio, spec.magic_prompt, spec.style_type, spec.seed) == (None,) * 5
    assert spec.num_images == 1 and spec.negative_prompt == ""
    assert "Service default: DEFAULT" in ig.Generate.param.rendering_speed.doc
    assert "Service default: GENERAL" in ig.Generate.param.style_type.doc
    assert "Service default: 1x1" in ig.Generate.param.aspect_ratio.doc
    assert "50" in ig.Remix.param.image_weight.doc


def test_style_types_and_speeds_are_the_v3_lists():
    styles = [None, "AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION", "STYLIZED", "CUSTOM"]
    assert ig.Generate.param.style_type.objects == styles
    assert ig.Generate.param.rendering_speed.objects == [None, "TURBO", "DEFAULT", "QUALITY", "FLASH"]
    with pytest.raises(SpecError, match="style_type='ANIME'"):
        ig.Generate(prompt="p", style_type="ANIME")  # V2 only


def test_aliases_are_stored_as_the_api_value():
    assert ig.Generate(aspect_ratio="16:9").aspect_ratio == "16x9"
    assert ig.Generate(rendering_speed="BALANCED").rendering_speed == "DEFAULT"


def test_none_text_is_stored_as_empty():
    spec = ig.Generate(prompt="p", negative_prompt=None)
    assert spec.negative_prompt == "" and "negative_prompt" not in spec.to_dict()


# --- required fields ------------------------------------------------------------------------
def test_prompt_is_required_and_not_blank():
    assert problem_fields(ig.Generate()) == ["prompt"]
    assert [p.rule for p in ig.Generate(prompt=" \n").problems()] == ["required: must not be blank"]
    assert ig.Generate(prompt="a cat").problems() == []


def test_image_endpoints_require_their_images():
    assert problem_fields(ig.Remix(prompt="p")) == ["image"]
    assert problem_fields(ig.Edit(prompt="p")) == ["image", "mask"]
    assert problem_fields(ig.ReplaceBackground(prompt="p")) == ["image"]
    assert problem_fields(ig.Reframe()) == ["image", "resolution"]


def test_reframe_takes_no_prompt():
    assert "prompt" not in ig.Reframe.field_names()
    assert ig.Reframe(image=IMG, resolution="1536x640").problems() == []


# --- cross-field rules ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ig.Generate, ig.Remix])
def test_resolution_and_aspect_ratio_are_exclusive(cls):
    base = {"prompt": "p"} | ({"image": IMG} if cls is ig.Remix else {})
    both = cls(**base, resolution="1024x1024", aspect_ratio="1x1")
    [problem] = both.problems()
    assert problem.field == "resolution" and "aspect_ratio='1x1'" in problem.rule
    assert cls(**base, resolution="1024x1024").problems() == []
    assert cls(**base, aspect_ratio="3x2").problems() == []


def test_style_codes_exclude_style_references_and_style_type():
    with_refs = ig.Generate(prompt="p", style_codes=["A1B2C3D4"], style_reference_images=[IMG])
    assert [(p.field, p.rule) for p in with_refs.problems()] == [
        ("style_codes", "cannot be combined with style_reference_images")
    ]
    with_type = ig.Generate(prompt="p", style_codes="A1B2C3D4", style_type="REALISTIC")
    assert [p.rule for p in with_type.problems()] == ["cannot be combined with style_type='REALISTIC'"]
    assert ig.Generate(prompt="p", style_codes=["A1B2C3D4", "0000ffff"]).problems() == []
    assert ig.Generate(prompt="p", style_type="DESIGN", style_reference_images=[IMG]).problems() == []


def test_style_references_are_limited_to_ten_megabytes_in_total():
    def fake(i: int, size: int) -> ImageInput:
        return ImageInput(bytes([i]) * size, "image/png", 8, 8, f"{i:064x}")

    over = ig.Generate(prompt="p", style_reference_images=[fake(1, 6 * 2**20), fake(2, 5 * 2**20)])
    [problem] = over.problems()
    assert problem.field == "style_reference_images" and problem.rule == "together at most 10 MB"
    assert problem.value == "2 images, 11.0 MB"
    at_limit = ig.Generate(prompt="p", style_reference_images=[fake(1, 5 * 2**20), fake(2, 5 * 2**20)])
    assert at_limit.problems() == []


@pytest.mark.parametrize(
    "palette",
    ["EMBER", "pastel", ["#ff0000", "#00ff00"], [{"color_hex": "#ff0000", "color_weight": 0.6}],
     [("#f00", 0.05), ("#0f0", 1.0)], {"name": "MAGIC"}, {"members": [{"color_hex": "#123456"}]},
     ["#000000"] * 8, "#abc"],
)  # fmt: skip
def test_color_palette_forms_are_accepted(palette):
    spec = ig.Generate(prompt="p", color_palette=palette)
    assert spec.problems() == [] and spec.color_palette


def test_color_palette_canonical_forms():
    assert ig.Generate(color_palette="ember").color_palette == "EMBER"
    assert ig.Generate(color_palette=["#ff0000", "#00ff00"]).color_palette == ("#ff0000", "#00ff00")
    weighted = ig.Generate(color_palette=[("#ff0000", 0.6), "#00ff00"]).color_palette
    assert weighted == ({"color_hex": "#ff0000", "color_weight": 0.6}, {"color_hex": "#00ff00"})
    assert ig.Generate(color_palette=[]).color_palette is None


@pytest.mark.parametrize(
    ("palette", "words"),
    [(["#ff0000"] * 9, "at most 8 colours"), ([("#ff0000", 0.04)], "from 0.05 to 1.0"),
     ([("#ff0000", 1.01)], "from 0.05 to 1.0"), ([("#ff0000", True)], "from 0.05 to 1.0"),
     (["#ggg"], "not a hex colour"), ("red", "neither a preset"),
     ([{"color_hex": "#fff", "weight": 1}], "a colour is"), ({"name": "NOPE"}, "a dict must be")],
)  # fmt: skip
def test_bad_color_palettes_are_refused_with_the_rule(palette, words):
    with pytest.raises(SpecError) as err:
        ig.Generate(prompt="p", color_palette=palette)
    assert err.value.fields == ["color_palette"] and words in str(err.value)


def test_reframe_needs_a_square_image():
    [problem] = ig.Reframe(image=WIDE, resolution="1536x640").problems()
    assert problem.field == "image" and problem.rule == "must be square to reframe, not 30x20"
    assert ig.Reframe(image=IMG, resolution="1536x640").problems() == []


# --- edit masks -----------------------------------------------------------------------------
def test_edit_mask_rules_from_both_sides():
    ok = ig.Edit(prompt="p", image=IMG, mask=mask(20, 20, 2))
    assert ok.problems() == []  # 10 % black: just enough
    assert problem_fields(ig.Edit(prompt="p", image=IMG, mask=mask(20, 20, 1))) == ["mask"]  # 5 %
    assert problem_fields(ig.Edit(prompt="p", image=IMG, mask=mask(20, 20, 0))) == ["mask"]  # white
    wrong_size = ig.Edit(prompt="p", image=IMG, mask=mask(20, 10, 5))
    assert [p.rule for p in wrong_size.problems()] == ["must be exactly the image's size 20x20, not 20x10"]


def test_edit_mask_from_a_pil_image_is_greyscale_and_checked():
    src = Image.new("RGB", (20, 20), "white")
    src.paste((0, 0, 0), (0, 0, 20, 10))
    spec = ig.Edit(prompt="p", image=IMG, mask=src)
    with spec.mask.open() as m:
        assert m.mode == "L"
    assert spec.problems() == []


def test_edit_mask_accepts_a_mask_object():
    class FakeMask:
        def to_png(self) -> bytes:
            return mask(20, 20, 4).data

    assert ig.Edit(prompt="p", image=IMG, mask=FakeMask()).problems() == []


def test_invalid_mask_file_on_assignment_names_the_field():
    spec = ig.Edit(prompt="p", image=IMG)
    with pytest.raises(ig.ImageInputError, match=r"^mask: not a readable image"):
        spec.mask = b"garbage"
    assert spec.mask is None


# --- warnings -------------------------------------------------------------------------------
def test_seed_with_several_images_is_a_warning_not_an_error():
    spec = ig.Generate(prompt="p", seed=7, num_images=4)
    assert spec.problems() == []
    [warning] = spec.validate()
    assert warning.field == "seed" and "identical" in warning.rule
    assert ig.Generate(prompt="p", seed=7).warnings() == []
    assert ig.Generate(prompt="p", num_images=4).warnings() == []


def test_edit_warns_that_aspect_ratio_and_negative_prompt_may_be_ignored():
    spec = ig.Edit(prompt="p", image=IMG, mask=mask(20, 20, 5), aspect_ratio="1x1", negative_prompt="blur")
    assert warning_fields(spec) == ["aspect_ratio", "negative_prompt"]
    assert all("the upstream service may ignore this field" in w.rule for w in spec.validate())
    assert ig.Edit(prompt="p", image=IMG, mask=mask(20, 20, 5)).warnings() == []


def test_replace_background_warns_about_style_type_only():
    assert warning_fields(ig.ReplaceBackground(prompt="p", image=IMG, style_type="AUTO")) == ["style_type"]
    assert ig.ReplaceBackground(prompt="p", image=IMG, magic_prompt="ON").warnings() == []
    assert ig.Generate(prompt="p", style_type="AUTO").warnings() == []


# --- derived facts --------------------------------------------------------------------------
def test_expected_sizes():
    assert ig.Generate(prompt="p").expected_size() == (1024, 1024)
    assert ig.Generate(prompt="p", aspect_ratio="16x9").expected_size() == (1312, 736)
    assert ig.Generate(prompt="p", resolution="1536x640").expected_size() == (1536, 640)
    assert ig.Remix(prompt="p", image=WIDE, aspect_ratio="3x1").expected_size() == (1536, 512)
    assert ig.Edit(prompt="p", image=WIDE).expected_size() == (30, 20)
    assert ig.ReplaceBackground(prompt="p").expected_size() is None
    assert ig.Reframe(image=IMG, resolution="704x1408").expected_size() == (704, 1408)


def test_v3_specs_estimate_cost_by_speed():
    assert ig.Generate(prompt="p", num_images=3, rendering_speed="QUALITY").estimate_cost() == 0.27
    assert ig.Edit(prompt="p").estimate_cost() == 0.06


def test_codes_and_colours_with_a_trailing_newline_are_refused():
    with pytest.raises(ig.SpecError) as err:
        ig.Generate(prompt="p", style_codes=["A1B2C3D4\n"])
    assert err.value.fields[0] == "style_codes"
    with pytest.raises(ig.SpecError) as err:
        ig.Generate(prompt="p", color_palette=["#ff0000\n"])
    assert err.value.fields[0] == "color_palette"


# --- issue #11: the whole schema, no more refusals than the service makes --------------------
def fake(size: int, tag: int = 1, w: int = 8, h: int = 8) -> ImageInput:
    """An input of `size` bytes without encoding one (only sizes are checked here)."""
    return ImageInput(bytes([tag]) * size, "image/png", w, h, f"{tag:064x}")


def test_character_reference_fields_on_generate_remix_and_edit_only():
    for cls in (ig.Generate, ig.Remix, ig.Edit):
        assert {"character_reference_images", "character_reference_images_mask", "custom_model_uri"} <= set(
            cls.field_names()
        )
    for cls in (ig.Reframe, ig.ReplaceBackground):  # the schema has neither there
        assert "character_reference_images" not in cls.field_names()
        assert "custom_model_uri" not in cls.field_names()


def test_one_character_reference_is_allowed_more_are_refused():
    one = ig.Generate(prompt="p", character_reference_images=[IMG])
    assert one.problems() == [] and one.warnings() == []
    two = ig.Generate(prompt="p", character_reference_images=[IMG, WIDE])
    [problem] = two.problems()  # "currently only supports 1": no source allows more
    assert problem.field == "character_reference_images" and problem.rule.startswith("at most 1")


def test_character_references_share_ten_megabytes():
    over = ig.Remix(prompt="p", image=IMG, character_reference_images=[fake(11 * 2**20, 1)])
    rules = [p.rule for p in over.problems() if p.field == "character_reference_images"]
    assert "together at most 10 MB" in rules


def test_character_masks_must_match_the_references_in_number_and_should_in_size():
    grey = Image.new("L", (20, 20), 128)
    no_refs = ig.Generate(prompt="p", character_reference_images_mask=[grey])
    [problem] = no_refs.problems()
    assert problem.field == "character_reference_images_mask" and "0 given" in problem.rule
    fits = ig.Generate(prompt="p", character_reference_images=[IMG], character_reference_images_mask=[grey])
    assert fits.problems() == [] and fits.warnings() == []
    with fits.character_reference_images_mask[0].open() as m:
        assert m.mode == "L"  # a PIL mask is sent greyscale, its greys kept (not thresholded)
        assert m.getpixel((3, 3)) == 128
    off_size = ig.Edit(prompt="p", image=IMG, mask=mask(20, 20, 5), character_reference_images=[WIDE],
                       character_reference_images_mask=[grey])  # fmt: skip
    assert off_size.problems() == []
    [warning] = off_size.warnings()
    assert warning.field == "character_reference_images_mask" and "30x20" in warning.rule


def test_character_reference_is_priced_at_its_own_rate_per_speed():
    base = {"prompt": "p", "character_reference_images": [IMG], "num_images": 2}
    assert ig.Generate(**base, rendering_speed="TURBO").estimate_cost() == 0.20
    assert ig.Generate(**base).estimate_cost() == 0.30  # DEFAULT
    assert ig.Remix(**base, image=IMG, rendering_speed="QUALITY").estimate_cost() == 0.40
    assert ig.Edit(**base, image=IMG, mask=mask(20, 20, 5), rendering_speed="TURBO").estimate_cost() == 0.20
    assert ig.Generate(prompt="p", num_images=2).estimate_cost() == 0.12  # without: the plain rate


def test_custom_model_and_custom_style_are_warned_where_only_prose_speaks():
    ok = ig.Generate(prompt="p", custom_model_uri="model/my-model/version/1")
    assert ok.problems() == [] and ok.warnings() == []
    assert ig.Generate(prompt="p", custom_model_uri="model/m/version/1", style_type="CUSTOM").warnings() == []
    odd = ig.Generate(prompt="p", custom_model_uri="my-model")
    assert odd.problems() == [] and [w.field for w in odd.warnings()] == ["custom_model_uri"]
    clash = ig.Remix(prompt="p", image=IMG, custom_model_uri="model/m/version/1", style_type="REALISTIC")
    assert clash.problems() == [] and [w.field for w in clash.warnings()] == ["style_type"]
    lonely = ig.Generate(prompt="p", style_type="CUSTOM")
    [warning] = lonely.warnings()
    assert warning.field == "style_type" and "set custom_model_uri" in warning.rule


def test_files_between_ten_and_twenty_five_megabytes_warn_where_a_source_allows_them():
    remix = ig.Remix(prompt="p", image=fake(13 * 2**20))
    assert remix.problems() == []  # Ideogram's later remix-v3 page: "max size 25MB"
    [warning] = remix.warnings()
    assert warning.field == "image" and "13.0 MB" in warning.rule and "25.0 MB" in warning.rule
    assert [p.field for p in ig.Remix(prompt="p", image=fake(26 * 2**20)).problems()] == ["image"]
    replace = ig.ReplaceBackground(prompt="p", image=fake(13 * 2**20))  # no source allows more than 10 MB
    [problem] = replace.problems()
    assert problem.field == "image" and problem.rule == "is 13.0 MB; at most 10.0 MB (per file on this endpoint)"
    legacy = ig.LegacyRemix(prompt="p", image=fake(13 * 2**20))
    assert [p.field for p in legacy.problems()] == ["image"]


def test_a_jpeg_edit_mask_is_warned_and_sent_clean_at_the_images_size():
    img = Image.new("L", (20, 20), 255)
    img.paste(0, (0, 0, 20, 6))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=60)
    spec = ig.Edit(prompt="p", image=IMG, mask=buf.getvalue())
    assert spec.problems() == []
    [warning] = spec.validate()
    assert warning.field == "mask" and f"{spec.mask.moved_pixels} grey or coloured pixels" in warning.rule
    from ideogram_nb._specs._wire import build_request

    [(field, (_name, data, mime))] = [f for f in build_request(spec).files if f[0] == "mask"]
    with Image.open(io.BytesIO(data)) as sent:
        assert (sent.format, sent.size, mime) == ("PNG", (20, 20), "image/png")
        assert set(sent.convert("L").getextrema()) == {0, 255}


def test_grey_masks_are_still_refused_when_white_or_too_small_once_thresholded():
    light = Image.new("L", (20, 20), 180)
    assert "pure white" in ig.Edit(prompt="p", image=IMG, mask=light).problems()[0].rule
    thin = Image.new("L", (20, 20), 255)
    thin.paste(90, (0, 0, 20, 1))  # 5 % dark grey
    assert "5.0 %" in ig.Edit(prompt="p", image=IMG, mask=thin).problems()[0].rule
