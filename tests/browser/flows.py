"""The user flows the browser tests share between JupyterLab, Voilà and Notebook 7: the Studio's
Generate tab (prompt, number of images, Run, results) and the mask painter (drag, coverage,
what the canvas shows, redraw after a reload). `root` is a locator of the page region that holds
the widget (a notebook's output area, or Voilà's body)."""

from __future__ import annotations

import re
from typing import Any

import browser_support as bs

#: Stroke legs as (start, end) fractions of the canvas box: a "Z" of three separate drags.
STROKES = (((0.2, 0.25), (0.8, 0.25)), ((0.8, 0.3), (0.2, 0.7)), ((0.2, 0.75), (0.8, 0.75)))
#: Where no stroke ever passes (fractions of the canvas box).
UNTOUCHED = ((0.05, 0.5), (0.95, 0.5), (0.5, 0.05), (0.5, 0.95))
OVERLAY = (255, 0, 80)
OVERLAY_ALPHA = 0.45
RUN_LABEL = re.compile(r"^\s*Run\s*$")
VIEW_ERROR = "Could not create a view for model id"
COMPARE_CLASS = "ideogram-nb-compare"  # ComparisonGrid's grid box
DOCS_IMAGES = bs.REPO / "docs" / "images"
DOCS_MAX_BYTES = 300_000
#: Set to refresh the README's screenshots (docs/images/studio.png, compare.png) from a run.
DOCS_ENV = "IDEOGRAM_NB_DOCS_IMAGES"
VIEW_BUG = (
    "ipywidgets 8.1's DOMWidgetView.updateTooltip reads `model.get('description').length`; a Box "
    "has no description, so a VBox/HBox given a tooltip never renders ('Could not create a view', "
    "jupyter-widgets/ipywidgets#3860). Do not set `tooltip` on Box subclasses (ImageField, "
    "ImageListField, PainterMaskField, OptionalSlider, the comparison grid's CellView)."
)


# --- the Studio --------------------------------------------------------------------------------
def visible(locator: Any) -> Any:
    return locator.filter(visible=True)


def studio_generate(page: Any, prompt: str, n_images: int) -> Any:
    """In the Studio's Generate tab: type `prompt`, set the number of images with the keyboard,
    click Run; wait until the grid shows `n_images` decoded images. Returns the tab's panel."""
    tab = visible(page.locator(".widget-tab")).first
    tab.wait_for()
    current = tab.locator(".lm-TabBar-tab.lm-mod-current")
    assert current.inner_text().strip() == "Generate", "the Studio should open on its Generate tab"
    panel = visible(tab.locator(".widget-tab-contents > .widget-vbox")).first
    textarea = visible(panel.locator(".widget-textarea:has(label:text-is('Prompt')) textarea")).first
    textarea.click()
    textarea.fill(prompt)
    handle = panel.locator(".widget-slider:has(label:text-is('Number of images')) .noUi-handle").first
    handle.focus()
    readout = panel.locator(".widget-slider:has(label:text-is('Number of images')) .widget-readout").first
    for _ in range(n_images - 1):
        handle.press("ArrowRight")
    assert readout.inner_text().strip() == str(n_images)
    run = visible(panel.locator("button.jupyter-button").filter(has_text=RUN_LABEL)).first
    run.click()  # the click blurs the textarea first, so its value reaches the kernel before the click
    images = panel.locator(".widget-gridbox img.widget-image")
    page.wait_for_function(
        """([panel, n]) => {
          const imgs = Array.from(panel.querySelectorAll('.widget-gridbox img.widget-image'));
          return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0);
        }""",
        arg=[panel.element_handle(), n_images], polling=200, timeout=90_000,
    )  # fmt: skip
    assert images.count() == n_images
    header = panel.locator(".widget-vbox .widget-html-content b").filter(has_text=re.compile(r"\d+ images?$"))
    assert header.first.inner_text().strip() == f"{n_images} image{'s' if n_images != 1 else ''}"
    status = panel.locator(".widget-html-content").filter(has_text="done:").first
    status.wait_for()
    assert f"done: {n_images} item(s)" in status.inner_text()
    return panel


