"""`Spec.to_python()` and the one code generator it shares with the exported notebooks; and
`open_image(flatten=True)`, the one transparency rule every preview uses."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._history import _export
from ideogram_nb._specs import _source
from ideogram_nb._specs._registry import SPEC_CLASSES
from ideogram_nb._specs._wire import request_hash


def _png(mode: str = "RGB", colour=(10, 200, 30), size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")
    return out.getvalue()


def test_to_python_rebuilds_the_same_request():
    spec = ig.Generate(prompt='a sign that says "OPEN"', aspect_ratio="16x9", seed=7, color_palette="EMBER")
    code = spec.to_python()
    assert code.startswith('ig.Generate(\n    prompt="a sign that says \\"OPEN\\"",\n    aspect_ratio="16x9",')
    assert ig.Generate(prompt="a fox", seed=3).to_python() == 'ig.Generate(prompt="a fox", seed=3)'
    rebuilt = eval(code, {"ig": ig})
    assert type(rebuilt) is ig.Generate and request_hash(rebuilt) == request_hash(spec)
    assert spec.to_python(var="spec").startswith("spec = ig.Generate(")
    assert ig.Generate().to_python() == "ig.Generate()"


def test_to_python_names_input_images_by_their_store_path(tmp_path):
    history = ig.History(tmp_path / "runs")
    sha, _path = history.store.put(_png(), ".png")
    spec = ig.Remix(prompt="a fox", image=history.store.path(sha), image_weight=70)
    code = spec.to_python(var="spec", store_expr="history.store")
    assert f'image=history.store.path("{sha}")' in code and "sha256:" not in code
    namespace = {"ig": ig, "history": history}
    exec(code, namespace)
    assert request_hash(namespace["spec"]) == request_hash(spec)


def test_the_export_uses_the_same_generator_and_finds_every_class():
    assert _export.spec_source is _source.spec_source and _export.py_literal is _source.py_literal
    assert _source.spec_classes() == dict(SPEC_CLASSES)
    spec = ig.Upscale(image=_png(), resemblance=40)
    fields = {k: v for k, v in spec.to_dict().items() if k != "endpoint"}
    assert _source.spec_source(spec.to_dict(), store_expr="s") == "spec = " + _source.spec_call(
        ig.Upscale, fields, var=None, store_expr="s")  # fmt: skip


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_open_image_flattens_transparency_on_white_when_asked(mode):
    colour = {"RGBA": (255, 0, 0, 0), "LA": (0, 0), "P": 0}[mode]
    img = Image.new(mode, (8, 8), colour)
    if mode == "P":
        img.info["transparency"] = 0
    flat = ig.open_image(img, flatten=True)
    assert flat.mode in ("RGB", "L") and "transparency" not in flat.info
    assert flat.convert("RGB").getpixel((3, 3)) == (255, 255, 255)
    assert ig.open_image(img) is img  # not asked: untouched


def test_open_image_flatten_keeps_opaque_images_as_they_are():
    data = _png(colour=(10, 200, 30))
    assert ig.open_image(data, flatten=True).getpixel((1, 1)) == (10, 200, 30)
