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


STUDIO_CLASS = "ideogram-nb-studio"
RESULTS = ".ideogram-nb-results"
SETTINGS = ".ideogram-nb-settings"
IMAGES = ".ig-image-button img"
#: The viewport the Studio's layout is judged at (TESTING.md: getBoundingClientRect at 1280×900).
LAYOUT_VIEWPORT = {"width": 1280, "height": 900}


def studio_tab(page: Any) -> Any:
    # Notebook 7 and Lab skip drawing cells out of view (windowing mode "contentVisibility"):
    # scroll to the app first, as a user does, or it may never count as visible.
    app = page.locator(f".{STUDIO_CLASS}").first
    app.wait_for(state="attached")
    app.scroll_into_view_if_needed()
    tab = visible(page.locator(f".{STUDIO_CLASS} .widget-tab")).first
    tab.wait_for()
    return tab


def current_tab_title(page: Any) -> str:
    return studio_tab(page).locator(".lm-TabBar-tab.lm-mod-current").first.inner_text().strip()


def open_tab(page: Any, title: str) -> Any:
    """Click the Studio's tab `title`; returns its (visible) panel."""
    tab = studio_tab(page)
    tab.locator(".lm-TabBar-tab").filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")).first.click()
    page.wait_for_function("(t) => { const c = document.querySelector('.ideogram-nb-studio .lm-TabBar-tab.lm-mod-current');"
                           " return c && c.innerText.trim() === t; }", arg=title, polling=100)  # fmt: skip
    return studio_panel(page)


def studio_panel(page: Any) -> Any:
    """The selected tab's panel (settings and results side by side)."""
    return visible(studio_tab(page).locator(".widget-tab-contents > .widget-box")).first


def field(panel: Any, kind: str, label: str) -> Any:
    """A form field by its kind ('textarea', 'dropdown', 'toggle-buttons', 'slider') and label."""
    return visible(panel.locator(f".widget-{kind}:has(label:text-is('{label}'))")).first


def run_button(panel: Any, label: Any = RUN_LABEL) -> Any:
    return visible(panel.locator("button.jupyter-button").filter(has_text=label)).first


def type_prompt(panel: Any, prompt: str) -> None:
    textarea = field(panel, "textarea", "Prompt").locator("textarea")
    textarea.click()
    textarea.fill(prompt)
    textarea.press("Tab")  # blur: the value goes to the kernel (continuous_update=False)


def wait_batch(page: Any, n_images: int, prompt: str) -> Any:
    """Wait until the newest batch is `prompt`'s with `n_images` decoded images; returns it."""
    page.wait_for_function(
        """([sel, imgs, n, prompt]) => {
          const col = Array.from(document.querySelectorAll(sel)).find((c) => c.offsetParent !== null);
          const batch = col && col.querySelector('.widget-vbox');
          if (!batch || !batch.innerText.includes(prompt)) return false;
          const found = Array.from(batch.querySelectorAll(imgs));
          return found.length === n && found.every((i) => i.complete && i.naturalWidth > 0);
        }""",
        arg=[RESULTS, IMAGES, n_images, prompt], polling=200, timeout=90_000,
    )  # fmt: skip
    return visible(page.locator(RESULTS)).first.locator(".widget-vbox").first


def wait_decoded(page: Any, within: Any, n: int, timeout: int = 60_000) -> None:
    """Wait until the element `within` holds exactly `n` result images, every one decoded."""
    page.wait_for_function(
        """([root, imgs, n]) => {
          const found = Array.from(root.querySelectorAll(imgs));
          return found.length === n && found.every((i) => i.complete && i.naturalWidth > 0);
        }""",
        arg=[within.element_handle(), IMAGES, n], polling=200, timeout=timeout,
    )  # fmt: skip


def studio_generate(page: Any, prompt: str, n_images: int) -> Any:
    """In the Studio's Generate tab: type `prompt`, set the number of images with the keyboard,
    click Run; wait until the newest batch shows `n_images` decoded images. Returns the panel."""
    assert current_tab_title(page) == "Generate", "the Studio should open on its Generate tab"
    panel = studio_panel(page)
    type_prompt(panel, prompt)
    slider = field(panel, "slider", "Number of images")
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(n_images - 1):
        handle.press("ArrowRight")
    assert slider.locator(".widget-readout").first.inner_text().strip() == str(n_images)
    # The readout moves at once; the kernel gets the slider's value a moment later (ipywidgets
    # throttles a slider's syncs). The cost line is drawn by the kernel from its spec, so once it
    # prices n images the Run below sends n (a run clicked sooner went out with one fewer).
    noun = "image" if n_images == 1 else "images"
    panel.locator(".widget-html-content").filter(has_text=f"for {n_images} {noun}").first.wait_for()
    run_button(panel).click()
    batch = wait_batch(page, n_images, prompt)
    status = panel.locator(".widget-html-content").filter(has_text="done:").first
    status.wait_for()
    assert f"done: {n_images} item(s)" in status.inner_text()
    return batch


