"""JupyterLab 4 in a real browser: the Studio's Generate flow, the mask painter (drag, coverage,
redraw after a reload) and a comparison grid run from its own Run button.

Each test opens a probe notebook from tests/browser/notebooks/ (copied to a temp root), runs
all cells, acts like a user with the mouse and keyboard, then checks both sides: what the page
shows (DOM, canvas pixels read with getImageData) and what the kernel saw (the notebook writes
it to $IDEOGRAM_NB_BROWSER_OUT). No uncaught page error is allowed.
"""

from __future__ import annotations

import os

import browser_support as bs
import flows
import pytest

pytestmark = pytest.mark.browser


def test_lab_studio_generate_shows_results(browsing, lab_server):
    page, watch = browsing.page, browsing.watch
    browsing.server = lab_server
    bs.open_notebook(page, lab_server.url, "studio_probe.ipynb")
    assert bs.run_all_cells(page) == "done"
    ready = bs.wait_for(lambda: bs.session_reports(lab_server.out, "studio"), 30, "the Studio's ready report")
    pid = ready[0]["pid"]

    prompt = "a paper lantern floating over a night market, ink and watercolour"
    batch = flows.studio_generate(page, prompt, n_images=3)

    results = bs.wait_for(
        lambda: [r for r in bs.session_reports(lab_server.out, "studio", pid) if r["event"] == "result"],
        30, "the kernel's result report",
    )  # fmt: skip
    assert results == [{"pid": pid, "event": "result", "images": 3, "prompt": prompt}]
    bs.screenshot(flows.studio_root(page), "lab-studio-results")
    assert batch.locator(flows.IMAGES).count() == 3
    assert bs.error_outputs(page) == []
    browsing.assert_no_page_errors()
    broken = flows.view_errors(watch)
    assert not broken, f"{len(broken)} Studio widgets could not be shown in JupyterLab: {flows.VIEW_BUG}"


def test_lab_painter_drag_coverage_and_redraw_after_reload(browsing, lab_server):
    page = browsing.page
    browsing.server = lab_server
    out = lab_server.out
    bs.open_notebook(page, lab_server.url, "painter_probe.ipynb")
    assert bs.run_all_cells(page) == "done"
    ready = bs.wait_for(lambda: bs.session_reports(out, "painter"), 30, "the painter's ready report")[0]
    assert ready["size"] == [1024, 1024] and ready["scale"] == 0.5

    canvas = flows.painter_canvas(page.locator(".jp-OutputArea-output"))
    assert canvas.evaluate("(c) => [c.width, c.height]") == [512, 512]
    flows.wait_image_drawn(page, canvas)
    later = [(0.5, 0.15), (0.5, 0.4), (0.5, 0.88)]  # on the stroke painted after the reload only
    points = flows.stroke_points() + list(flows.UNTOUCHED) + later
    before = flows.canvas_state(canvas, points)
    assert before["opaque"] == 512 * 512

    changes = flows.paint_strokes(page, canvas, out, flows.STROKES, 0, ready["pid"])
    coverages = [c["coverage"] for c in changes]
    assert len(coverages) == 3 and 0 < coverages[0] < coverages[1] < coverages[2], coverages
    # each leg is ~60 % of the width (or a diagonal) with a 51 px brush on 1024 px: 3-6 % each
    assert 0.02 < coverages[0] < 0.05 and 0.08 < coverages[2] < 0.16, coverages
    flows.check_stroke_geometry(changes[0], *flows.STROKES[0], ready)
    status = page.locator(".widget-html-content").filter(has_text="Edit area:").first
    shown = f"{coverages[-1] * 100:.1f} %"
    bs.wait_for(lambda: shown in status.inner_text(), 15, f"the painter's status to show {shown}")

    after = flows.canvas_state(canvas, points)
    n = len(flows.stroke_points())
    painted = after["samples"][:n]
    assert all(flows.tinted(a, b, ready["overlay"]) for a, b in zip(painted, before["samples"][:n], strict=True)), (
        painted,
        before,
    )
    assert all(flows.same(a, b) for a, b in zip(after["samples"][n:], before["samples"][n:], strict=True)), (
        "pixels away from the strokes changed"
    )
    bs.screenshot(page.locator(".jp-OutputArea-output").filter(has=page.locator("canvas")).first, "lab-painter")

    # a reload (after saving, so the notebook keeps its widget outputs): the canvas comes back
    # drawn from the kernel's state, image and mask, not blank
    bs.save_notebook(page)
    page.reload()
    page.wait_for_function(bs.KERNEL_IDLE_JS, arg="painter_probe.ipynb", polling=200)
    canvas = flows.painter_canvas(page.locator(".jp-OutputArea-output"))
    flows.wait_image_drawn(page, canvas)
    bs.wait_for(lambda: all(flows.tinted(a, b, ready["overlay"]) for a, b in zip(
        flows.canvas_state(canvas, points)["samples"][:n], before["samples"][:n], strict=True)),
        30, "the painted strokes to be redrawn after the reload")  # fmt: skip
    reloaded = flows.canvas_state(canvas, points)
    assert reloaded["opaque"] == 512 * 512
    assert all(flows.same(a, b, 8) for a, b in zip(reloaded["samples"], after["samples"], strict=True))
    bs.screenshot(
        page.locator(".jp-OutputArea-output").filter(has=page.locator("canvas")).first, "lab-painter-reloaded"
    )

    # drawing still reaches the browser after the reload (the canvas manager re-sent its target)
    more = flows.paint_strokes(page, canvas, out, [((0.5, 0.1), (0.5, 0.9))], 3, ready["pid"])
    assert more[-1]["coverage"] > coverages[-1]
    bs.wait_for(lambda: all(flows.tinted(a, b, ready["overlay"]) for a, b in zip(
        flows.canvas_state(canvas, later)["samples"], before["samples"][-len(later):], strict=True)),
        30, "the stroke painted after the reload to show")  # fmt: skip
    assert bs.error_outputs(page) == []
    browsing.assert_no_page_errors()


