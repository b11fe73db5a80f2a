"""Axis values: A1111 ranges, CSV lists, Prompt S/R, coercion by field type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ideogram_nb as ig
from ideogram_nb._compare._axes import Axis, PromptSR, format_value, make_axis, parse_csv, parse_range


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-5", [1, 2, 3, 4, 5]),
        ("1-10 (+2)", [1, 3, 5, 7, 9]),
        ("1-10 (2)", [1, 3, 5, 7, 9]),
        ("10-1 (-3)", [10, 7, 4, 1]),
        ("5-1", [5, 4, 3, 2, 1]),
        ("10-90 [5]", [10, 30, 50, 70, 90]),
        ("1-8 [4]", [1, 3, 6, 8]),
        ("3-3", [3]),
        ("0-100 [1]", [0]),
        (" 1 - 3 ", [1, 2, 3]),
    ],
)
def test_integer_ranges_follow_a1111(text, expected):
    assert parse_range(text) == expected


def test_float_ranges_are_inclusive_and_rounded():
    assert parse_range("0.5-1.5 (+0.25)", "float") == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert parse_range("0-1 [3]", "float") == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("text", ["1-10 (-1)", "1-10 (+0)", "a-b", "1-", "1-5 [0]", "1.5-3"])
def test_bad_ranges_are_refused_with_the_text(text):
    with pytest.raises(ValueError, match="1|a"):
        parse_range(text)


def test_a_typo_range_cannot_plan_a_million_cells():
    with pytest.raises(ValueError, match="at most"):
        parse_range("1-1000000")


@given(st.integers(-500, 500), st.integers(-500, 500), st.integers(1, 50))
def test_stepped_ranges_stay_between_their_ends(start, end, step):
    signed = step if end >= start else -step
    values = parse_range(f"{start}-{end} ({signed:+d})")
    assert values[0] == start
    assert all(min(start, end) <= v <= max(start, end) for v in values)
    assert all(b - a == signed for a, b in zip(values, values[1:], strict=False))
    assert abs(end - values[-1]) < step  # the next step would overshoot


def test_csv_keeps_quoted_commas():
    assert parse_csv('a cat, "a dog, sleeping", a fox') == ["a cat", "a dog, sleeping", "a fox"]
    assert parse_csv("TURBO,QUALITY") == ["TURBO", "QUALITY"]


def test_prompt_sr_puts_the_original_first():
    sr = PromptSR("a cat", ["a dog", "a fox"])
    assert sr.values == ("a cat", "a dog", "a fox")
    assert sr.apply("a cat and a cat", "a dog") == "a dog and a cat"  # first occurrence only
    assert PromptSR("a cat", "a cat, a dog").values == ("a cat", "a dog")  # A1111's repeated search
    assert PromptSR.parse('cat, "dog, big"').values == ("cat", "dog, big")


def test_make_axis_reads_values_by_field_type():
    spec = ig.Generate(prompt="a cat")
    assert make_axis(spec, "num_images", "1-3").values == (1, 2, 3)
    assert make_axis(spec, "num_images", ["1-2", 4]).values == (1, 2, 4)
    assert make_axis(spec, "rendering_speed", "turbo, QUALITY").values == ("TURBO", "QUALITY")
    assert make_axis(spec, "prompt", '"a cat, sitting", a dog').values == ("a cat, sitting", "a dog")
    assert make_axis(spec, "prompt", ["a cat, sitting"]).values == ("a cat, sitting",)
    assert make_axis(spec, "seed", "1, 2, none").values == (1, 2, None)


def test_make_axis_names_an_unknown_field_and_lists_the_fields():
    with pytest.raises(ig.SpecError) as info:
        make_axis(ig.Generate(prompt="x"), "steps", [1, 2])
    assert info.value.fields == ["steps"]
    assert "num_images" in str(info.value)


def test_make_axis_refuses_text_in_a_number_field():
    with pytest.raises(ig.SpecError, match="num_images"):
        make_axis(ig.Generate(prompt="x"), "num_images", "two, three")


def test_prompt_sr_must_find_its_search_text():
    with pytest.raises(ig.SpecError, match="does not occur"):
        make_axis(ig.Generate(prompt="a dog"), "prompt", PromptSR("a cat", ["a fox"]))
    axis = make_axis(ig.Generate(prompt="a cat on a mat"), "prompt", PromptSR("a cat", ["a fox"]))
    assert axis.changes(ig.Generate(prompt="a cat on a mat"), "a fox") == {"prompt": "a fox on a mat"}


def test_axis_lookup_by_value_or_label_and_json_round_trip():
    axis = Axis("num_images", (1, 2, 4))
    assert axis.index(2) == 1 and axis.index("4") == 2
    assert axis.legend(0) == "num_images: 1"
    with pytest.raises(KeyError):
        axis.index(True)  # a bool is not the number 1
    sr_axis = Axis("prompt", PromptSR("cat", ["dog"]).values, PromptSR("cat", ["dog"]))
    assert Axis.from_json(sr_axis.to_json()) == sr_axis
    assert Axis.from_json(axis.to_json()) == axis


def test_format_value_is_short_and_readable():
    assert format_value(None) == "none"
    assert format_value(True) == "true"
    assert format_value(0.25) == "0.25"
    assert len(format_value(object())) <= 60
