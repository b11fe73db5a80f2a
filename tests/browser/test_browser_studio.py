"""The Studio as a user meets it, in JupyterLab, Voilà (the user notebook, as on Binder) and a
Notebook 7 smoke test, at 1280×900 (layout judged with getBoundingClientRect):

settings left and results right, the first new image in view right after Run; a "Not sent"
message that goes as soon as the prompt is typed; settings carried into Remix; Describe's
"Use as prompt" filling Generate; a comparison run counted in the session cost and shown in
History without pressing Refresh. What the kernel did is read back from its history.
"""

from __future__ import annotations

import os
import re

import browser_support as bs
import flows
import pytest

import ideogram_nb as ig

pytestmark = pytest.mark.browser

NOTEBOOK7_STARTUP_ERROR = re.compile(
    r"^TypeError: Cannot read properties of undefined \(reading 'schema'\)[\s\S]*?/static/notebook/notebook_core\."
)
PROMPT = "a lighthouse on a cliff at dusk"
COMPARE_PROMPT = "a paper kite over sand dunes"


def _records(server: bs.Server) -> list[dict]:
    return ig.History(server.home).to_records()


def _cost_shown(page) -> str:
    text = flows.studio_root(page).locator(".widget-html-content").filter(has_text="Session cost").first.inner_text()
    found = re.search(r"Session cost: \$(\d+\.\d\d)", text)
    assert found, text
    return found.group(1)


def docs_shot(page, name: str, what: str, docs_name: str) -> None:
    """A screenshot of the page as the user sees it (the Studio's tabs at the top), kept in
    artifacts/; from Lab (1280 px) it also refreshes the README's image when asked."""
    flows.studio_tab(page).evaluate("(e) => e.scrollIntoView({block: 'start'})")
    shot = bs.screenshot(page, f"{name}-studio-{what}")
    if name == "lab" and os.environ.get(flows.DOCS_ENV):
        flows.save_docs_image(shot, docs_name)


def studio_user_flows(page, server: bs.Server, name: str) -> None:
    """Every flow, in the order a user would try them, in one page (one kernel)."""
    # a stale "Not sent" goes as soon as the input changes
    assert flows.current_tab_title(page) == "Generate"
    flows.stale_error_goes_on_edit(page, PROMPT)

    # settings chosen in Generate, Run: the newest batch is on the right, its first image in view
    panel = flows.studio_panel(page)
    flows.choose(panel, "Aspect ratio", "16x9")
    flows.toggle(panel, "Rendering speed", "TURBO")
    flows.run_button(panel).click()
    flows.wait_batch(page, 1, PROMPT)
    facts = flows.assert_side_by_side_and_first_image_in_view(page)
    docs_shot(page, name, "after-run", "studio.png")
    assert facts["first"]["width"] > facts["first"]["height"]  # a 16x9 image, shown as one
    records = bs.wait_for(lambda: [r for r in _records(server) if r["status"] == "ok"], 30, "the run")
    assert [(r["spec"]["prompt"], r["spec"]["aspect_ratio"], r["spec"]["rendering_speed"]) for r in records] == [
        (PROMPT, "16x9", "TURBO")
    ]

    # Remix starts from the source's settings
    flows.select_first_image_and_act(page, "Remix")
    page.wait_for_function(
        "() => { const c = document.querySelector('.ideogram-nb-studio .lm-TabBar-tab.lm-mod-current');"
        " return c && c.innerText.trim() === 'Remix'; }", polling=100,
    )  # fmt: skip
    remix = flows.studio_panel(page)
    assert flows.field(remix, "dropdown", "Aspect ratio").locator("select").input_value() != ""
    shown_ratio = flows.field(remix, "dropdown", "Aspect ratio").locator("select option:checked").inner_text()
    assert shown_ratio.strip() == "16x9"
    assert flows.toggled(remix, "Rendering speed") == "TURBO"
    assert flows.field(remix, "textarea", "Prompt").locator("textarea").input_value() == PROMPT
    docs_shot(page, name, "remix-carried", "studio-remix.png")

    # Describe the result, then "Use as prompt" fills Generate's prompt and opens it
    describe = flows.open_tab(page, "Describe")
    earlier = flows.visible(describe.locator("select").filter(has_text="use an earlier result")).first
    earlier.select_option(index=1)
    flows.run_button(describe).click()
    use = flows.visible(page.locator(flows.RESULTS)).first.locator("button.jupyter-button").filter(
        has_text="Use as prompt").first  # fmt: skip
    use.wait_for(timeout=60_000)
    text = use.locator("xpath=ancestor::*[contains(@class,'widget-vbox')][1]").inner_text()
    use.click()
    page.wait_for_function(
        "() => { const c = document.querySelector('.ideogram-nb-studio .lm-TabBar-tab.lm-mod-current');"
        " return c && c.innerText.trim() === 'Generate'; }", polling=100,
    )  # fmt: skip
    described = [r for r in _records(server) if r["endpoint"] == "describe"]
    assert len(described) == 1 and described[0]["descriptions"], described
    description = described[0]["descriptions"][0]
    assert description in text
    generate = flows.studio_panel(page)
    bs.wait_for(
        lambda: flows.field(generate, "textarea", "Prompt").locator("textarea").input_value() == description,
        30, "Generate's prompt to be the description",
    )  # fmt: skip

    # a comparison from Generate's settings: each call lands in the session cost and History
    flows.type_prompt(flows.studio_panel(page), COMPARE_PROMPT)
    flows.compare_from_generate(page, "rendering_speed", "TURBO, QUALITY")
    done = bs.wait_for(
        lambda: (c := [r for r in _records(server) if r["spec"].get("prompt") == COMPARE_PROMPT and r["status"] == "ok"])
        and len(c) == 2 and c,
        60, "the comparison's two runs",
    )  # fmt: skip
    assert sorted(r["spec"]["rendering_speed"] for r in done) == ["QUALITY", "TURBO"]
    total = sum(r["cost_usd"] for r in _records(server))
    bs.wait_for(lambda: _cost_shown(page) == f"{total:.2f}", 30, f"the session cost to show ${total:.2f}")
    history = flows.open_tab(page, "History")
    bs.wait_for(lambda: history.inner_text().count(COMPARE_PROMPT) >= 2, 30, "History to list the comparison")
    bs.screenshot(page, f"{name}-studio-history")


