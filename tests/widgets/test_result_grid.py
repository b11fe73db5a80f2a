"""ResultGrid and the pure per-image actions behind it."""

from __future__ import annotations

import hashlib
import html
import io
import threading

import numpy as np
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._config import THUMBNAIL_PX
from ideogram_nb.widgets import ResultGrid, SpecForm
from ideogram_nb.widgets._actions import action_spec, available_actions, save_image
from ideogram_nb.widgets._result_grid import caption_text, record_rows


def _image(tmp_path, name, size=(512, 512), seed=11, prompt="a lighthouse", safe=True) -> ig.ImageResult:
    path = tmp_path / f"{name}.png"
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return ig.ImageResult(path=path, sha256=sha, seed=seed, resolution=f"{size[0]}x{size[1]}",
                          prompt=prompt, is_image_safe=safe, style_type="GENERAL")  # fmt: skip


def _withheld(seed=5) -> ig.ImageResult:
    return ig.ImageResult(path=None, sha256=None, seed=seed, resolution="1024x1024", prompt="p", is_image_safe=False)


def _result(images, spec=None, cost=None, **kw) -> ig.Result:
    spec = spec or ig.Generate(prompt="a lighthouse", num_images=max(1, len(images)), rendering_speed="TURBO")
    cost = 0.03 * len(images) if cost is None else cost
    return ig.Result(run_id="run-1", spec=spec, provider="offline", images=list(images), cost_usd=cost, **kw)


def test_captions_say_seed_size_cost_and_safety(tmp_path):
    im = _image(tmp_path, "a", size=(640, 320), seed=77)
    assert caption_text(im, _result([im, im], cost=0.12)) == "seed 77 · 640×320 · $0.060"
    assert "withheld (unsafe)" in caption_text(_withheld())
    rows = dict(record_rows(im, _result([im])))
    assert rows["sha256"] == im.sha256 and rows["endpoint"] == "generate" and rows["run"] == "run-1"


def test_thumbnails_are_small_jpegs_not_the_full_png(tmp_path):
    big = _image(tmp_path, "big", size=(1024, 1024))
    grid = ResultGrid([_result([big])])
    thumb = grid.tiles.children[0].children[0]
    assert thumb.format == "jpeg" and thumb.value[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(thumb.value)) as im:
        assert max(im.size) <= THUMBNAIL_PX
    assert len(thumb.value) < big.path.stat().st_size / 4
    assert "1 image" in grid.header.value and "$0.03" in grid.header.value


def test_results_appear_as_they_are_added_even_from_another_thread(tmp_path):
    grid = ResultGrid()
    assert "No results yet" in grid.header.value
    grid.add(_result([_image(tmp_path, "a")]))
    later = _result([_image(tmp_path, "b", seed=2), _image(tmp_path, "c", seed=3)])
    worker = threading.Thread(target=grid.add, args=(later,))
    worker.start()
    worker.join()
    assert len(grid.tiles.children) == 3 and len(grid.images) == 3
    assert "3 images" in grid.header.value


def test_withheld_images_show_a_grey_placeholder_and_cannot_be_sent_or_saved(tmp_path):
    grid = ResultGrid([_result([_withheld()])])
    tile = grid.tiles.children[0]
    thumb, caption, button = tile.children
    with Image.open(io.BytesIO(thumb.value)) as im:
        r, g, b = im.convert("RGB").getpixel((2, 2))
    assert abs(r - 200) < 8 and abs(g - 200) < 8 and abs(b - 200) < 8
    assert "withheld" in caption.value and button.description == "Withheld"
    assert "(1 withheld)" in grid.header.value
    grid.select(0)
    assert [b.description for b in grid.action_buttons.children] == ["Reuse seed"]
    assert grid.save_button.disabled
    with pytest.raises(ValueError, match="withheld"):
        grid.trigger("remix")


def test_describe_results_and_errors_are_shown_as_text():
    desc = ig.Result(run_id="r", spec=ig.Describe(), provider="offline", descriptions=["A red <b>boat</b>."])
    failed = ig.Result(run_id="r2", spec=ig.Generate(prompt="x"), provider="offline",
                       error=ig.UnprocessableError("failed the safety check", status=422))  # fmt: skip
    grid = ResultGrid([desc, failed])
    texts = [html.unescape(t.value) for t in grid.tiles.children]
    assert "A red <b>boat</b>." in texts[0]
    assert "UnprocessableError" in texts[1] and "safety check" in texts[1]
    assert grid.images == []


def test_selecting_shows_the_image_larger_with_its_record(tmp_path):
    a, b = _image(tmp_path, "a", seed=1), _image(tmp_path, "b", seed=2)
    grid = ResultGrid([_result([a, b])])
    picked = []
    grid.on_select(picked.append)
    assert grid.selected is None and grid.detail.layout.display == "none"
    grid.tiles.children[1].children[2].click()
    assert grid.selected is b and picked == [b]
    assert grid.detail.layout.display is None
    assert b.sha256 in grid.detail_record.value and grid.detail_image.value[:3] == b"\xff\xd8\xff"
    assert grid.tiles.children[1].layout.border != grid.tiles.children[0].layout.border
    labels = [btn.description for btn in grid.action_buttons.children]
    assert labels == ["Remix", "Edit", "Upscale", "Describe", "Reframe", "Replace background", "Reuse seed"]


