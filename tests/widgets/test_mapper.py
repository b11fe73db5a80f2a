"""The param → widget table: types along the MRO, overrides by name, tooltips, order."""

from __future__ import annotations

import ipywidgets as W
import param
import pytest

import ideogram_nb as ig
from ideogram_nb.widgets import _field_view, _mapper
from ideogram_nb.widgets._field_view import SERVICE_DEFAULT
from ideogram_nb.widgets._image_fields import ImageField, ImageListField, PainterMaskField
from ideogram_nb.widgets._mapper import (
    choice_options,
    factory_for,
    form_fields,
    make_field,
)


class MyInt(param.Integer):
    """A project-specific subclass: must get the Integer widget through the MRO."""


class Sample(param.Parameterized):
    count = MyInt(2, bounds=(1, 8), doc="How many.", label="How many", precedence=2)
    big = param.Integer(None, bounds=(0, 2**31 - 1), allow_None=True, doc="Huge range.", precedence=3)
    free = param.Integer(5, doc="Unbounded.", precedence=4)
    weight = param.Number(None, bounds=(0.0, 1.0), allow_None=True, doc="Optional weight.", precedence=5)
    speed = param.Selector(objects=[None, "A", "B", "C"], doc="Few options.", precedence=6)
    size = param.Selector(objects=["s1", "s2", "s3", "s4", "s5", "s6"], default="s1", doc="Many.", precedence=7)
    flag = param.Boolean(False, doc="A flag.", precedence=8)
    title = param.String("", doc="Short text.", precedence=1)
    deep = param.Integer(3, bounds=(0, 9), doc="Advanced knob.", precedence=12)
    hidden = param.Integer(0, precedence=-1)
    odd = param.Dict(default=None, allow_None=True, doc="Anything else.", precedence=9)


def test_lookup_follows_the_parameter_class_hierarchy():
    assert factory_for("count", Sample.param["count"]) is _mapper.number_field
    view = make_field(Sample(), "count")
    assert isinstance(view.control, W.IntSlider)
    assert (view.control.min, view.control.max, view.control.value) == (1, 8, 2)
    assert view.control.continuous_update is False


def test_overrides_by_name_win_over_the_type_table():
    custom = lambda ctx: _mapper.textarea_field(ctx, rows=7)  # noqa: E731
    view = make_field(Sample(), "title", overrides={"title": custom})
    assert isinstance(view.control, W.Textarea) and view.control.rows == 7
    assert isinstance(make_field(Sample(), "title").control, W.Text)


def test_unknown_types_fall_back_to_a_json_text_box():
    s = Sample()
    view = make_field(s, "odd")
    assert isinstance(view.control, W.Text)
    view.control.value = '{"a": 1}'
    assert view.read() == {"a": 1}
    view.control.value = ""
    assert view.read() is None


def test_huge_bounded_range_and_optional_int_use_a_text_box_where_empty_means_none():
    view = make_field(Sample(), "big")
    assert isinstance(view.control, W.Text)
    assert view.read() is None
    view.control.value = "123"
    assert view.read() == 123
    view.control.value = "x1"
    with pytest.raises(ValueError, match="not a whole number"):
        view.read()
    view.show(None)
    assert view.control.value == ""


def test_unbounded_required_number_is_a_number_box():
    assert isinstance(make_field(Sample(), "free").control, W.IntText)


def test_optional_bounded_number_is_a_slider_that_can_mean_service_default():
    view = make_field(Sample(), "weight")
    box = view.control
    assert box.value is None and box.slider.disabled
    box.use.value = True
    assert box.value == box.slider.value and not box.slider.disabled
    box.slider.value = 0.7
    assert box.value == pytest.approx(0.7)
    view.show(None)
    assert box.use.value is False and box.value is None


def test_small_enums_toggle_large_enums_drop_down_and_none_is_service_default():
    s = Sample()
    speed = make_field(s, "speed").control
    assert isinstance(speed, W.ToggleButtons)
    assert speed.label == "service default" and speed.value is SERVICE_DEFAULT
    size = make_field(s, "size").control
    assert isinstance(size, W.Dropdown) and size.value == "s1"
    assert len(size.options) == 6  # no None allowed: no "service default"


