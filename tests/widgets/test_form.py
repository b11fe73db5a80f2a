"""SpecForm: every spec builds, the two-way link, refused values, live problems, Run."""

from __future__ import annotations

import html
import io
import sys
import threading

import httpx
import ipywidgets as W
import param
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.simulator import SimulatorTransport
from ideogram_nb.widgets import SpecForm
from ideogram_nb.widgets._field_view import INVALID_CLASS, SERVICE_DEFAULT
from ideogram_nb.widgets._image_fields import ImageField, PainterMaskField
from ideogram_nb.widgets._mapper import form_fields

ALL_SPECS = [
    ig.Generate, ig.Remix, ig.Edit, ig.Reframe, ig.ReplaceBackground,
    ig.LegacyGenerate, ig.LegacyRemix, ig.LegacyEdit, ig.Upscale, ig.Describe,
]  # fmt: skip


@pytest.fixture
def client(tmp_path):
    c = ig.Client(provider="offline", history=ig.History(tmp_path / "runs"))
    yield c
    c.close()


def _png(size=(64, 64), colour=(0, 128, 255)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def _upload(widget: W.FileUpload, data: bytes, name: str = "in.png") -> None:
    """What the browser sends: a list of file dicts (ipywidgets 8 deserialises them)."""
    widget.set_state({"value": [{"name": name, "type": "image/png", "size": len(data),
                                 "content": memoryview(data), "last_modified": 0}]})  # fmt: skip


def _errors(form: SpecForm) -> dict[str, str]:
    return {n: html.unescape(v.message.value) for n, v in form.views.items() if v.level == "error"}


def shown_tooltips(widget: W.Widget) -> list[str]:
    """The doc a user sees on hover. A Box never carries one itself: ipywidgets 8.1's front
    end cannot draw a Box with a tooltip (jupyter-widgets/ipywidgets#3860)."""
    if isinstance(widget, W.Box):
        assert not widget.tooltip, f"{type(widget).__name__} has a tooltip and would not be drawn"
        return [t for child in widget.children for t in shown_tooltips(child)]
    return [widget.tooltip] if getattr(widget, "tooltip", None) else []


@pytest.mark.parametrize("spec_cls", ALL_SPECS, ids=lambda c: c.__name__)
def test_a_form_builds_for_every_endpoint(spec_cls):
    form = SpecForm(spec_cls())
    basic, advanced = form_fields(form.spec)
    assert list(form.fields) == basic + advanced
    for name, control in form.fields.items():
        doc = " ".join(spec_cls.param[name].doc.split())
        assert doc in shown_tooltips(control), name
    assert form.advanced.layout.display == ("none" if not advanced else None)
    assert _errors(form) == {}  # a fresh form is not red
    assert spec_cls.__name__ in form.title.value


def test_widget_changes_reach_the_spec():
    form = SpecForm(ig.Generate())
    form.fields["prompt"].value = "a lighthouse"
    form.fields["num_images"].value = 3
    form.fields["rendering_speed"].value = "TURBO"
    form.fields["aspect_ratio"].value = "16x9"
    form.fields["seed"].value = "7"
    assert (form.spec.prompt, form.spec.num_images, form.spec.rendering_speed) == ("a lighthouse", 3, "TURBO")
    assert (form.spec.aspect_ratio, form.spec.seed) == ("16x9", 7)
    form.fields["aspect_ratio"].value = SERVICE_DEFAULT
    form.fields["seed"].value = ""
    assert form.spec.aspect_ratio is None and form.spec.seed is None


def test_spec_changes_reach_the_widgets_without_echo():
    spec = ig.Generate(prompt="x")
    form = SpecForm(spec)
    events = []
    spec.param.watch(lambda e: events.append(e.name), ["num_images", "style_type"])
    spec.num_images = 5
    spec.style_type = "DESIGN"
    spec.seed = 12
    assert form.fields["num_images"].value == 5
    assert form.fields["style_type"].value == "DESIGN"
    assert form.fields["seed"].value == "12"
    assert events == ["num_images", "style_type"]  # one event each: nothing bounced back
    form.fields["num_images"].value = 2
    assert events == ["num_images", "style_type", "num_images"]


def test_a_refused_value_is_shown_on_the_field_and_the_spec_keeps_its_last_good_value():
    form = SpecForm(ig.Generate(prompt="x", seed=42))
    form.fields["seed"].value = "99999999999"
    assert form.spec.seed == 42
    view = form.views["seed"]
    assert view.level == "error" and INVALID_CLASS in view.control._dom_classes
    assert "refused" in view.message.value and "2147483647" in view.message.value
    form.fields["seed"].value = "abc"
    assert form.spec.seed == 42 and "not a whole number" in view.message.value
    form.fields["seed"].value = "43"
    assert form.spec.seed == 43 and view.level is None


def test_setting_the_spec_from_code_clears_a_refusal():
    form = SpecForm(ig.Generate(prompt="x"))
    form.fields["seed"].value = "-5"
    assert form.views["seed"].level == "error"
    form.spec.seed = 5
    assert form.views["seed"].level is None and form.fields["seed"].value == "5"


def test_cross_field_problems_show_live_on_the_fields_they_name():
    form = SpecForm(ig.LegacyGenerate(prompt="a fox"))
    form.fields["style_type"].value = "ANIME"
    assert _errors(form) == {}
    form.fields["model"].value = "V_1"
    assert "not with model='V_1'" in _errors(form)["style_type"]
    form.fields["model"].value = "V_2"
    assert "style_type" not in _errors(form)


def test_a_problem_in_an_advanced_field_opens_the_advanced_fold():
    form = SpecForm(ig.Generate(prompt="x"))
    assert form.advanced.selected_index is None
    form.fields["aspect_ratio"].value = "16x9"
    form.fields["resolution"].value = "1024x1024"
    assert "cannot be combined with aspect_ratio" in _errors(form)["resolution"]
    assert form.advanced.selected_index == 0


def test_warnings_are_shown_but_do_not_block():
    form = SpecForm(ig.Generate(prompt="x", num_images=3))
    form.fields["seed"].value = "9"
    assert form.views["seed"].level == "warning" and "identical" in form.views["seed"].message.value


def test_cost_is_estimated_live():
    form = SpecForm(ig.Generate(prompt="x", num_images=2))
    assert "≈ $0.12 for 2 images" in form.cost.value
    form.fields["rendering_speed"].value = "QUALITY"
    assert "≈ $0.18 for 2 images" in form.cost.value
    assert "per call" in SpecForm(ig.Upscale()).cost.value


def test_run_without_required_fields_shows_the_problems_and_sends_nothing(client):
    form = SpecForm(ig.Generate(), client)
    future = form.run()
    with pytest.raises(ig.SpecError):
        future.result(timeout=5)
    assert "prompt" in _errors(form)
    assert "Not sent" in form.messages.value and "Traceback" not in form.messages.value
    assert len(client.history) == 0 and form.run_button.disabled is False


def test_run_fills_the_grid_and_calls_on_result(client):
    form = SpecForm(ig.Generate(prompt="a red kite", num_images=2), client)
    seen = []
    form.on_result(seen.append)
    result = form.run().result(timeout=30)
    assert seen == [result]
    assert [im for im, _ in form.grid.entries] == result.images
    assert len(form.grid.tiles.children) == 2
    thumb = form.grid.tiles.children[0].children[0]
    assert thumb.format == "jpeg" and thumb.value[:3] == b"\xff\xd8\xff"
    assert len(thumb.value) < result.images[0].path.stat().st_size
    assert "done" in form.status.value and form.run_button.description == "Run"
    assert len(form.shelf) == 2  # the images can now be reused as inputs


def test_the_run_snapshot_is_not_changed_by_later_edits(client):
    form = SpecForm(ig.Generate(prompt="first"), client)
    result = form.run().result(timeout=30)
    form.fields["prompt"].value = "second"
    assert result.spec.prompt == "first" and result.spec is not form.spec


class _Gate(httpx.BaseTransport):
    """The simulator behind a gate: POSTs wait until the test opens it."""

    def __init__(self) -> None:
        self.inner = SimulatorTransport()
        self.opened = threading.Event()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            assert self.opened.wait(30)
        return self.inner.handle_request(request)


def test_a_running_form_cannot_submit_twice(tmp_path):
    gate = _Gate()
    with ig.Client(provider="offline", transport=gate, history=ig.History(tmp_path / "h")) as client:
        form = SpecForm(ig.Generate(prompt="slow"), client)
        first = form.run()
        assert form.run_button.disabled and form.run_button.description == "Running…"
        assert form.run() is first
        form.run_button.click()
        gate.opened.set()
        result = first.result(timeout=30)
        assert gate.posts == 1 and len(result.images) == 1
        assert form.run_button.disabled is False


def test_api_errors_are_shown_as_messages_not_tracebacks(tmp_path):
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": "Prompt failed the safety check"})

    with ig.Client(provider="offline", transport=httpx.MockTransport(refuse), history=ig.History(tmp_path / "h")) as c:
        form = SpecForm(ig.Generate(prompt="x"), c)
        future = form.run()
        with pytest.raises(ig.UnprocessableError):
            future.result(timeout=30)
        assert "Prompt failed the safety check" in form.messages.value
        assert "Traceback" not in form.messages.value
        assert form.run_button.disabled is False and len(form.grid.entries) == 0


def test_the_client_is_created_lazily():
    form = SpecForm(ig.Describe())
    assert form.controller.has_client is False
    assert form.client.provider == "offline" and form.controller.has_client


class Narrowing(ig.Spec):
    """A spec whose model narrows the allowed styles (param `objects` updates)."""

    model = param.Selector(objects=["M1", "M2"], default="M2", doc="Model.")
    style = param.Selector(objects=[None, "A", "B", "C"], doc="Style.")

    @param.depends("model", watch=True)
    def _narrow(self):
        self.param.style.objects = [None, "A"] if self.model == "M1" else [None, "A", "B", "C"]


def test_the_widget_follows_a_parameter_whose_allowed_values_change():
    spec = Narrowing(style="B")
    form = SpecForm(spec)
    form.fields["model"].value = "M1"
    labels = [label for label, _ in form.fields["style"].options]
    assert labels == ["service default", "A", "B (not allowed here)"]
    assert spec.style == "B" and form.fields["style"].value == "B"  # nothing changed silently
    form.fields["style"].value = "A"
    form.fields["model"].value = "M2"
    assert [label for label, _ in form.fields["style"].options] == ["service default", "A", "B", "C"]
    assert spec.style == "A"


def test_upload_sets_the_image_with_a_preview_and_bad_files_are_refused():
    form = SpecForm(ig.Remix(prompt="x"))
    field = form.fields["image"]
    assert isinstance(field, ImageField)
    data = _png()
    _upload(field.upload, data)
    assert form.spec.image.data == data and field.preview.layout.display is None
    assert field.preview.value[:3] == b"\xff\xd8\xff" and field.upload.value == ()
    _upload(field.upload, b"GIF89a not really", name="x.gif")
    assert form.spec.image.data == data
    assert form.views["image"].level == "error" and "not a readable image" in form.views["image"].message.value


def test_an_earlier_result_can_be_chosen_as_input(client):
    gen = SpecForm(ig.Generate(prompt="a boat"), client)
    remix = SpecForm(ig.Remix(prompt="a boat at night"), client, shelf=gen.shelf)
    assert remix.fields["image"].earlier.layout.display == "none"
    result = gen.run().result(timeout=30)
    chooser = remix.fields["image"].earlier
    assert chooser.layout.display is None and len(chooser.options) == 2
    chooser.value = 0
    assert remix.spec.image.sha256 == result.images[0].sha256
    assert remix.run().result(timeout=30).ok


def test_the_mask_painter_paints_over_the_chosen_image(client):
    result = SpecForm(ig.Generate(prompt="a cat"), client).run().result(timeout=30)
    form = SpecForm(ig.Edit(prompt="a dog", image=result.images[0]), client)
    field = form.fields["mask"]
    assert isinstance(field, PainterMaskField) and field.painter.image_size == (1024, 1024)
    field.painter.rect(0, 0, 512, 1024)
    assert form.spec.mask is not None and form.spec.problems() == []
    edited = form.run().result(timeout=30)
    assert edited.ok and len(edited.images) == 1
    _upload(form.fields["image"].upload, _png((128, 128)))
    assert form.spec.mask is None and field.painter.image_size == (128, 128)


def test_painting_twice_updates_the_spec_each_time():
    image = _png((100, 100))
    form = SpecForm(ig.Edit(prompt="x", image=image))
    painter = form.fields["mask"].painter
    painter.rect(0, 0, 50, 100)
    first = form.spec.mask.sha256
    painter.rect(0, 0, 100, 100)
    assert form.spec.mask.sha256 != first
    painter.undo()
    assert form.spec.mask.sha256 == first


def test_without_the_painter_the_mask_is_an_upload(monkeypatch):
    monkeypatch.setitem(sys.modules, "ideogram_nb.widgets._painter", None)
    form = SpecForm(ig.Edit(prompt="x"))
    assert isinstance(form.fields["mask"], ImageField)


def test_grid_actions_open_a_prefilled_form_under_a_standalone_form(client):
    form = SpecForm(ig.Generate(prompt="a tower"), client)
    result = form.run().result(timeout=30)
    form.grid.select(0)
    spec = form.grid.trigger("remix")
    opened = form.followup.children[-1]
    assert isinstance(opened, SpecForm) and opened.spec is spec
    assert opened.spec.image.sha256 == result.images[0].sha256 and opened.client is client


class Bounded(ig.Spec):
    """A spec whose mode changes a number's bounds (param `bounds` updates)."""

    mode = param.Selector(objects=["small", "large"], default="small", doc="Mode.")
    count = param.Integer(2, bounds=(1, 4), doc="Count.")

    @param.depends("mode", watch=True)
    def _rebound(self):
        self.param.count.bounds = (1, 4) if self.mode == "small" else (10, 20)


def test_a_slider_follows_new_bounds():
    form = SpecForm(Bounded())
    form.fields["mode"].value = "large"
    assert (form.fields["count"].min, form.fields["count"].max) == (10, 20)
    form.fields["mode"].value = "small"
    assert (form.fields["count"].min, form.fields["count"].max) == (1, 4)


def test_reuse_seed_on_a_standalone_form_prefills_that_form(client):
    form = SpecForm(ig.Generate(prompt="a tower"), client)
    result = form.run().result(timeout=30)
    form.grid.select(0)
    form.grid.trigger("reuse_seed")
    assert form.spec.seed == result.images[0].seed and form.fields["seed"].value == str(result.images[0].seed)
    assert form.followup.children == () and len(form.grid.entries) == 1


def test_load_resets_fields_the_new_spec_leaves_at_default():
    form = SpecForm(ig.Generate(prompt="old", num_images=4, style_type="DESIGN"))
    form.load(ig.Generate(prompt="new"))
    assert (form.spec.prompt, form.spec.num_images, form.spec.style_type) == ("new", 1, None)
    assert form.fields["num_images"].value == 1 and form.fields["style_type"].value is SERVICE_DEFAULT
    with pytest.raises(TypeError):
        form.load(ig.Describe())


def test_an_image_set_from_code_is_previewed_and_lists_accept_several_uploads():
    form = SpecForm(ig.Generate)
    assert isinstance(form.spec, ig.Generate)
    refs = form.fields["style_reference_images"]
    refs.upload.set_state({"value": [
        {"name": f"{i}.png", "type": "image/png", "size": 1, "content": memoryview(_png(colour=(i, 0, 0))),
         "last_modified": 0} for i in (1, 2)
    ]})  # fmt: skip
    assert len(form.spec.style_reference_images) == 2 and len(refs.previews.children) == 2
    refs.clear.click()
    assert form.spec.style_reference_images is None and refs.previews.children == ()
    remix = SpecForm(ig.Remix(prompt="x"))
    remix.spec.image = _png((48, 32))
    assert remix.fields["image"].preview.layout.display is None and "48×32" in remix.fields["image"].info.value


def test_describe_results_show_as_text_in_the_grid(client):
    form = SpecForm(ig.Describe(image=_png((96, 96))), client)
    result = form.run().result(timeout=30)
    assert result.descriptions and result.descriptions[0] in html.unescape(form.grid.tiles.children[0].value)


# --- issue #11: the schema's further fields ---------------------------------------------------
def _contains(box: W.Widget, target: W.Widget) -> bool:
    return box is target or any(_contains(c, target) for c in getattr(box, "children", ()))


@pytest.mark.parametrize("spec_cls", [ig.Generate, ig.Remix, ig.Edit], ids=lambda c: c.__name__)
def test_character_references_get_image_list_pickers_in_the_advanced_fold(spec_cls):
    from ideogram_nb.widgets._image_fields import ImageListField

    form = SpecForm(spec_cls())
    _basic, advanced = form_fields(form.spec)
    for name in ("character_reference_images", "character_reference_images_mask", "custom_model_uri"):
        assert name in advanced and _contains(form.advanced, form.fields[name])
    refs = form.fields["character_reference_images"]
    assert isinstance(refs, ImageListField) and refs.upload.multiple  # like style references
    assert isinstance(form.fields["character_reference_images_mask"], ImageListField)
    assert isinstance(form.fields["custom_model_uri"], W.Text)


def test_a_character_reference_upload_is_sent_priced_and_its_mask_checked():
    form = SpecForm(ig.Generate(prompt="the same knight, at sea", num_images=2))
    assert "≈ $0.12 for 2 images" in form.cost.value
    _upload(form.fields["character_reference_images"].upload, _png((40, 40)))
    assert len(form.spec.character_reference_images) == 1
    assert "≈ $0.30 for 2 images" in form.cost.value  # the character-reference rate, DEFAULT
    form.fields["rendering_speed"].value = "QUALITY"
    assert "≈ $0.40 for 2 images" in form.cost.value
    mask_field = form.fields["character_reference_images_mask"]
    _upload(mask_field.upload, _png((40, 40), (128, 128, 128)))
    _upload(mask_field.upload, _png((40, 40), (128, 128, 128)))
    assert "one mask per character reference" in _errors(form)["character_reference_images_mask"]
    mask_field.clear.click()
    assert "character_reference_images_mask" not in _errors(form)


def test_custom_model_fields_warn_without_blocking():
    form = SpecForm(ig.Generate(prompt="x"))
    form.fields["style_type"].value = "CUSTOM"
    assert form.views["style_type"].level == "warning" and "custom_model_uri" in form.views["style_type"].message.value
    form.fields["custom_model_uri"].value = "model/my-brand/version/3"
    assert form.spec.custom_model_uri == "model/my-brand/version/3"
    assert form.views["style_type"].level is None and _errors(form) == {}


def test_new_enum_values_are_offered_in_the_dropdowns():
    legacy = SpecForm(ig.LegacyGenerate(prompt="x"))
    model = legacy.fields["model"]
    assert isinstance(model, W.Dropdown) and "AUTO" in [v for _, v in model.options]
    version = legacy.fields["magic_prompt_version"]
    assert isinstance(version, W.Dropdown) and [v for _, v in version.options][-1] == "V_0_8"
    version.value = "V_0_4"
    assert legacy.spec.magic_prompt_version == "V_0_4"
    assert "CUSTOM" in [v for _, v in legacy.fields["style_type"].options]
    assert "CUSTOM" in [v for _, v in SpecForm(ig.Generate()).fields["style_type"].options]
    describe = SpecForm(ig.Describe()).fields["describe_model_version"]
    describe.value = "CUSTOM"
    assert describe.options[-1] == ("CUSTOM", "CUSTOM")


def test_a_legacy_model_the_sources_dispute_is_a_warning_on_the_field():
    form = SpecForm(ig.LegacyGenerate(prompt="x", negative_prompt="blur"))
    form.fields["model"].value = "V_3"
    view = form.views["negative_prompt"]
    assert view.level == "warning" and "AiHubMix" in html.unescape(view.message.value)
    form.fields["model"].value = "V_2A"
    assert "negative_prompt" in _errors(form)


def test_a_jpeg_mask_upload_is_accepted_with_a_warning(monkeypatch):
    monkeypatch.setitem(sys.modules, "ideogram_nb.widgets._painter", None)  # the upload field
    form = SpecForm(ig.Edit(prompt="x", image=_png((32, 32))))
    mask = Image.new("L", (32, 32), 255)
    mask.paste(0, (0, 0, 32, 12))
    buf = io.BytesIO()
    mask.convert("RGB").save(buf, format="JPEG", quality=60)
    _upload(form.fields["mask"].upload, buf.getvalue(), name="mask.jpg")
    assert form.spec.mask is not None and form.spec.mask.mime == "image/png"
    assert form.views["mask"].level == "warning" and "grey or coloured pixels" in form.views["mask"].message.value
    assert _errors(form) == {}


def test_an_uploaded_image_made_by_ideogram_nb_offers_its_settings(tmp_path):
    client = ig.Client(provider="offline", history=ig.History(tmp_path / "h"))
    made = client.run(ig.Generate(prompt="a teal kite", seed=11, aspect_ratio="16x9"))
    form = SpecForm(ig.Remix(prompt="x"), client)
    field = form.fields["image"]
    assert field.settings_button.layout.display == "none"

    _upload(field.upload, made.images[0].path.read_bytes())
    assert field.settings_button.layout.display is None
    assert field.settings_button.description == "Use its settings (Generate)"
    field.settings_button.click()  # another endpoint's settings: its form opens, prefilled
    opened = form.followup.form
    assert isinstance(opened.spec, ig.Generate) and opened.spec.prompt == "a teal kite"
    assert opened.spec.aspect_ratio == "16x9" and opened.spec.seed == 11

    plain = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(plain, format="PNG")
    _upload(field.upload, plain.getvalue())  # no record inside: nothing to offer
    assert field.settings_button.layout.display == "none"
