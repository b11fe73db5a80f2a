"""The gallery, headless: the large view (controller and widget), browser downloads,
before/after, clickable thumbnails, describe's "Use as prompt", pending tiles, and the
history browser's thumbnails and live refresh."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.widgets import BeforeAfter, DownloadButton, HistoryBrowser, LargeView, ResultGrid, open_large_view
from ideogram_nb.widgets._download import download_name, slug
from ideogram_nb.widgets._gallery import Gallery, as_entries
from ideogram_nb.widgets._image_button import ImageButton
from ideogram_nb.widgets._thumbs import placeholder, preview_jpeg, result_thumbnail
from ideogram_nb.widgets._tiles import USE_AS_PROMPT, DescriptionTile, aspect_ratio_of


@pytest.fixture
def client(tmp_path):
    with ig.Client(provider="offline", history=ig.History(tmp_path / "runs")) as c:
        yield c


@pytest.fixture
def foxes(client):
    return client.run(ig.Generate(prompt="A red fox in the snow, watercolour", num_images=3, rendering_speed="TURBO"))


def sent(widget) -> list[tuple[dict, list]]:
    """Record what a widget sends to the front end (headless, the comm drops it)."""
    log: list[tuple[dict, list]] = []
    widget.send = lambda content, buffers=None: log.append((content, list(buffers or [])))
    return log


def click_in_browser(widget, event: str, **extra) -> None:
    """What the front end's click does: a custom message to the kernel."""
    widget._handle_custom_msg({"event": event, **extra}, [])


# --- names and payloads ----------------------------------------------------------------------------
def test_download_names_are_readable_and_safe(foxes):
    im = foxes.images[0]
    assert download_name(im, foxes) == f"red-fox-in-snow-watercolour_seed{im.seed}.png"
    assert slug("Ünïcode café: ../../etc/passwd <script>") == "unicode-cafe-etc-passwd-script"
    nameless = ig.ImageResult(path=im.path, sha256="ab" * 32, seed=None, resolution="8x8", prompt=None)
    assert download_name(nameless) == "ideogram_abababab.png"
    assert "/" not in download_name(
        ig.ImageResult(path=im.path, sha256=None, seed=7, resolution=None, prompt="/ \\ ..")
    )


# --- the controller -------------------------------------------------------------------------------
def test_gallery_moves_within_its_images_and_says_what_is_in_view(foxes):
    g = Gallery([foxes])
    assert len(g.entries) == 3 and not g.is_open
    with pytest.raises(ValueError, match="index=5 is out of range: there are 3 images"):
        g.show(index=5)
    g.show(index=0)
    assert not g.has_prev and g.has_next
    assert g.prev() == 0 and g.next() == 1 and g.next() == 2 and g.next() == 2 and not g.has_next
    cap = g.caption()
    im = foxes.images[2]
    assert cap["position"] == "3 / 3" and cap["seed"] == str(im.seed) and cap["size"] == "1024×1024"
    assert cap["cost"] == f"${foxes.cost_usd / 3:.3f}" and cap["prompt"] == "A red fox in the snow, watercolour"
    assert [a for a, _ in g.actions()] == ["remix", "edit", "upscale", "describe", "reframe", "replace_background",
                                           "reuse_seed"]  # fmt: skip
    assert g.source() is None and g.compare_layout() == ""
    assert as_entries([foxes.images[0], (foxes.images[1], foxes)]) == [
        (foxes.images[0], None),
        (foxes.images[1], foxes),
    ]


