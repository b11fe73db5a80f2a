"""The widgets show a call whose outcome is unknown as money at risk, and never re-send it
behind the user's back: the comparison grid's "Retry failed" leaves it alone unless ticked,
its own cell button says it may pay twice, and the history browser marks it and filters it."""

from __future__ import annotations

import httpx

import ideogram_nb as ig
from ideogram_nb.simulator import SimulatorTransport
from ideogram_nb.widgets._comparison_grid import ComparisonGrid
from ideogram_nb.widgets._history_browser import HistoryBrowser

BASE = ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO")


class LoseFirstAnswer(httpx.BaseTransport):
    """The simulator, but the answer to the first POST is lost after the work was done."""

    def __init__(self) -> None:
        self.sim = SimulatorTransport()
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            request.read()
            self.posts += 1
            if self.posts == 1:
                self.sim.handle_request(request).read()
                raise httpx.ReadTimeout("answer lost", request=request)
        return self.sim.handle_request(request)


def _client(tmp_path, wire):
    return ig.Client(provider="offline", history=ig.History(tmp_path / "h"), concurrency=1, transport=wire,
                     sleep=lambda s: None)  # fmt: skip


def test_grid_marks_an_unknown_cell_and_retry_failed_leaves_it_alone_unless_ticked(tmp_path):
    wire = LoseFirstAnswer()
    cmp = ig.compare(BASE, _client(tmp_path, wire), seed=[1, 2])
    grid = ComparisonGrid(cmp)
    grid.run().result(timeout=60)
    [view] = [v for v in grid.views.values() if v.cell.state == "error"]
    assert view.cell.outcome_unknown
    assert "outcome unknown: possibly billed" in view.caption.value
    assert view.retry_button.description == "re-send (may pay twice)" and view.retry_button.layout.display is None
    assert "billed" in view.retry_button.tooltip and view.layout.border == "2px dashed #b45f06"
    assert wire.posts == 2

    grid.retry_failed_button.click()
    grid.last_future.result(timeout=60)
    assert wire.posts == 2 and view.cell.outcome_unknown  # not re-sent

    grid.resend_unknown_box.value = True
    grid.retry_failed_button.click()
    grid.last_future.result(timeout=60)
    assert wire.posts == 3 and view.cell.state == "ok"
    assert view.retry_button.layout.display == "none" and view.retry_button.description == "retry"


def test_the_cell_button_is_the_deliberate_re_send(tmp_path):
    wire = LoseFirstAnswer()
    cmp = ig.compare(BASE, _client(tmp_path, wire), seed=[1])
    grid = ComparisonGrid(cmp)
    grid.run().result(timeout=60)
    (view,) = grid.views.values()
    grid.run().result(timeout=60)  # "Run" means every cell not done: not this one
    assert wire.posts == 1
    view.retry_button.click()
    grid.last_future.result(timeout=60)
    assert wire.posts == 2 and view.cell.state == "ok"


def test_history_browser_marks_filters_and_totals_unknown_runs(tmp_path):
    wire = LoseFirstAnswer()
    client = _client(tmp_path, wire)
    lost = client.run_many([ig.Generate(prompt="lost answer")], progress=False)[0]
    kept = client.run(ig.Generate(prompt="fine"))
    browser = HistoryBrowser(client.history)
    row = browser.rows[lost.run_id]
    html = row["box"].children[2].value
    assert "outcome unknown: possibly billed" in html and "OutcomeUnknownTimeoutError" in html
    assert row["rerun"].button_style == "warning" and "paid twice" in row["rerun"].tooltip
    assert browser.rows[kept.run_id]["rerun"].button_style == ""
    assert "$0.06 possibly billed" in browser.totals_label.value

    assert "unknown" in [value for _label, value in browser.status_filter.options]
    browser.status_filter.value = "unknown"
    assert [r.run_id for r in browser.records] == [lost.run_id]

    grid = browser.open_images(lost.run_id)
    (result,) = grid.results
    assert isinstance(result.error, ig.OutcomeUnknownTimeoutError)
    assert "billed" in str(result.error) and str(result.error).count(lost.run_id) == 1