def test_choice_options_keep_a_value_that_is_no_longer_allowed():
    p = param.Selector(objects=[None, "A", "B"])
    labels = [label for label, _ in choice_options(p, "Z")]
    assert labels == ["service default", "A", "B", "Z (not allowed here)"]


def test_booleans_are_checkboxes_and_prompts_text_areas():
    assert isinstance(make_field(Sample(), "flag").control, W.Checkbox)
    spec = ig.Generate()
    assert isinstance(make_field(spec, "prompt").control, W.Textarea)
    assert isinstance(make_field(spec, "negative_prompt").control, W.Textarea)


def test_doc_is_every_widgets_tooltip_and_label_is_readable():
    s = Sample()
    for name in ("count", "big", "speed", "size", "flag", "title"):
        control = make_field(s, name).control
        assert control.tooltip == Sample.param[name].doc, name
    assert make_field(s, "count").control.description == "How many"
    spec = ig.Generate()
    assert make_field(spec, "num_images").control.description == "Number of images"
    assert make_field(spec, "seed").control.tooltip == " ".join(ig.Generate.param["seed"].doc.split())


def test_precedence_orders_fields_hides_negative_and_folds_advanced():
    basic, advanced = form_fields(Sample())
    assert basic == ["title", "count", "big", "free", "weight", "speed", "size", "flag", "odd"]
    assert advanced == ["deep"]
    assert "hidden" not in basic + advanced and "name" not in basic + advanced
    g_basic, g_advanced = form_fields(ig.Generate())
    assert g_basic[0] == "prompt"
    assert {"resolution", "color_palette", "style_codes", "style_preset"} <= set(g_advanced)


def test_image_fields_get_upload_widgets_and_the_mask_gets_the_painter():
    spec = ig.Edit()
    assert isinstance(make_field(spec, "image").control, ImageField)
    assert isinstance(make_field(spec, "style_reference_images").control, ImageListField)
    assert isinstance(make_field(spec, "mask").control, PainterMaskField)


def test_set_message_marks_the_field_and_clears_again():
    view = make_field(Sample(), "count")
    view.set_message("error", "too many")
    assert _field_view.INVALID_CLASS in view.control._dom_classes
    assert view.control.layout.border == _field_view.INVALID_BORDER
    assert "too many" in view.message.value and view.message.layout.display != "none"
    view.set_message(None)
    assert _field_view.INVALID_CLASS not in view.control._dom_classes
    assert view.control.layout.border is None and view.message.layout.display == "none"


def test_style_codes_and_palette_parse_text():
    spec = ig.Generate()
    codes = make_field(spec, "style_codes")
    codes.control.value = "A1B2C3D4, 0000ffff"
    assert codes.read() == ["A1B2C3D4", "0000ffff"]
    palette = make_field(spec, "color_palette")
    palette.control.value = "#ff0000:0.6, #00ff00"
    assert palette.read() == [("#ff0000", 0.6), "#00ff00"]
    palette.control.value = "EMBER"
    assert palette.read() == "EMBER"
    palette.show(({"color_hex": "#ff0000", "color_weight": 0.5}, {"color_hex": "#00ff00"}))
    assert palette.control.value == "#ff0000:0.5, #00ff00"


def test_the_spec_field_types_map_through_the_field_module():
    """Widgets reach the spec types only through `_specs._fields` (test_architecture's rule);
    a character-mask list (greyscale) is still an image list, the custom model a text line."""
    from ideogram_nb._specs._fields import ImageListParam, ImageParam

    assert factory_for("x", ImageParam()) is _mapper.image_field
    assert factory_for("x", ImageListParam(grey=True)) is _mapper.image_list_field
    spec = ig.Generate()
    assert isinstance(make_field(spec, "character_reference_images_mask").control, ImageListField)
    view = make_field(spec, "custom_model_uri")
    assert isinstance(view.control, W.Text) and "model/<name>/version/<version>" in view.control.tooltip
    magic = make_field(ig.LegacyRemix(), "magic_prompt_version")
    assert isinstance(magic.control, W.Dropdown) and magic.control.options[0][1] is SERVICE_DEFAULT