# --- the large view -------------------------------------------------------------------------------
def test_large_view_sends_only_the_image_in_view_at_full_resolution(foxes):
    view = LargeView()
    v = view.viewer
    assert not v.visible and v.src == b""
    view.show([foxes], 1)
    assert v.visible and v.src == foxes.images[1].path.read_bytes()  # the stored file, metadata inside
    assert v.mime == "image/png" and v.filename == download_name(foxes.images[1], foxes)
    assert v.caption["position"] == "2 / 3" and v.has_prev and v.has_next
    click_in_browser(v, "next")  # → in the browser
    assert view.index == 2 and v.src == foxes.images[2].path.read_bytes() and not v.has_next
    assert v.caption["position"] == "3 / 3"
    click_in_browser(v, "prev")
    click_in_browser(v, "prev")
    assert view.index == 0 and v.caption["position"] == "1 / 3" and not v.has_prev
    click_in_browser(v, "close")  # Esc
    assert not view.is_open and not v.visible and v.src == b""  # nothing large left in the front end
    assert view.show() is foxes.images[0] and v.visible


def test_large_view_actions_go_to_listeners_or_open_a_form(foxes):
    view = open_large_view([foxes], 0)
    click_in_browser(view.viewer, "action", action="remix")
    form = view.followup.form
    assert form is not None and isinstance(form.spec, ig.Remix) and form.spec.image.sha256 == foxes.images[0].sha256
    got = []
    view.on_action(lambda action, spec: got.append((action, spec)))
    click_in_browser(view.viewer, "action", action="reuse_seed")
    ((action, spec),) = got
    assert action == "reuse_seed" and isinstance(spec, ig.Generate) and spec.seed == foxes.images[0].seed
    click_in_browser(view.viewer, "action", action="nonsense")
    assert "unknown action" in view.viewer.message


def test_large_view_save_to_server_copies_the_file_under_its_download_name(foxes, tmp_path):
    view = LargeView(save_folder=tmp_path / "saved")
    view.show([foxes], 2)
    click_in_browser(view.viewer, "save")
    dest = tmp_path / "saved" / download_name(foxes.images[2], foxes)
    assert dest.read_bytes() == foxes.images[2].path.read_bytes()
    assert view.viewer.message == f"Saved to {dest}"


def test_withheld_image_shows_a_placeholder_and_cannot_be_downloaded():
    withheld = ig.ImageResult(path=None, sha256=None, seed=3, resolution="1024x1024", prompt="p", is_image_safe=False)
    view = open_large_view([withheld])
    assert view.viewer.src == placeholder(512, "withheld") and view.viewer.filename == ""
    assert view.viewer.actions == [] and "withheld" in view.viewer.caption["withheld"]
    click_in_browser(view.viewer, "save")
    assert view.viewer.message.startswith("Not saved: this image was withheld")


# --- before / after -------------------------------------------------------------------------------
def test_results_made_from_an_image_show_before_and_after(client, foxes):
    source = foxes.images[0]
    remix = client.run(ig.Remix(image=source, prompt="a blue fox", rendering_speed="TURBO"))
    view = open_large_view([remix])
    assert view.viewer.compare == "slider"  # same shape: one slider
    assert view.viewer.before == source.path.read_bytes() and view.viewer.before_mime == "image/png"
    wide = client.run(ig.Remix(image=source, prompt="a blue fox", aspect_ratio="16x9", rendering_speed="TURBO"))
    view.show([wide])
    assert view.viewer.compare == "side"  # different shapes stand side by side
    view.show([foxes])
    assert view.viewer.compare == "" and view.viewer.before == b""
    widget = BeforeAfter.for_result(remix)
    assert widget.before == source.path.read_bytes() and widget.after == remix.images[0].path.read_bytes()
    with pytest.raises(ValueError, match="was not made from an image"):
        BeforeAfter.for_result(foxes)


# --- downloads ------------------------------------------------------------------------------------
def test_download_button_sends_the_stored_file_unchanged(foxes):
    im = foxes.images[1]
    button = DownloadButton(im, foxes)
    log = sent(button)
    assert not button.disabled and button.filename == download_name(im, foxes)
    click_in_browser(button, "download")
    ((content, buffers),) = log
    assert content == {"event": "file", "name": download_name(im, foxes), "mime": "image/png"}
    assert hashlib.sha256(buffers[0]).hexdigest() == im.sha256 == hashlib.sha256(im.path.read_bytes()).hexdigest()
    assert ig.read_metadata(buffers[0])["seed"] == im.seed  # the run's record travels inside
    button.set_image(None)
    assert button.disabled and button.download() is None and button.message == "Choose an image first."


