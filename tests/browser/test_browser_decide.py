"""Deciding in a real browser (Voilà, as a user opens notebooks/07_decide.ipynb): the vote
buttons under the pictures are drawn and clickable, a click lands in the kernel's history at
once, and the tally and leaderboard under the grid follow."""

from __future__ import annotations

import browser_support as bs
import flows
import pytest

import ideogram_nb as ig

pytestmark = pytest.mark.browser


def test_voila_vote_buttons_record_in_the_history(browsing, voila_server):
    page, watch = browsing.page, browsing.watch
    browsing.server = voila_server
    page.goto(f"{voila_server.url}/voila/render/user/07_decide.ipynb")
    grid = page.locator(f".{flows.COMPARE_CLASS}").first
    grid.wait_for(timeout=120_000)
    tally = page.locator(".widget-html-content").filter(has_text="Votes").first
    tally.wait_for(timeout=60_000)
    assert "B (a neon sign that says" in tally.inner_text() and "tie 1" in tally.inner_text()
    flows.wait_decoded(page, grid, 6)
    # the notebook voted B on the first pair; the reader changes it to A with the button
    a_button = grid.get_by_role("button", name="A", exact=True).first
    a_button.scroll_into_view_if_needed()
    assert "A is better" in (a_button.get_attribute("title") or "")
    a_button.click()
    history = ig.History(voila_server.home)
    bs.wait_for(
        lambda: [v["choice"] for v in history.votes() if v["pair"] == 0 and v["meta"].get("field") == "prompt"] == ["A"],
        30, "the browser's vote in the history",
    )  # fmt: skip
    bs.wait_for(lambda: "A (a shop sign that says" in tally.inner_text() and ") 1 ·" in tally.inner_text(), 20,
                "the tally to count the new vote")  # fmt: skip
    board = page.locator(".widget-html-content").filter(has_text="Leaderboard").first
    assert "a shop sign" in board.inner_text() and "a neon sign" in board.inner_text()
    bs.screenshot(grid.locator("xpath=.."), "voila-decide-votes")
    browsing.assert_no_page_errors()
    broken = flows.view_errors(watch)
    assert not broken, f"{len(broken)} widgets could not be shown: {flows.VIEW_BUG}"
