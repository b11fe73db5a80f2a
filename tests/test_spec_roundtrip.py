"""The machinery every spec shares: per-field checks for every field of every class,
all problems at once, to_dict / spec_from_dict round trips, copy, repr."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import ImageInputError, SpecError, spec_from_dict
from ideogram_nb._api import ROUTES
from ideogram_nb._api_v2 import V2_ROUTES
from ideogram_nb._images import register_image_resolver, to_image_input, unregister_image_resolver
from ideogram_nb._specs._base import (
    Choice,
    ImageListParam,
    ImageParam,
    Int,
    Text,
)
from ideogram_nb._specs._registry import SPEC_CLASSES
from ideogram_nb._specs._v3 import ColorPaletteParam, StyleCodesParam
from ideogram_nb._specs._wire import request_hash

ALL = [ig.Generate, ig.Remix, ig.Edit, ig.Reframe, ig.ReplaceBackground,
       ig.LegacyGenerate, ig.LegacyRemix, ig.LegacyEdit, ig.Upscale, ig.Describe]  # fmt: skip


def encode(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


POOL = [to_image_input(encode(Image.new("RGB", (8 + i, 8), (40 * i, 10, 10)))) for i in range(4)]
GIF = io.BytesIO()
Image.new("RGB", (4, 4)).save(GIF, format="GIF")


def sent_images(spec: ig.Spec) -> list[Any]:
    """What a history's store holds after a run: every input as sent (an edit mask with grey
    pixels is sent thresholded, so its ref names the clean mask, not the pool image)."""
    return [image for images in spec.input_images().values() for image in images]


@contextmanager
def serving(images: list[Any]) -> Iterator[None]:
    """Make `sha256:` refs of these images resolvable, like a history's store does."""
    db = {i.sha256: i.data for i in images}
    resolver = register_image_resolver(db.get)
    try:
        yield
    finally:
        unregister_image_resolver(resolver)


def bad_values(p: Any) -> list[Any]:
    """Values every field of this parameter type must refuse."""
    if isinstance(p, Int):
        lo, hi = p.bounds
        return [lo - 1, hi + 1, True, 1.5, "3"]
    if isinstance(p, Choice):
        return ["NOT_A_VALUE", 3]
    if isinstance(p, Text):
        return [5, ["a"]]
    if isinstance(p, ImageParam):
        return [123, b"not an image", GIF.getvalue()]
    if isinstance(p, ImageListParam):
        return [[123], [POOL[0], b"junk"]]
    if isinstance(p, ColorPaletteParam):
        return ["nope", ["#12345"], 7, ["#ff0000"] * 9]
    if isinstance(p, StyleCodesParam):
        return [["xyz"], 5, ["A1B2C3D4", "A1B2C3D"]]
    raise AssertionError(f"no bad values for {type(p).__name__}: add them here")


FIELDS = [(cls, name) for cls in ALL for name in cls.field_names()]


def field_id(case: tuple[Any, ...]) -> str:
    return f"{case[0].__name__}.{case[1]}"


# --- registry and declarations --------------------------------------------------------------
def test_every_route_has_exactly_one_spec_class():
    v1 = {endpoint: cls for endpoint, cls in SPEC_CLASSES.items() if cls.family != "v2"}
    v2 = {endpoint: cls for endpoint, cls in SPEC_CLASSES.items() if cls.family == "v2"}
    assert set(v1) == set(ROUTES) and set(v2) == set(V2_ROUTES)
    assert {c.endpoint: c for c in ALL} == v1
    assert v2 == {c.endpoint: c for c in (ig.Generate45, ig.PreciseEdit45, ig.Inpaint3, ig.Remix4, ig.Describe4,
                                                      ig.ReplaceBackground3)}  # fmt: skip
    assert {c.family for c in ALL[:5]} == {"v3"} and {c.family for c in ALL[5:]} == {"legacy"}


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_field_has_a_label_a_doc_and_a_place(cls):
    assert "name" not in cls.field_names()
    for name in cls.field_names():
        p = cls.param[name]
        assert p.doc and len(p.doc) > 20 and p.doc.strip().endswith("."), name
        assert p.label and p.label[0].isupper() and "_" not in p.label, name
        assert p.precedence is not None and p.precedence > 0, name