def test_result_grid_detail_downloads_the_selected_image(foxes):
    grid = ResultGrid([foxes])
    log = sent(grid.download_button)
    assert grid.download_button.disabled
    grid.select(2)
    click_in_browser(grid.download_button, "download")
    assert log[0][1][0] == foxes.images[2].path.read_bytes()
    assert grid.save_button.description == "Save to server"


# --- the grid: clicks, descriptions, pending tiles ------------------------------------------------
def test_clicking_a_thumbnail_opens_it_large_and_actions_reach_the_grid_listeners(foxes):
    grid = ResultGrid([foxes])
    thumb = grid.tiles.children[1].children[0]
    assert isinstance(thumb, ImageButton) and thumb.format == "jpeg" and thumb.value[:3] == b"\xff\xd8\xff"
    click_in_browser(thumb, "click")
    assert grid.large_view.is_open and grid.large_view.image is foxes.images[1]
    got = []
    grid.on_action(lambda action, spec: got.append((action, spec)))
    click_in_browser(grid.large_view.viewer, "action", action="upscale")
    assert [(a, type(s)) for a, s in got] == [("upscale", ig.Upscale)] and got[0][1].image.sha256 == foxes.images[
        1
    ].sha256
    grid.clear()
    assert not grid.large_view.is_open


def test_descriptions_span_the_grid_and_use_as_prompt_fires_an_action(client, foxes):
    described = client.run(ig.Describe(image=foxes.images[0]))
    grid = ResultGrid([described])
    tiles = [t for t in grid.tiles.children if isinstance(t, DescriptionTile)]
    assert len(tiles) == len(described.descriptions) >= 1
    assert all(t.layout.grid_column == "1 / -1" for t in tiles)  # full width, not a squeezed caption
    got = []
    grid.on_action(lambda action, spec: got.append((action, spec)))
    tiles[0].use_button.click()
    ((action, spec),) = got
    assert action == USE_AS_PROMPT and isinstance(spec, ig.Generate) and spec.prompt == described.descriptions[0]
    alone = ResultGrid([described])
    alone.tiles.children[0].use_button.click()
    assert isinstance(alone.followup.form.spec, ig.Generate)
    assert alone.followup.form.spec.prompt == described.descriptions[0]


def test_pending_tiles_have_the_coming_shape_and_are_replaced_in_place(client, foxes):
    grid = ResultGrid([foxes])
    spec = ig.Generate(prompt="wide", num_images=2, aspect_ratio="16x9", rendering_speed="TURBO")
    grid.show_pending(2, spec)
    assert grid.pending == 2 and len(grid.tiles.children) == 5
    with Image.open(io.BytesIO(grid.tiles.children[3].children[0].value)) as im:
        assert abs(im.size[0] / im.size[1] - 16 / 9) < 0.02
    grid.show_pending(1, "1x1")
    wide = client.run(spec)
    grid.add(wide)  # takes the place of the first batch, before the second one
    kids = grid.tiles.children
    assert grid.pending == 1 and len(kids) == 6
    assert [k.children[0].value for k in kids[3:5]] == [result_thumbnail(im) for im in wide.images]
    assert isinstance(kids[3].children[0], ImageButton) and isinstance(kids[4].children[0], ImageButton)
    assert not isinstance(kids[5].children[0], ImageButton)  # still on its way
    grid.clear_pending()
    assert grid.pending == 0 and len(grid.tiles.children) == 5
    assert aspect_ratio_of((1024, 768)) == pytest.approx(4 / 3) and aspect_ratio_of(0.5) == 0.5
    with pytest.raises(ValueError, match="aspect_ratio='wide' is not a shape"):
        grid.show_pending(1, "wide")


