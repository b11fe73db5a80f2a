"""The HTML reports in a real browser (Debian chromium), opened from disk with every outside
request blocked: every image decodes (naturalWidth > 0), nothing asks the network, no page
error. This is what "send the file to a colleague, it opens offline" means."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import browser_support as bs
import pytest

import ideogram_nb as ig
from ideogram_nb.simulator import SimulatorTransport

pytestmark = pytest.mark.browser

IMAGES_JS = """() => Array.from(document.images).map(i => ({w: i.naturalWidth, done: i.complete}))"""


def _open_offline(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    context = browser.new_context(viewport=bs.VIEWPORT, offline=True)
    page = context.new_page()
    asked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            asked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, asked, errors


def test_comparison_and_history_reports_open_offline_with_every_image(browser: Any, tmp_path: Path) -> None:
    client = ig.Client(provider="offline", history=ig.History(tmp_path / "h"), transport=SimulatorTransport())
    cmp = ig.compare(ig.Generate(prompt='a sign that says "OPEN"', rendering_speed="TURBO"), client,
                     prompt=['a sign that says "OPEN"', 'a sign that says "CLOSED"'], seeds=2)  # fmt: skip
    cmp.run(progress=False)
    cmp.vote(0, "A", note="crisper")
    reports = [cmp.to_html(tmp_path / "compare.html"), client.history.to_html(tmp_path / "history.html")]
    for path in reports:
        page, asked, errors = _open_offline(browser, path)
        try:
            images = page.evaluate(IMAGES_JS)
            assert len(images) == 4, f"{path.name}: {images}"
            assert all(i["done"] and i["w"] > 0 for i in images), f"{path.name}: an image did not decode: {images}"
            assert asked == [], f"{path.name} asked the network for {asked}"
            assert errors == []
            text = page.inner_text("body")
            assert "crisper" in text and "ig.Generate(" in text
        finally:
            page.context.close()