def test_action_specs_are_prefilled_from_the_image(tmp_path):
    im = _image(tmp_path, "sq", size=(256, 256), seed=42, prompt="a lighthouse at dusk")
    source = ig.Generate(prompt="a lighthouse", num_images=2, rendering_speed="QUALITY", aspect_ratio="1x1")
    remix = action_spec("remix", im, source)
    assert isinstance(remix, ig.Remix) and remix.image.sha256 == im.sha256 and remix.prompt == "a lighthouse at dusk"
    edit = action_spec("edit", im, source)
    assert isinstance(edit, ig.Edit) and edit.image.sha256 == im.sha256 and edit.mask is None
    assert isinstance(action_spec("upscale", im, source), ig.Upscale)
    assert isinstance(action_spec("describe", im, source), ig.Describe)
    reframe = action_spec("reframe", im, source)
    assert isinstance(reframe, ig.Reframe) and reframe.image.sha256 == im.sha256
    bg = action_spec("replace_background", im, source)
    assert isinstance(bg, ig.ReplaceBackground) and bg.image.sha256 == im.sha256
    again = action_spec("reuse_seed", im, source)
    assert isinstance(again, ig.Generate) and again.seed == 42
    assert (again.prompt, again.rendering_speed, again.num_images) == ("a lighthouse", "QUALITY", 2)
    assert source.seed is None  # the source spec is not changed
    legacy = action_spec("reuse_seed", im, ig.LegacyGenerate(prompt="x", model="V_2_TURBO"))
    assert isinstance(legacy, ig.LegacyGenerate) and legacy.seed == 42 and legacy.model == "V_2_TURBO"


def test_reframe_only_for_square_images_and_bad_actions_are_refused(tmp_path):
    wide = _image(tmp_path, "wide", size=(300, 150))
    assert "reframe" not in available_actions(wide, ig.Generate(prompt="x"))
    assert "reframe" in available_actions(_image(tmp_path, "sq", size=(150, 150)))
    with pytest.raises(ValueError, match="square"):
        action_spec("reframe", wide)
    with pytest.raises(ValueError, match="unknown action"):
        action_spec("paint", wide)
    with pytest.raises(ValueError, match="reuse_seed"):
        action_spec("reuse_seed", wide, None)
    assert available_actions(_withheld(), ig.Generate(prompt="x")) == ["reuse_seed"]
    assert available_actions(_withheld(), ig.Describe()) == []


def test_action_buttons_hand_the_prefilled_spec_to_listeners(tmp_path):
    im = _image(tmp_path, "a", size=(128, 128))
    grid = ResultGrid([_result([im])])
    got = []
    grid.on_action(lambda action, spec: got.append((action, spec)))
    grid.select(im)
    upscale = next(b for b in grid.action_buttons.children if b.description == "Upscale")
    upscale.click()
    assert [(a, type(s).__name__) for a, s in got] == [("upscale", "Upscale")]
    assert got[0][1].image.sha256 == im.sha256
    assert grid.followup.children == ()


def test_without_listeners_the_prefilled_form_opens_under_the_grid(tmp_path):
    im = _image(tmp_path, "a", size=(128, 128))
    grid = ResultGrid([_result([im])])
    grid.select(0)
    grid.trigger("edit")
    form = grid.followup.children[-1]
    assert isinstance(form, SpecForm) and isinstance(form.spec, ig.Edit)
    assert form.fields["mask"].painter.image_size == (128, 128)


def test_save_copies_the_file_byte_for_byte(tmp_path):
    im = _image(tmp_path, "a", size=(64, 64))
    out = tmp_path / "out"
    assert save_image(im, out / "kept.png").read_bytes() == im.path.read_bytes()
    assert save_image(im, out / "noext") == out / "noext.png"
    out.mkdir(exist_ok=True)
    assert save_image(im, out) == out / f"{im.sha256[:12]}.png"
    with pytest.raises(ValueError, match="withheld"):
        save_image(_withheld(), out)


def test_the_save_box_saves_the_selected_image_and_reports_where(tmp_path):
    im = _image(tmp_path, "a", size=(64, 64))
    grid = ResultGrid([_result([im])])
    grid.select(0)
    assert grid.save_path.value == "a.png"
    grid.save_path.value = str(tmp_path / "saved" / "copy.png")
    grid.save_button.click()
    assert (tmp_path / "saved" / "copy.png").read_bytes() == im.path.read_bytes()
    assert "Saved to" in grid.detail_message.value
    grid.save_path.value = "   "
    grid.save_button.click()
    assert "Not saved" in grid.detail_message.value


def test_a_grid_of_stored_results_shows_the_thumbnails_made_when_they_were_stored(tmp_path, monkeypatch):
    """No store given: a result whose file lies in a store still gets that store's thumbnails
    (made ahead, cached on disk), and nothing decodes the full PNGs again."""
    from ideogram_nb._history import _store
    from ideogram_nb._history._premade import PREMADE

    store = ig.ImageStore(tmp_path / "images")
    rng = np.random.default_rng(4)
    images = []
    for i in range(6):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(buf, format="PNG")
        sha, path = store.put_output(buf.getvalue(), {"endpoint": "generate", "seed": i})
        images.append(ig.ImageResult(path=path, sha256=sha, seed=i, resolution="400x300", prompt="p"))
    assert PREMADE.wait(30)

    def boom(*args: object) -> bytes:
        raise AssertionError("a stored result's thumbnail is made when it is stored, not again")

    monkeypatch.setattr(_store, "make_thumbnail", boom)
    monkeypatch.setattr(ig.ImageStore, "make_thumbnail", staticmethod(boom))
    grid = ResultGrid([_result(images)])
    shown = [tile.children[0].value for tile in grid.tiles.children]
    assert shown == [store.thumbnail(im.sha256, THUMBNAIL_PX) for im in images]
    assert len(list((tmp_path / "images" / "thumbs").rglob("*.jpg"))) == len(images)