# --- per-field checks -----------------------------------------------------------------------
@pytest.mark.parametrize("case", FIELDS, ids=field_id)
def test_constructor_refuses_each_bad_value_naming_the_field(case):
    cls, name = case
    for bad in bad_values(cls.param[name]):
        with pytest.raises(SpecError) as err:
            cls(**{name: bad})
        assert err.value.fields[0] == name and name not in err.value.fields[1:], bad
        problem = err.value.problems[0]
        assert problem.value is bad and problem.rule
        assert err.value.spec_name == cls.__name__
        assert f"  - {name}=" in str(err.value)


@pytest.mark.parametrize("case", FIELDS, ids=field_id)
def test_assignment_refuses_each_bad_value_and_keeps_the_old_one(case):
    cls, name = case
    spec = cls()
    before = getattr(spec, name)
    for bad in bad_values(cls.param[name]):
        with pytest.raises(ValueError) as err:
            setattr(spec, name, bad)
        assert isinstance(err.value, (SpecError, ImageInputError)), bad
        assert name in str(err.value)
        assert getattr(spec, name) == before


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_integer_bounds_edges_are_accepted(cls):
    for name in cls.field_names():
        p = cls.param[name]
        if isinstance(p, Int):
            for edge in p.bounds:
                assert getattr(cls(**{name: edge}), name) == edge


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_enum_value_is_accepted(cls):
    for name in cls.field_names():
        p = cls.param[name]
        if isinstance(p, Choice):
            for value in p.objects:
                assert getattr(cls(**{name: value}), name) == value


def test_numpy_integers_are_stored_as_plain_ints():
    np = pytest.importorskip("numpy")
    spec = ig.Generate(prompt="p", num_images=np.int64(3), seed=np.int32(7))
    assert type(spec.num_images) is int and type(spec.seed) is int
    assert json.dumps(spec.to_dict())


def test_the_constructor_lists_every_problem_at_once():
    with pytest.raises(SpecError) as err:
        ig.Generate(prompt="x", num_images=0, rendering_speed="SLOW", seed=-1, colour="red")
    assert sorted(err.value.fields) == ["colour", "num_images", "rendering_speed", "seed"]
    assert "Generate has 4 problems" in str(err.value)
    assert "not a field of Generate" in str(err.value)


def test_error_messages_state_the_rule():
    with pytest.raises(SpecError) as err:
        ig.Generate(num_images=9, rendering_speed="SLOW")
    text = str(err.value)
    assert "num_images=9: must be a whole number from 1 to 8" in text
    assert "rendering_speed='SLOW': must be one of TURBO, DEFAULT, QUALITY, FLASH, or None" in text


def test_a_bad_image_names_field_format_and_rule():
    with pytest.raises(SpecError) as err:
        ig.Remix(prompt="p", image=GIF.getvalue())
    assert str(err.value.problems[0]).startswith("image=")
    assert err.value.problems[0].rule.startswith("GIF is not accepted; allowed JPEG, PNG, WebP")


# --- validate -------------------------------------------------------------------------------
def test_validate_lists_every_cross_field_problem_at_once():
    spec = ig.Generate(prompt="  ", resolution="1024x1024", aspect_ratio="1x1",
                       style_codes=["A1B2C3D4"], style_type="DESIGN")  # fmt: skip
    with pytest.raises(SpecError) as err:
        spec.validate()
    assert err.value.fields == ["prompt", "resolution", "style_codes"]


