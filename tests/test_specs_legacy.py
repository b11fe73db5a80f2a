"""The V1/V2 specs: the model decides which fields are allowed; each rule from both sides."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import ImageInput, SpecError
from ideogram_nb._images import to_image_input
from ideogram_nb._specs._base import ADVANCED_PRECEDENCE


def png(w: int, h: int) -> ImageInput:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 60, 30)).save(buf, format="PNG")
    return to_image_input(buf.getvalue())


def mask(w: int, h: int, black_rows: int) -> ImageInput:
    img = Image.new("L", (w, h), 255)
    if black_rows:
        img.paste(0, (0, 0, w, black_rows))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return to_image_input(buf.getvalue())


IMG = png(20, 20)
ALL_MODELS = ["V_1", "V_1_TURBO", "V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO", "V_3", "AUTO"]


def rules(spec: ig.Spec) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in spec.problems()]


def warned(spec: ig.Spec) -> list[str]:
    return [p.field for p in spec.warnings()]


# --- fields ---------------------------------------------------------------------------------
FIELDS = {
    ig.LegacyGenerate: {"prompt", "aspect_ratio", "model", "magic_prompt_option", "seed", "style_type",
                        "negative_prompt", "num_images", "resolution", "color_palette", "magic_prompt_version"},
    ig.LegacyRemix: {"prompt", "image", "aspect_ratio", "image_weight", "model", "negative_prompt",
                     "magic_prompt_option", "num_images", "resolution", "seed", "style_type", "color_palette",
                     "magic_prompt_version"},
    ig.LegacyEdit: {"image", "mask", "prompt", "model", "magic_prompt_option", "num_images", "seed", "style_type"},
    ig.Upscale: {"image", "prompt", "resemblance", "detail", "magic_prompt_option", "num_images", "seed",
                 "magic_prompt_version"},
    ig.Describe: {"image", "describe_model_version"},
}  # fmt: skip


@pytest.mark.parametrize("cls", list(FIELDS), ids=lambda c: c.__name__)
def test_fields_use_the_legacy_names(cls):
    assert set(cls.field_names()) == FIELDS[cls]
    advanced = {n for n in cls.field_names() if cls.param[n].precedence >= ADVANCED_PRECEDENCE}
    assert advanced == ({"color_palette", "magic_prompt_version"} & FIELDS[cls])


def test_model_defaults_to_v2_explicitly_and_lists_v3_last():
    assert ig.LegacyGenerate(prompt="p").model == "V_2"
    assert ig.LegacyGenerate.param.model.objects == ALL_MODELS
    assert ig.LegacyEdit.param.model.objects == ["V_2", "V_2_TURBO"]
    with pytest.raises(SpecError):
        ig.LegacyGenerate(model=None)


def test_legacy_enums():
    styles = [None, "AUTO", "GENERAL", "REALISTIC", "DESIGN", "RENDER_3D", "ANIME", "FICTION", "STYLIZED", "CUSTOM"]
    assert ig.LegacyGenerate.param.style_type.objects == styles
    versions = [None, "V_0", "V_0_1", "V_0_2", "V_0_3", "V_0_4", "V_0_5", "V_0_6", "V_0_7", "V_0_8"]
    assert ig.LegacyGenerate.param.magic_prompt_version.objects == versions
    assert len(ig.LegacyGenerate.param.aspect_ratio.objects) == 12  # None + 11
    assert len(ig.LegacyGenerate.param.resolution.objects) == 79  # None + 78
    assert ig.Describe.param.describe_model_version.objects == [None, "V_2", "V_3", "CUSTOM"]
    with pytest.raises(SpecError, match="aspect_ratio='16x9'"):
        ig.LegacyGenerate(aspect_ratio="16x9")  # V3 spelling
    with pytest.raises(SpecError, match="resolution='1024x1024'"):
        ig.LegacyGenerate(resolution="1024x1024")


def test_the_seeds_aspect_ratio_typo_is_accepted_and_corrected():
    spec = ig.LegacyGenerate(prompt="p", aspect_ratio="SPECT_16_10")
    assert spec.aspect_ratio == "ASPECT_16_10"
    assert spec.to_dict()["aspect_ratio"] == "ASPECT_16_10"


# --- required fields ------------------------------------------------------------------------
def test_required_fields_per_endpoint():
    assert [f for f, _ in rules(ig.LegacyGenerate())] == ["prompt"]
    assert [f for f, _ in rules(ig.LegacyRemix(prompt="p"))] == ["image"]
    assert [f for f, _ in rules(ig.LegacyEdit())] == ["prompt", "image", "mask"]
    assert [f for f, _ in rules(ig.Upscale())] == ["image"]
    assert [f for f, _ in rules(ig.Describe())] == ["image"]


def test_upscale_prompt_is_optional():
    assert ig.Upscale(image=IMG).problems() == []
    assert ig.Upscale(image=IMG, prompt="crisp", resemblance=1, detail=100).problems() == []


# --- model-dependent rules ------------------------------------------------------------------
@pytest.mark.parametrize("model", ALL_MODELS)
def test_resolution_only_for_v2_class_models(model):
    spec = ig.LegacyGenerate(prompt="p", model=model, resolution="RESOLUTION_1024_1024")
    if model in ("V_2", "V_2_TURBO"):  # "for model_version 2.0 only" (schema) and "V_2-class" (seed)
        assert rules(spec) == [] and warned(spec) == []
    elif model in ("V_2A", "V_2A_TURBO", "AUTO"):  # is 2a "2.0"? AUTO picks the model: sent, warned
        assert rules(spec) == [] and warned(spec) == ["resolution"]
    else:  # every source rules V_1 and V_3 out
        rule = "only for 2.0 models (Ideogram) / V_2-class models (AiHubMix)"
        assert rules(spec) == [("resolution", f"{rule}, not with model='{model}'")]


def test_resolution_and_aspect_ratio_are_exclusive():
    spec = ig.LegacyRemix(prompt="p", image=IMG, resolution="RESOLUTION_1280_720", aspect_ratio="ASPECT_16_9")
    assert [f for f, _ in rules(spec)] == ["resolution"]
    assert ig.LegacyRemix(prompt="p", image=IMG, aspect_ratio="ASPECT_16_9").problems() == []


@pytest.mark.parametrize("model", ALL_MODELS)
def test_style_type_not_with_v1(model):
    spec = ig.LegacyGenerate(prompt="p", model=model, style_type="RENDER_3D")
    expected = [("style_type", f"only for V_2 and later, not with model='{model}'")] if model.startswith("V_1") else []
    assert rules(spec) == expected


@pytest.mark.parametrize("model", ALL_MODELS)
def test_negative_prompt_only_for_v1_and_v2(model):
    """Refused with V_2A (every source says no); with V_3 (AiHubMix's own example sends it)
    and AUTO it was refused too, and is now sent with a warning (issue #11)."""
    spec = ig.LegacyRemix(prompt="p", image=IMG, model=model, negative_prompt="blur")
    documented = model in ("V_1", "V_1_TURBO", "V_2", "V_2_TURBO")
    disputed = model in ("V_3", "AUTO")
    assert [f for f, _ in rules(spec)] == ([] if documented or disputed else ["negative_prompt"])
    assert warned(spec) == (["negative_prompt"] if disputed else [])


def test_v3_with_negative_prompt_warns_naming_the_disagreement():
    [warning] = ig.LegacyGenerate(prompt="p", model="V_3", negative_prompt="blur").validate()
    assert warning.field == "negative_prompt"
    assert (
        "AiHubMix's own example sends it with V_3" in warning.rule
        and "V_1, V_1_TURBO, V_2 and V_2_TURBO" in warning.rule
    )
    [auto] = ig.LegacyGenerate(prompt="p", model="AUTO", negative_prompt="blur").validate()
    assert "AUTO lets the service pick the model" in auto.rule


def test_blank_negative_prompt_is_not_a_problem_for_any_model():
    assert ig.LegacyGenerate(prompt="p", model="V_2A", negative_prompt="").problems() == []


@pytest.mark.parametrize("model", ALL_MODELS)
def test_color_palette_not_for_v1_or_v2a(model):
    spec = ig.LegacyGenerate(prompt="p", model=model, color_palette="EMBER")
    allowed = model in ("V_2", "V_2_TURBO", "V_3", "AUTO")  # "Not supported by V_1, V_1_TURBO, V_2A and V_2A_TURBO"
    assert [f for f, _ in rules(spec)] == ([] if allowed else ["color_palette"])
    assert warned(spec) == []


def test_legacy_edit_only_with_v2_and_v2_turbo():
    with pytest.raises(SpecError) as err:
        ig.LegacyEdit(prompt="p", model="V_2A")
    problem = err.value.problems[0]
    assert err.value.fields == ["model", "image", "mask"]  # every problem at once
    assert problem.field == "model" and problem.value == "V_2A"
    assert problem.rule == "must be one of V_2, V_2_TURBO (the legacy edit endpoint works only with V_2 and V_2_TURBO)"
    spec = ig.LegacyEdit(prompt="p", image=IMG, mask=mask(20, 20, 4), model="V_2_TURBO")
    assert spec.problems() == []
    with pytest.raises(SpecError, match="model='V_1'"):
        spec.model = "V_1"
    assert spec.model == "V_2_TURBO"


def test_legacy_edit_mask_rules():
    assert ig.LegacyEdit(prompt="p", image=IMG, mask=mask(20, 20, 0)).problems()[0].rule.startswith("is pure white")
    wrong = ig.LegacyEdit(prompt="p", image=IMG, mask=mask(10, 10, 5))
    assert [f for f, _ in rules(wrong)] == ["mask"]


def test_seed_with_several_images_warns_on_legacy_too():
    spec = ig.LegacyGenerate(prompt="p", seed=1, num_images=2)
    assert [w.field for w in spec.validate()] == ["seed"]
    assert ig.Upscale(image=IMG, seed=1, num_images=3).warnings()[0].field == "seed"


# --- derived facts --------------------------------------------------------------------------
def test_expected_sizes():
    assert ig.LegacyGenerate(prompt="p").expected_size() == (1024, 1024)
    assert ig.LegacyGenerate(prompt="p", aspect_ratio="ASPECT_16_9").expected_size() == (1280, 720)
    assert ig.LegacyGenerate(prompt="p", resolution="RESOLUTION_1232_768").expected_size() == (1232, 768)
    assert ig.LegacyEdit(image=IMG).expected_size() == (20, 20)
    assert ig.Upscale(image=png(30, 12)).expected_size() == (60, 24)
    assert ig.Upscale().expected_size() is None
    assert ig.Describe(image=IMG).expected_size() is None


def test_describe_counts_as_one_call_and_costs_nothing_known():
    spec = ig.Describe(image=IMG)
    assert spec.image_count == 1 and spec.estimate_cost() == 0.0


# --- Ideogram-only values (issue #11) -------------------------------------------------------
def test_magic_prompt_version_is_sent_and_warned_only_with_magic_prompt_off():
    spec = ig.LegacyGenerate(prompt="p", magic_prompt_version="V_0_5")
    assert spec.problems() == [] and spec.warnings() == []
    assert spec.to_dict()["magic_prompt_version"] == "V_0_5"
    off = ig.Upscale(image=IMG, magic_prompt_option="OFF", magic_prompt_version="V_0")
    [warning] = off.validate()
    assert warning.field == "magic_prompt_version" and "AUTO or ON" in warning.rule
    assert ig.LegacyRemix(prompt="p", image=IMG, magic_prompt_option="ON", magic_prompt_version="V_0").warnings() == []


def test_auto_model_takes_style_type_and_palette_without_a_word():
    spec = ig.LegacyGenerate(prompt="p", model="AUTO", style_type="STYLIZED", color_palette="EMBER")
    assert spec.problems() == [] and spec.warnings() == []


def test_legacy_custom_style_warns_that_no_custom_model_can_be_named():
    [warning] = ig.LegacyGenerate(prompt="p", style_type="CUSTOM").validate()
    assert warning.field == "style_type" and "takes no custom_model_uri" in warning.rule
    assert ig.LegacyGenerate(prompt="p", style_type="FICTION").warnings() == []


def test_describe_custom_version_is_accepted():
    spec = ig.Describe(image=IMG, describe_model_version="CUSTOM")
    assert spec.problems() == [] and spec.to_dict()["describe_model_version"] == "CUSTOM"


def test_legacy_edit_jpeg_mask_is_binarised_with_a_warning():
    img = Image.new("L", (20, 20), 255)
    img.paste(0, (0, 0, 20, 8))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=70)
    spec = ig.LegacyEdit(prompt="p", image=IMG, mask=buf.getvalue())
    assert spec.problems() == []
    [warning] = spec.validate()
    assert warning.field == "mask" and "pixels" in warning.rule and spec.mask.mime == "image/png"
