"""The v2 specs as forms: they build with every field and its doc, quality (not speed) is a
control, the mask is the painter, cross-field v2 rules show live, and Run works offline."""

from __future__ import annotations

import html

import ipywidgets as W
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.widgets import SpecForm
from ideogram_nb.widgets._image_fields import PainterMaskField
from ideogram_nb.widgets._mapper import form_fields

V2_SPECS = [ig.Generate45, ig.PreciseEdit45, ig.Inpaint3, ig.Remix4, ig.Describe4]


def _errors(form: SpecForm) -> dict[str, str]:
    return {n: html.unescape(v.message.value) for n, v in form.views.items() if v.level == "error"}


@pytest.mark.parametrize("spec_cls", V2_SPECS, ids=lambda c: c.__name__)
def test_a_form_builds_for_every_v2_spec(spec_cls):
    form = SpecForm(spec_cls())
    basic, advanced = form_fields(form.spec)
    assert list(form.fields) == basic + advanced
    assert _errors(form) == {} and spec_cls.__name__ in form.title.value
    if "mask" in spec_cls.param:
        assert isinstance(form.fields["mask"], PainterMaskField)
    assert ("quality" in form.fields) == (spec_cls in (ig.Generate45, ig.PreciseEdit45))
    assert "rendering_speed" not in form.fields or spec_cls in (ig.Inpaint3, ig.Remix4)


def test_quality_and_size_reach_the_spec_and_v2_rules_show_live():
    form = SpecForm(ig.Generate45(prompt="a fox"))
    form.fields["quality"].value = "low"
    form.fields["size"].value = "2048x2048"
    assert (form.spec.quality, form.spec.size) == ("low", "2048x2048")
    assert _errors(form) == {}
    form.fields["size"].value = "1000x1000"
    assert "presets" in _errors(form)["size"]
    form.fields["quality"].value = "very_low"
    assert "requires source images" in _errors(form)["quality"]


def test_a_precise_edit_runs_from_its_form_offline(tmp_path):
    client = ig.Client(provider="offline", history=ig.History(tmp_path / "runs"))
    image = Image.new("RGB", (96, 96), (10, 90, 200))
    mask = Image.new("L", (96, 96), 255)
    mask.paste(0, (20, 20, 60, 60))
    form = SpecForm(ig.PreciseEdit45(prompt="a gold circle", image=image, mask=mask), client)
    result = form.run().result(timeout=60)
    assert result.ok and result.images[0].size == (96, 96)
    assert isinstance(form.grid.tiles.children[0], W.Widget)
    client.close()


def test_a_generate45_mask_is_painted_over_the_first_source_image():
    first = Image.new("RGB", (80, 60), (200, 30, 30))
    other = Image.new("RGB", (40, 40), (30, 30, 200))
    form = SpecForm(ig.Generate45(prompt="a red door"))
    field = form.fields["mask"]
    assert field._image is None and field.painter is None  # nothing to paint over yet

    form.spec.images = [first, other]
    assert field.painter is not None and tuple(field.painter.image_size) == (80, 60)
    form.spec.images = [other]
    assert tuple(field.painter.image_size) == (40, 40)


def test_the_cost_line_of_a_v2_form_shows_the_services_quote_once_edits_settle(tmp_path):
    import time

    import httpx

    from ideogram_nb.simulator import SimulatorTransport

    class Counting(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner, self.dry_runs, self.other = SimulatorTransport(), 0, 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.params.get("dry_run") == "true":
                self.dry_runs += 1
            else:
                self.other += 1
            return self.inner.handle_request(request)

    wire = Counting()
    client = ig.Client(provider="offline", transport=wire, history=ig.History(tmp_path / "h"))
    form = SpecForm(ig.Generate45(prompt="a lighthouse", size="1024x1024", quality="high"), client)

    def settled(text: str) -> str:
        for _ in range(200):
            if text in html.unescape(form.cost.value):
                break
            time.sleep(0.02)
        return html.unescape(form.cost.value)

    expected = client.quote(ig.Generate45(prompt="x", size="1024x1024", quality="high"))
    shown = settled("quoted by the service")
    assert f"${expected.usd:.2f} for 1 image (quoted by the service, exact)" in shown
    form.fields["quality"].value = "low"  # the old quote is stale at once: the table's estimate shows
    assert "quoted" not in html.unescape(form.cost.value)
    cheaper = client.quote(ig.Generate45(prompt="x", size="1024x1024", quality="low"))
    assert f"${cheaper.usd:.2f} for 1 image (quoted" in settled("quoted")
    assert wire.other == 0 and len(client.history) == 0  # dry runs only: nothing made, nothing recorded


def test_a_v1_form_never_asks_the_service_for_a_price(tmp_path):
    from ideogram_nb.simulator import SimulatorTransport

    sim = SimulatorTransport()
    client = ig.Client(provider="offline", transport=sim, history=ig.History(tmp_path / "h"))
    form = SpecForm(ig.Generate(prompt="a lighthouse"), client)
    form.fields["prompt"].value = "a harbour"
    assert not form.controller.wants_quote() and sim.stats.requests == 0
    assert "≈ $" in form.cost.value