def test_lab_studio_flows(browsing, lab_server):
    page = browsing.page
    browsing.server = lab_server
    page.set_viewport_size(flows.LAYOUT_VIEWPORT)
    bs.open_notebook(page, lab_server.url, "studio_probe.ipynb")
    assert bs.run_all_cells(page) == "done"
    if os.environ.get(flows.DOCS_ENV):  # the README shows the notebook, not the file browser
        page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    flows.studio_tab(page)
    studio_user_flows(page, lab_server, "lab")
    assert bs.error_outputs(page) == []
    browsing.assert_no_page_errors()
    assert not flows.view_errors(browsing.watch), flows.VIEW_BUG


def test_voila_studio_flows_and_no_developer_text(browsing, voila_server):
    page = browsing.page
    browsing.server = voila_server
    page.set_viewport_size(flows.LAYOUT_VIEWPORT)
    page.goto(f"{voila_server.url}/voila/render/user/studio.ipynb")
    flows.studio_tab(page).wait_for(timeout=90_000)
    body = page.locator("body").inner_text()
    # the banner is the one notice; no code, no Python reprs, no second offline line
    assert body.count("Offline simulator — images are synthetic") == 1  # the banner, once
    assert "no API key found" not in body and "studio.forms" not in body and "Studio(" not in body
    studio_user_flows(page, voila_server, "voila")
    browsing.assert_no_page_errors()
    assert not flows.view_errors(browsing.watch), flows.VIEW_BUG


def test_notebook7_studio_smoke(browsing, notebook_server):
    page = browsing.page
    browsing.server = notebook_server
    page.set_viewport_size(flows.LAYOUT_VIEWPORT)
    bs.open_notebook(page, notebook_server.url, "user/studio.ipynb", lab=False)
    assert bs.run_all_cells(page) == "done"
    # the notebook's text and code come first: the user scrolls to the app, then works in it
    flows.studio_tab(page).evaluate("(e) => e.scrollIntoView({block: 'start'})")
    flows.type_prompt(flows.studio_panel(page), PROMPT)
    flows.run_button(flows.studio_panel(page)).click()
    flows.wait_batch(page, 1, PROMPT)
    flows.assert_side_by_side_and_first_image_in_view(page)
    bs.screenshot(page, "notebook7-studio-after-run")
    assert bs.error_outputs(page) == []
    browsing.assert_no_page_errors(known=(NOTEBOOK7_STARTUP_ERROR,))
    assert not flows.view_errors(browsing.watch), flows.VIEW_BUG
