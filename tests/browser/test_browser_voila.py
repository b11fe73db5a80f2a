"""Voilà in a real browser: the user-facing Studio notebook (notebooks/studio.ipynb, as Binder
users open it) and the mask painter.

Voilà is where ipycanvas is hardest: the kernel draws before any browser is connected, so the
first drawing is lost, and a reload starts a new kernel. The painter must still show its image
on first load, take strokes, and come back drawn after a reload.
"""

from __future__ import annotations

import browser_support as bs
import flows
import pytest

import ideogram_nb as ig

pytestmark = pytest.mark.browser


def _render(page, server, path):
    page.goto(f"{server.url}/voila/render/{path}")


def test_voila_studio_notebook_generates_images(browsing, voila_server):
    page, watch = browsing.page, browsing.watch
    browsing.server = voila_server
    _render(page, voila_server, "user/studio.ipynb")
    banner = page.locator(".widget-html-content").filter(has_text="Offline simulator").first
    banner.wait_for(timeout=90_000)

    prompt = "a hot-air balloon made of patchwork quilts over green hills"
    flows.studio_generate(page, prompt, n_images=4)
    bs.screenshot(flows.studio_root(page), "voila-studio-results")  # the README's come from Lab

    # what the kernel did, from its history (IDEOGRAM_NB_HOME of the Voilà server): one run,
    # of the prompt typed in the browser, with the four images the page shows
    records = bs.wait_for(lambda: ig.History(voila_server.home).to_records(), 30, "the run in the history")
    assert [(r["endpoint"], r["status"], r["spec"].get("prompt"), len(r["images"])) for r in records] == [
        ("generate", "ok", prompt, 4)
    ]
    assert "Session cost: $0.24" in flows.studio_root(page).inner_text()
    browsing.assert_no_page_errors()
    broken = flows.view_errors(watch)
    assert not broken, f"{len(broken)} Studio widgets could not be shown in Voilà: {flows.VIEW_BUG}"


def test_voila_painter_draws_takes_strokes_and_redraws_after_reload(browsing, voila_server):
    page = browsing.page
    browsing.server = voila_server
    out = voila_server.out
    _render(page, voila_server, "painter_probe.ipynb")
    ready = bs.wait_for(lambda: bs.session_reports(out, "painter"), 90, "the painter's ready report")[0]
    canvas = flows.painter_canvas(page.locator("body"))
    # the drawing sent while the notebook ran (before this page connected) was lost: the image
    # shows only because the painter redraws when the browser's canvas says it is ready
    flows.wait_image_drawn(page, canvas)
    later = [(0.5, 0.15), (0.5, 0.4), (0.5, 0.88)]
    points = flows.stroke_points() + list(flows.UNTOUCHED) + later
    n = len(flows.stroke_points())
    before = flows.canvas_state(canvas, points)
    assert before["opaque"] == before["width"] * before["height"] == 512 * 512

    changes = flows.paint_strokes(page, canvas, out, flows.STROKES, 0, ready["pid"])
    coverages = [c["coverage"] for c in changes]
    assert len(coverages) == 3 and 0 < coverages[0] < coverages[1] < coverages[2], coverages
    assert 0.02 < coverages[0] < 0.05 and 0.08 < coverages[2] < 0.16, coverages
    flows.check_stroke_geometry(changes[0], *flows.STROKES[0], ready)
    after = flows.canvas_state(canvas, points)
    assert all(
        flows.tinted(a, b, ready["overlay"]) for a, b in zip(after["samples"][:n], before["samples"][:n], strict=True)
    )
    assert all(flows.same(a, b) for a, b in zip(after["samples"][n:], before["samples"][n:], strict=True))
    bs.screenshot(page, "voila-painter")

    # a reload is a new Voilà kernel: a fresh painter (empty mask) whose image is drawn again,
    # and strokes drawn after the reload reach the browser
    page.reload()
    again = bs.wait_for(
        lambda: (r := bs.session_reports(out, "painter")) and r[0]["pid"] != ready["pid"] and r[0],
        90, "the new kernel's ready report",
    )  # fmt: skip
    canvas = flows.painter_canvas(page.locator("body"))
    flows.wait_image_drawn(page, canvas)
    fresh = flows.canvas_state(canvas, points)
    assert all(flows.same(a, b) for a, b in zip(fresh["samples"], before["samples"], strict=True)), (
        "after the reload the canvas should show the image with an empty mask"
    )
    more = flows.paint_strokes(page, canvas, out, [((0.5, 0.1), (0.5, 0.9))], 0, again["pid"])
    assert 0.02 < more[0]["coverage"] < 0.06
    bs.wait_for(lambda: all(flows.tinted(a, b, ready["overlay"]) for a, b in zip(
        flows.canvas_state(canvas, later)["samples"], before["samples"][-len(later):], strict=True)),
        30, "the stroke painted after the reload to show")  # fmt: skip
    bs.screenshot(page, "voila-painter-reloaded")
    browsing.assert_no_page_errors()
