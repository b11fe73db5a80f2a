"""Actions start from the source's settings; errors read as sentences; forms fill from images."""

from __future__ import annotations

import time

import pytest

import ideogram_nb as ig
from ideogram_nb.widgets import SpecForm
from ideogram_nb.widgets._actions import action_spec, carry_settings
from ideogram_nb.widgets._form import run_position
from ideogram_nb.widgets._form_state import error_message, rule_sentence


@pytest.fixture
def client(tmp_path):
    c = ig.Client(provider="offline", history=ig.History(tmp_path / "runs"))
    yield c
    c.close()


def test_every_image_action_carries_what_its_endpoint_has(client):
    source = ig.Generate(prompt="a dune", aspect_ratio="16x9", rendering_speed="TURBO", style_type="DESIGN",
                         color_palette="EMBER", magic_prompt="OFF", negative_prompt="people")  # fmt: skip
    image = client.run(source).images[0]
    remix = action_spec("remix", image, source)
    assert (remix.aspect_ratio, remix.rendering_speed, remix.style_type, remix.color_palette, remix.magic_prompt) == (
        "16x9", "TURBO", "DESIGN", "EMBER", "OFF")  # fmt: skip
    assert remix.negative_prompt == "people" and remix.image_weight == ig.Remix.param.image_weight.default
    edit = action_spec("edit", image, source)
    assert (edit.rendering_speed, edit.style_type, edit.magic_prompt) == ("TURBO", "DESIGN", "OFF")
    background = action_spec("replace_background", image, source)
    assert (background.rendering_speed, background.style_type, background.color_palette) == ("TURBO", "DESIGN", "EMBER")
    assert "aspect_ratio" not in ig.ReplaceBackground.param  # nothing is forced on a spec without the field
    # nothing carried makes a spec invalid: only what the user still has to give is missing
    # (edit: the mask; replace background: the new background's prompt)
    waiting = {id(remix): [], id(edit): ["mask"], id(background): ["prompt"]}
    for spec in (remix, edit, background):
        assert [p.field for p in spec.problems()] == waiting[id(spec)], spec


def test_reframe_keeps_its_own_canvas_and_bad_combinations_are_not_carried(client):
    source = ig.Generate(prompt="a cat", resolution="1024x1024", rendering_speed="QUALITY")
    image = client.run(source).images[0]
    reframe = action_spec("reframe", image, source)
    assert reframe.resolution is None and reframe.rendering_speed == "QUALITY"
    # a legacy style is not a v3 style: left out, not forced
    legacy = ig.LegacyGenerate(prompt="x", model="V_2", style_type="ANIME")
    remix = carry_settings(ig.Remix(prompt="x"), legacy)
    assert "ANIME" not in ig.Remix.param.style_type.objects and remix.style_type is None


def test_problems_read_as_sentences_naming_the_field_never_a_repr():
    assert rule_sentence("prompt", "required: must not be blank") == "The prompt is empty."
    assert rule_sentence("image", "required") == "The image is required."
    mask = rule_sentence("mask", "covers 3.5 % of the image; paint at least 10 % (black = edit)")
    assert mask == "The mask covers 3.5 % of the image; paint at least 10 % (black = edit)."
    assert rule_sentence("style_reference_images", "together at most 10 MB") == (
        "Style reference images: together at most 10 MB.")  # fmt: skip
    try:
        ig.Generate(prompt=" ").validate()
    except ig.SpecError as exc:
        assert error_message(exc) == "Not sent: The prompt is empty."
    else:  # pragma: no cover
        raise AssertionError("a blank prompt must be refused")


def test_a_form_fills_from_an_image_made_by_the_toolkit(client, tmp_path):
    result = client.run(ig.Generate(prompt="a copper kettle", aspect_ratio="4x3", style_type="REALISTIC"))
    form = SpecForm(ig.Generate(), client, show_results=False)
    spec = form.load_from_image(result.images[0].path)
    assert form.spec.prompt == "a copper kettle" and form.fields["aspect_ratio"].value == "4x3"
    assert form.spec.seed == result.images[0].seed == spec.seed
    with pytest.raises(TypeError):
        SpecForm(ig.Remix(), client).load_from_image(result.images[0].path)
    plain = tmp_path / "plain.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(plain)
    with pytest.raises(ig.MetadataError):
        form.load_from_image(plain)


def test_run_sits_right_under_what_the_request_is_about():
    assert run_position(["prompt", "rendering_speed", "seed"]) == 1
    assert run_position(["prompt", "image", "mask", "rendering_speed"]) == 3
    assert run_position(["image", "prompt", "resemblance"]) == 2
    assert run_position(["resolution"]) == 1 and run_position([]) == 0
    form = SpecForm(ig.Edit())
    kids = list(form.children)
    mask_at = kids.index(form.views["mask"].box)
    assert kids[mask_at + 2].children[0] is form.run_button  # messages, then Run: under the painter


def test_the_status_counts_the_seconds_of_a_run_in_flight(client):
    form = SpecForm(ig.Generate(prompt="a slow one"), client, show_results=False)
    gate = __import__("threading").Event()
    real_submit = client.submit

    def slow_submit(spec, **kw):
        def wait_then_run():
            gate.wait(10)
            return client.run(spec)

        return client._pool.submit(wait_then_run)

    client.submit = slow_submit
    try:
        future = form.run()
        time.sleep(1.3)
        assert form.controller.elapsed_s >= 1.0
        assert "running on offline… 1 s" in form.status.value
    finally:
        gate.set()
        client.submit = real_submit
    future.result(timeout=30)
    assert "done: 1 item(s)" in form.status.value and form.controller.elapsed_s == 0.0