# --- previews go through the public reader ---------------------------------------------------------
def test_previews_read_any_image_value_through_open_image(foxes, tmp_path):
    im = foxes.images[0]
    pil = im.open()
    remix = ig.Remix(image=im, prompt="x")  # its `image` is the ImageInput that would be sent
    for value in (im, im.path, str(im.path), im.path.read_bytes(), pil, remix.image):
        jpeg = preview_jpeg(value, 64)
        assert jpeg is not None and jpeg[:3] == b"\xff\xd8\xff"
        with Image.open(io.BytesIO(jpeg)) as small:
            assert max(small.size) == 64
    assert pil.size == (1024, 1024)  # the caller's image is not shrunk in place
    assert preview_jpeg(None) is None and preview_jpeg(b"not an image") is None
    assert preview_jpeg(tmp_path / "missing.png") is None and preview_jpeg(object()) is None


# --- the history browser --------------------------------------------------------------------------
def test_history_thumbnails_open_the_run_in_the_large_view(client, foxes):
    browser = HistoryBrowser(client.history)
    got = []
    browser.on_rerun(got.append)
    thumbs = browser.rows[foxes.run_id]["thumbs"].children
    assert all(isinstance(t, ImageButton) for t in thumbs) and len(thumbs) == 3
    click_in_browser(thumbs[2], "click")
    view = browser.large_view
    assert view.is_open and view.index == 2 and view.viewer.src == foxes.images[2].path.read_bytes()
    click_in_browser(view.viewer, "action", action="edit")
    assert len(got) == 1 and isinstance(got[0], ig.Edit) and got[0].image.sha256 == foxes.images[2].sha256


class RecordingClient:
    """A client that announces each recorded call, as `HistoryBrowser` listens for."""

    def __init__(self, real: ig.Client) -> None:
        self.real = real
        self.history = real.history
        self.listeners: list = []

    def on_record(self, callback, remove=False) -> None:
        if remove:
            self.listeners.remove(callback)
        else:
            self.listeners.append(callback)

    def run(self, spec):
        result = self.real.run(spec)
        for listener in self.listeners:
            listener(result)
        return result


def test_history_refreshes_by_itself_once_after_a_burst_of_recorded_calls(client, monkeypatch):
    watched = RecordingClient(client)
    browser = HistoryBrowser(client=watched)  # type: ignore[arg-type]
    refreshed = threading.Event()
    calls = []
    real_refresh = browser.refresh

    def refresh():
        calls.append(1)
        real_refresh()
        refreshed.set()

    monkeypatch.setattr(browser, "refresh", refresh)
    for seed in (1, 2, 3):  # a compare grid's cells, one after another
        watched.run(ig.Generate(prompt="burst", seed=seed, rendering_speed="TURBO"))
    assert refreshed.wait(5), "the browser did not refresh after the recorded calls"
    assert len(browser.records) == 3 and "3 runs" in browser.totals_label.value
    assert calls == [1]  # debounced: one refresh for the burst
    other = RecordingClient(client)
    browser.watch(other)  # the Studio's "Use" swaps the client
    assert watched.listeners == [] and len(other.listeners) == 1 and browser.client is other
    browser.close()
    assert other.listeners == []


def test_custom_widgets_have_no_tooltip_trait():
    """ipywidgets 8.1 draws a `tooltip` only on widgets with a `description`: an anywidget with
    a tooltip but no description never renders (jupyter-widgets/ipywidgets#3860)."""
    for widget in (ImageButton(), DownloadButton(), BeforeAfter(), LargeView().viewer):
        assert widget.tooltip is None, type(widget)


def test_history_filters_show_their_any_choice(client, foxes):
    """ipywidgets shows a None value as a blank box; "any endpoint" must be what one sees."""
    browser = HistoryBrowser(client.history)
    for dropdown in (browser.endpoint_filter, browser.provider_filter, browser.status_filter):
        assert dropdown.index == 0 and dropdown.label.startswith("any ")
    browser.endpoint_filter.value = "remix"
    assert browser.records == []
    browser.endpoint_filter.index = 0  # back to "any endpoint", as a user picks it
    assert [r.run_id for r in browser.records] == [foxes.run_id]