def test_lab_comparison_grid_runs_from_its_button(browsing, lab_server):
    page, watch = browsing.page, browsing.watch
    browsing.server = lab_server
    out = lab_server.out
    bs.open_notebook(page, lab_server.url, "compare_probe.ipynb")
    assert bs.run_all_cells(page) == "done"
    ready = bs.wait_for(lambda: bs.session_reports(out, "compare"), 30, "the comparison's ready report")[0]
    assert ready["cells"] == 6

    grid = page.locator(f".{flows.COMPARE_CLASS}").first
    grid.wait_for()
    columns = [t.strip() for t in grid.locator(".ig-cmp-col").all_inner_texts()]
    rows = [t.strip() for t in grid.locator(".ig-cmp-row").all_inner_texts()]
    assert columns == [f"rendering_speed: {s}" for s in ("TURBO", "DEFAULT", "QUALITY")]
    assert rows == [f"style_type: {s}" for s in ("GENERAL", "DESIGN")]
    # the six cells are views too (a corner, 3 column and 2 row headers, 6 cells)
    page.wait_for_function("(g) => g.children.length === 12", arg=grid.element_handle(), polling=200)
    broken = flows.view_errors(watch)
    assert not broken, f"{len(broken)} comparison cells could not be shown: {flows.VIEW_BUG}"

    run = page.locator("button.jupyter-button").filter(has_text=flows.RUN_LABEL).first
    run.click()
    bs.wait_for(lambda: len([r for r in bs.session_reports(out, "compare", ready["pid"])
                             if r["event"] == "cell" and r["state"] == "ok"]) == 6, 60, "six cells done")  # fmt: skip
    # every cell shows its decoded image, and the summary counts them
    flows.wait_decoded(page, grid, 6)
    summary = page.locator(".widget-html-content").filter(has_text="Comparison ").first
    bs.wait_for(lambda: "6 ok" in summary.inner_text(), 15, "the summary to count six cells ok")
    shot = bs.screenshot(grid.locator("xpath=.."), "lab-compare")
    if os.environ.get(flows.DOCS_ENV):
        flows.save_docs_image(shot, "compare.png")

    # swapping axes re-arranges the same cells: headers trade places, nothing runs again
    page.locator("button.jupyter-button").filter(has_text="Swap axes").first.click()
    page.wait_for_function(
        "(g) => { const h = g.querySelector('.ig-cmp-col'); return !!h && h.textContent.includes('style_type'); }",
        arg=grid.element_handle(), polling=200,
    )  # fmt: skip
    assert [t.strip() for t in grid.locator(".ig-cmp-col").all_inner_texts()] == rows
    assert len([r for r in bs.session_reports(out, "compare", ready["pid"]) if r["event"] == "cell"]) == 12
    assert bs.error_outputs(page) == []
    browsing.assert_no_page_errors()
    assert not flows.view_errors(watch), watch.console_errors