def test_validate_returns_warnings_without_emitting_python_warnings():
    spec = ig.Generate(prompt="p", seed=3, num_images=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = spec.validate()
    assert caught == []
    assert [w.field for w in found] == ["seed"]
    assert ig.Generate(prompt="p").validate() == []


# --- to_dict / spec_from_dict ---------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_a_default_spec_is_just_its_endpoint(cls):
    spec = cls()
    assert spec.to_dict() == {"endpoint": cls.endpoint}
    assert type(spec_from_dict(spec.to_dict())) is cls


def test_to_dict_is_flat_json_safe_with_images_as_refs():
    spec = ig.Generate(prompt="a fox", num_images=3, style_reference_images=[POOL[0], POOL[1]],
                       color_palette=["#ff0000", "#00ff00"], style_codes=("A1B2C3D4",))  # fmt: skip
    d = spec.to_dict()
    assert d == {
        "endpoint": "generate", "prompt": "a fox", "num_images": 3,
        "style_reference_images": [POOL[0].ref, POOL[1].ref],
        "color_palette": ["#ff0000", "#00ff00"], "style_codes": ["A1B2C3D4"],
    }  # fmt: skip
    assert json.loads(json.dumps(d)) == d


HANDMADE = [
    lambda: ig.Generate(prompt="a lighthouse", rendering_speed="QUALITY", aspect_ratio="16x9", seed=42,
                        color_palette=[{"color_hex": "#ff0000", "color_weight": 0.6}]),
    lambda: ig.Generate(prompt="x", resolution="1312x736", color_palette="EMBER", style_preset="BAUHAUS"),
    lambda: ig.Remix(prompt="remix", image=POOL[0], image_weight=1, style_reference_images=POOL[1:3]),
    lambda: ig.Edit(prompt="hat", image=POOL[0], mask=POOL[1], magic_prompt="OFF", num_images=8),
    lambda: ig.Reframe(image=POOL[2], resolution="1536x640", seed=0),
    lambda: ig.ReplaceBackground(prompt="beach", image=POOL[3], rendering_speed="TURBO"),
    lambda: ig.LegacyGenerate(prompt="p", model="V_2A_TURBO", aspect_ratio="SPECT_16_10", num_images=2),
    lambda: ig.LegacyRemix(prompt="p", image=POOL[1], image_weight=100, resolution="RESOLUTION_1024_1024"),
    lambda: ig.LegacyEdit(prompt="p", image=POOL[0], mask=POOL[1], model="V_2_TURBO", style_type="ANIME"),
    lambda: ig.Upscale(image=POOL[2], resemblance=55, detail=90),
    lambda: ig.Describe(image=POOL[3], describe_model_version="V_2"),
    # Ideogram-only fields and values (issue #11)
    lambda: ig.Generate(prompt="hero", character_reference_images=[POOL[0]], character_reference_images_mask=[POOL[1]],
                        custom_model_uri="model/mine/version/2", style_type="CUSTOM", rendering_speed="QUALITY"),
    lambda: ig.Edit(prompt="hat", image=POOL[0], mask=POOL[1], character_reference_images=POOL[2:3]),
    lambda: ig.LegacyGenerate(prompt="p", model="AUTO", magic_prompt_version="V_0_8", style_type="FICTION"),
    lambda: ig.Upscale(image=POOL[2], magic_prompt_option="ON", magic_prompt_version="V_0_3"),
    lambda: ig.Describe(image=POOL[3], describe_model_version="CUSTOM"),
]  # fmt: skip


@pytest.mark.parametrize("make", HANDMADE)
def test_handmade_specs_round_trip_exactly(make):
    spec = make()
    d = spec.to_dict()
    with serving(POOL + sent_images(spec)):
        again = spec_from_dict(json.loads(json.dumps(d)))
    assert type(again) is type(spec)
    assert again.to_dict() == d
    assert request_hash(again) == request_hash(spec)
    assert again.input_images() == spec.input_images()


def _value_strategy(p: Any) -> st.SearchStrategy[Any]:
    if isinstance(p, Int):
        lo, hi = p.bounds
        return st.integers(lo, hi)
    if isinstance(p, Choice):
        return st.sampled_from(p.objects)
    if isinstance(p, Text):
        return st.text(max_size=30)
    if isinstance(p, ImageParam):
        return st.sampled_from(POOL)
    if isinstance(p, ImageListParam):
        return st.lists(st.sampled_from(POOL), min_size=1, max_size=3)
    if isinstance(p, ColorPaletteParam):
        hexes = st.sampled_from(["#ff0000", "#0F0", "#123abc"])
        member = st.one_of(hexes, st.fixed_dictionaries({"color_hex": hexes, "color_weight": st.floats(0.05, 1.0)}))
        return st.one_of(st.sampled_from(["EMBER", "PASTEL"]), st.lists(member, min_size=1, max_size=8))
    if isinstance(p, StyleCodesParam):
        return st.lists(st.from_regex(r"\A[0-9a-f]{8}\Z"), min_size=1, max_size=3)
    raise AssertionError(type(p).__name__)


SPECS = st.sampled_from(ALL).flatmap(
    lambda cls: st.fixed_dictionaries({}, optional={n: _value_strategy(cls.param[n]) for n in cls.field_names()}).map(
        lambda kw: cls(**kw)
    )
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS)
def test_any_valid_spec_round_trips_exactly(spec):
    d = spec.to_dict()
    with serving(POOL + sent_images(spec)):
        again = spec_from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d
    assert request_hash(again) == request_hash(spec)
    assert repr(again) == repr(spec)


def test_spec_from_dict_refuses_unknown_endpoints_and_fields():
    with pytest.raises(SpecError) as err:
        spec_from_dict({"endpoint": "paint", "prompt": "x"})
    assert err.value.fields == ["endpoint"] and "unknown endpoint" in str(err.value)
    with pytest.raises(SpecError) as err:
        spec_from_dict({"prompt": "x"})
    assert err.value.fields == ["endpoint"]
    with pytest.raises(SpecError) as err:
        spec_from_dict({"endpoint": "generate", "prompt": "x", "sharpness": 3})
    assert err.value.fields == ["sharpness"]
    with pytest.raises(SpecError) as err:
        spec_from_dict({"endpoint": "generate", "name": "Generate00001"})
    assert err.value.fields == ["name"]
    with pytest.raises(SpecError):
        spec_from_dict(["generate"])  # type: ignore[arg-type]


def test_spec_from_dict_refuses_bad_values_with_spec_error():
    with pytest.raises(SpecError) as err:
        spec_from_dict({"endpoint": "legacy-generate", "model": "V_9", "num_images": "2"})
    assert sorted(err.value.fields[:2]) == ["model", "num_images"]
    assert err.value.fields[2:] == ["prompt"]  # and the rest of what is wrong, at once


def test_spec_from_dict_with_a_missing_image_says_so():
    ref = "sha256:" + "cd" * 32
    with pytest.raises(SpecError) as err:
        spec_from_dict({"endpoint": "remix", "prompt": "p", "image": ref})
    assert err.value.fields == ["image"]
    assert "was the history moved?" in str(err.value)


# --- copy, repr, inputs ---------------------------------------------------------------------
def test_copy_applies_changes_to_a_new_spec():
    base = ig.Generate(prompt="p", seed=1, rendering_speed="TURBO")
    other = base.copy(seed=2, num_images=3)
    assert other is not base and type(other) is ig.Generate
    assert (other.seed, other.num_images, other.rendering_speed, other.prompt) == (2, 3, "TURBO", "p")
    assert (base.seed, base.num_images) == (1, 1)
    assert base.copy(seed=None).to_dict() == {"endpoint": "generate", "prompt": "p", "rendering_speed": "TURBO"}
    with pytest.raises(SpecError) as err:
        base.copy(num_images=20)
    assert err.value.fields == ["num_images"]


def test_repr_shows_only_set_fields_and_no_bytes():
    spec = ig.Remix(prompt="a cat", image=POOL[0], num_images=2)
    text = repr(spec)
    assert text.startswith("Remix(prompt='a cat', image=<ImageInput sha256:")
    assert "num_images=2" in text and "name" not in text and "\\x" not in text
    assert repr(ig.Describe()) == "Describe()" and str(ig.Describe()) == "Describe()"


def test_input_images_lists_every_upload_by_field():
    spec = ig.Remix(prompt="p", image=POOL[0], style_reference_images=POOL[1:3])
    assert spec.input_images() == {"image": [POOL[0]], "style_reference_images": [POOL[1], POOL[2]]}
    assert ig.Generate(prompt="p").input_images() == {}


def test_image_count_is_num_images_or_one():
    assert ig.Generate(prompt="p", num_images=5).image_count == 5
    assert ig.Upscale(num_images=2).image_count == 2
    assert ig.Describe().image_count == 1


def test_an_empty_image_list_means_not_sent():
    spec = ig.Generate(prompt="p", style_reference_images=[])
    assert spec.style_reference_images is None and "style_reference_images" not in spec.to_dict()


def test_a_single_image_is_accepted_as_a_list():
    spec = ig.Generate(prompt="p", style_reference_images=POOL[0])
    assert spec.style_reference_images == (POOL[0],)


def test_same_image_by_path_or_bytes_gives_the_same_dict(tmp_path):
    file = tmp_path / "a.png"
    file.write_bytes(POOL[0].data)
    a = ig.Remix(prompt="p", image=file)
    b = ig.Remix(prompt="p", image=POOL[0].data)
    assert a.to_dict() == b.to_dict() and a.to_dict()["image"] == "sha256:" + hashlib.sha256(POOL[0].data).hexdigest()