def layout_facts(page: Any) -> dict[str, Any]:
    """Where the settings column, the results column and the newest batch's first image are."""
    return page.evaluate(
        """([settings, results, imgs]) => {
          const shown = (sel) => Array.from(document.querySelectorAll(sel)).find((e) => e.offsetParent !== null);
          const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect();
            return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
          const col = shown(results);
          const first = col && col.querySelector(imgs);
          // what can be seen: the window, cut by every ancestor that clips (Lab's notebook
          // scroller sits under its toolbar, so the window alone would say too much)
          const seen = {left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight};
          for (let e = first && first.parentElement; e; e = e.parentElement) {
            const cs = getComputedStyle(e);
            if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
            const r = e.getBoundingClientRect();
            if (r.width < 1 || r.height < 1) continue;  // no box of its own: lays out, does not clip
            seen.left = Math.max(seen.left, r.left); seen.top = Math.max(seen.top, r.top);
            seen.right = Math.min(seen.right, r.right); seen.bottom = Math.min(seen.bottom, r.bottom);
          }
          return {settings: box(shown(settings)), results: box(col), first: box(first), seen,
                  viewport: {width: window.innerWidth, height: window.innerHeight}};
        }""",
        [SETTINGS, RESULTS, IMAGES],
    )


def assert_side_by_side_and_first_image_in_view(page: Any) -> dict[str, Any]:
    """Settings left of results, and the newest first image wholly inside the viewport (as
    the page is right after Run: no scrolling by the test)."""
    facts = layout_facts(page)
    s, r, img, seen = facts["settings"], facts["results"], facts["first"], facts["seen"]
    assert s and r and img, facts
    assert s["right"] <= r["left"] + 1 and abs(s["top"] - r["top"]) < 40, f"not side by side: {facts}"
    assert img["width"] > 100 and img["height"] > 50, facts
    inside = seen["top"] - 1 <= img["top"] and img["bottom"] <= seen["bottom"] + 1
    inside = inside and seen["left"] - 1 <= img["left"] and img["right"] <= seen["right"] + 1
    assert inside, f"the first image is not wholly in view: {facts}"
    return facts


def stale_error_goes_on_edit(page: Any, prompt: str) -> None:
    """Run with an empty prompt: "Not sent: The prompt is empty."; type a prompt: it goes."""
    panel = studio_panel(page)
    run_button(panel).click()
    message = panel.locator(".widget-html-content").filter(has_text="Not sent: The prompt is empty.").first
    message.wait_for()
    type_prompt(panel, prompt)
    message.wait_for(state="detached")
    assert "Not sent" not in panel.inner_text()


def choose(panel: Any, label: str, option: str) -> None:
    field(panel, "dropdown", label).locator("select").select_option(label=option)


def toggle(panel: Any, label: str, option: str) -> None:
    field(panel, "toggle-buttons", label).locator("button").filter(has_text=re.compile(rf"^\s*{option}\s*$")).click()


def toggled(panel: Any, label: str) -> str:
    return field(panel, "toggle-buttons", label).locator("button.mod-active").first.inner_text().strip()


def select_first_image_and_act(page: Any, action: str) -> None:
    """In the newest batch: Select the first image, then click the action's button."""
    batch = visible(page.locator(RESULTS)).first.locator(".widget-vbox").first
    visible(batch.locator("button.jupyter-button").filter(has_text=re.compile(r"^\s*Select\s*$"))).first.click()
    visible(batch.locator("button.jupyter-button").filter(has_text=re.compile(rf"^\s*{action}\s*$"))).first.click()


def compare_from_generate(page: Any, field_name: str, values: str) -> Any:
    """Compare tab → From Generate → one axis → Run comparison. Returns the panel."""
    panel = open_tab(page, "Compare")
    visible(panel.locator("button.jupyter-button").filter(has_text="From Generate")).first.click()
    axis = visible(panel.locator(".widget-dropdown:has(label:text-is('Axis x')) select")).first
    axis.select_option(label=field_name)
    box = visible(panel.locator(".widget-dropdown:has(label:text-is('Axis x'))")).first.locator(
        "xpath=following-sibling::*[1]").locator("input")  # fmt: skip
    box.fill(values)
    box.press("Tab")
    button = visible(panel.locator("button.jupyter-button").filter(has_text="Run comparison")).first
    page.wait_for_function("(b) => !b.disabled", arg=button.element_handle(), polling=100)
    button.click()
    return panel


def studio_root(page: Any) -> Any:
    """The Studio widget itself (the VBox holding the banner, the key row and the tabs)."""
    return visible(page.locator(f".{STUDIO_CLASS}")).first


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


def tinted(rgba: list[int], before: list[int], overlay: list[int] | tuple[int, ...] = OVERLAY) -> bool:
    """`rgba` is `before` under the translucent overlay colour (what a painted pixel looks like);
    `overlay` is the colour the painter chose to stand out on this image (its kernel reports it)."""
    expected = [b * (1 - OVERLAY_ALPHA) + o * OVERLAY_ALPHA for b, o in zip(before[:3], overlay, strict=True)]
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