def studio_root(page: Any) -> Any:
    """The Studio widget itself (the VBox holding the banner, the key row and the tabs)."""
    return visible(page.locator(".widget-tab")).first.locator("xpath=..")


def view_errors(watch: bs.PageWatch) -> list[str]:
    return [m for m in watch.console_errors if VIEW_ERROR in m]


def save_docs_image(screenshot: Any, name: str) -> Any:
    """Copy a screenshot to docs/images/`name` for the README, made smaller (fewer colours,
    then a smaller scale) until it is under 300 KB."""
    from PIL import Image

    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    target = DOCS_IMAGES / name
    img = Image.open(screenshot).convert("RGB")
    scale = 1.0
    while True:
        size = (round(img.width * scale), round(img.height * scale))
        small = img.resize(size, Image.Resampling.LANCZOS) if scale < 1 else img
        small.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            target, optimize=True)  # fmt: skip
        if target.stat().st_size < DOCS_MAX_BYTES or scale < 0.3:
            return target
        scale *= 0.85


# --- the painter -------------------------------------------------------------------------------
def painter_canvas(root: Any) -> Any:
    canvas = visible(root.locator("canvas")).first
    canvas.wait_for()
    return canvas


def canvas_state(canvas: Any, points: list[tuple[float, float]]) -> dict[str, Any]:
    """What the painter's canvas shows: size, opaque pixel count and the RGBA at `points`."""
    return bs.canvas_pixels(canvas, points)


def wait_image_drawn(page: Any, canvas: Any, timeout_ms: int = 60_000) -> None:
    """Wait until every pixel of the canvas is opaque: the image layer is drawn (a canvas whose
    drawing was lost stays fully transparent)."""
    page.wait_for_function(bs.CANVAS_OPAQUE_JS, arg=canvas.element_handle(), polling=200, timeout=timeout_ms)


def stroke_points(strokes: Any = STROKES) -> list[tuple[float, float]]:
    """Sample points on the strokes' centre lines (away from their ends)."""
    points = []
    for (x0, y0), (x1, y1) in strokes:
        for t in (0.3, 0.5, 0.7):
            points.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    return points


def tinted(rgba: list[int], before: list[int]) -> bool:
    """`rgba` is `before` under the translucent overlay colour (what a painted pixel looks like)."""
    expected = [b * (1 - OVERLAY_ALPHA) + o * OVERLAY_ALPHA for b, o in zip(before[:3], OVERLAY, strict=True)]
    return rgba[3] == 255 and all(abs(a - e) <= 8 for a, e in zip(rgba[:3], expected, strict=True))


def same(a: list[int], b: list[int], tol: int = 3) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def paint_strokes(page: Any, canvas: Any, out: Any, strokes: Any, start_count: int, pid: int) -> list[dict]:
    """Drag each stroke over the canvas; after each, wait for the kernel's on_change report.
    Returns the kernel's change reports for these strokes."""
    changes: list[dict] = []
    for i, (start, end) in enumerate(strokes, 1):
        bs.drag(page, canvas, start, end)
        changes = bs.wait_for(
            lambda n=start_count + i: (
                (c := [r for r in bs.session_reports(out, "painter", pid) if r["event"] == "change"])
                and len(c) >= n
                and c
            ),
            30,
            f"the kernel's report of stroke {i}",
        )
    return changes[start_count:]


def check_stroke_geometry(change: dict, start: tuple[float, float], end: tuple[float, float], ready: dict) -> None:
    """The painted region is where the mouse went: the mask's bounding box (source pixels) is the
    drag's extent widened by the brush radius, within a few pixels."""
    w, h = ready["size"]
    r = ready["brush_radius"]
    xs = sorted((start[0] * w, end[0] * w))
    ys = sorted((start[1] * h, end[1] * h))
    expected = [xs[0] - r, ys[0] - r, xs[1] + r, ys[1] + r]
    tol = 6 / ready["scale"]  # a few display pixels
    assert change["bbox"] is not None
    assert all(abs(a - e) <= tol for a, e in zip(change["bbox"], expected, strict=True)), (change["bbox"], expected)
