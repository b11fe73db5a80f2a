"""Deciding in the grid, headless: vote bars beside their pairs, best picks, the running tally,
the leaderboard view, score captions and sorting, all recorded in the history."""

from __future__ import annotations

import ipywidgets as W

import ideogram_nb as ig
from ideogram_nb._compare._comparison import compare
from ideogram_nb.simulator import SimulatorTransport
from ideogram_nb.widgets._comparison_grid import ComparePanel, ComparisonGrid
from ideogram_nb.widgets._deciding import BestButton, PairVoteBar

BASE = ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO")


def _client(tmp_path):
    return ig.Client(provider="offline", history=ig.History(tmp_path / "h"), concurrency=8,
                     transport=SimulatorTransport())  # fmt: skip


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_ab_vote_buttons_sit_beside_their_pair_and_land_in_the_history(tmp_path):
    client = _client(tmp_path)
    grid = ComparisonGrid(compare(BASE, client, prompt=["a cat on a mat", "a dog on a mat"], seeds=3))
    grid.run().result(timeout=60)
    kids = list(grid.grid.children)
    for bar in grid.vote_bars:  # each bar under its B picture, the A picture right beside it
        b_view, a_view = grid.views[bar.b.index], grid.views[bar.a.index]
        assert bar in b_view.extras.children
        assert kids.index(b_view) == kids.index(a_view) + 1
    grid.vote_bars[0].buttons["B"].click()
    grid.vote_bars[1].note.value = "the dog is crisper"
    grid.vote_bars[1].buttons["B"].click()
    grid.vote_bars[2].buttons["tie"].click()
    assert "A (a cat on a mat) 0 · B (a dog on a mat) 2 · tie 1 · unvoted 0 of 3" in grid.tally.value
    assert (
        grid.vote_bars[0].buttons["B"].button_style == "success" and grid.vote_bars[0].buttons["A"].button_style == ""
    )
    votes = ig.History(tmp_path / "h").votes(grid.comparison.id)  # as a restarted kernel sees them
    assert [v["choice"] for v in votes] == ["B", "B", "tie"] and votes[1]["meta"]["note"] == "the dog is crisper"
    assert votes[0]["a_run_id"] == grid.vote_bars[0].a.result.run_id
    board = client.history.leaderboard("prompt")
    assert board[0]["value"] == "a dog on a mat" and (board[0]["wins"], board[0]["ties"]) == (2, 1)
    assert "a dog on a mat" in grid.leaderboard.html.value and "+" in grid.leaderboard.html.value
    grid.vote_bars[0].buttons["A"].click()  # a changed mind replaces the vote
    assert "A (a cat on a mat) 1 · B (a dog on a mat) 1" in grid.tally.value


def test_vote_bars_follow_a_swap_and_tooltips_are_on_leaves_only(tmp_path):
    grid = ComparisonGrid(compare(BASE, _client(tmp_path), prompt=["a cat on a mat", "a dog"], seeds=2))
    grid.swap_axes()  # the pair now runs down a column: each bar stays under its B picture
    kids = list(grid.grid.children)
    assert len(kids) == 1 + 2 + 2 * (1 + 2)  # corner, headers and cells only: the layout is the grid's
    for bar in grid.vote_bars:
        assert bar in grid.views[bar.b.index].extras.children and grid.views[bar.b.index] in kids
    for w in _walk(grid):
        if isinstance(w, W.Box):
            assert not getattr(w, "tooltip", None), f"a Box with a tooltip is not drawn: {w}"
    assert all(b.tooltip and "recorded in the history" in b.tooltip for bar in grid.vote_bars
               for b in bar.buttons.values())  # fmt: skip


def test_best_of_a_row_from_the_grid_reaches_the_leaderboard(tmp_path):
    client = _client(tmp_path)
    cmp = compare(
        BASE, client, style_type=["AUTO", "DESIGN", "FICTION"], rendering_speed=["TURBO", "DEFAULT", "QUALITY"]
    )
    grid = ComparisonGrid(cmp)
    grid.run().result(timeout=60)
    assert not grid.vote_bars  # no two-valued axis: an X/Y grid, judged by best picks
    pick = next(b for b in grid.views[(1, 0)].extras.children if isinstance(b, BestButton) and b.field == "style_type")
    pick.click()
    assert pick.button_style == "success" and "Best picks</b>: 1" in grid.tally.value
    speed = next(
        b for b in grid.views[(1, 2)].extras.children if isinstance(b, BestButton) and b.field == "rendering_speed"
    )
    speed.click()
    boards = {f: client.history.leaderboard(f) for f in ("style_type", "rendering_speed")}
    assert boards["style_type"][0]["value"] == "DESIGN" and boards["style_type"][0]["wins"] == 2
    assert boards["rendering_speed"][0]["value"] == "QUALITY"
    assert "DESIGN" in grid.leaderboard.html.value and "rendering_speed" in grid.leaderboard.html.value


def test_score_button_shows_metrics_and_sorting_reorders_without_running(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, style_type=["AUTO", "DESIGN", "FICTION"], seed=[1, 2])
    grid = ComparisonGrid(cmp)
    grid.run().result(timeout=60)
    runs = len(client.history)
    grid.score_button.click()  # on a thread: the kernel stays responsive during OCR
    grid.score_future.result(timeout=60)
    assert not grid.score_button.disabled and grid.message.value == ""
    assert all("sharpness" in v.scores_html.value for v in grid.views.values())
    assert client.history.scores(cmp.cells[0].result.run_id)[0]["sharpness"] is not None
    grid.sort_select.value = "sharpness"
    means = []
    for i in range(3):
        cells = [grid.cell_at(i, j) for j in range(2)]
        means.append(sum(grid.cell_scores[c.index][0]["sharpness"] for c in cells) / 2)
    assert means == sorted(means, reverse=True)
    labels = [lab.replace("<b>", "").replace("</b>", "") for lab in grid.column_labels]
    order = sorted(range(3), key=lambda i: -sum(grid.cell_scores[(i, j)][0]["sharpness"] for j in range(2)))
    assert labels == [f"style_type: {cmp.axes[0].labels[i]}" for i in order]
    assert grid.sort_select.label == "sharpness"
    grid.sort_select.value = ""  # "grid order"
    assert grid.column_labels == ["<b>style_type: AUTO</b>", "<b>style_type: DESIGN</b>", "<b>style_type: FICTION</b>"]
    assert len(client.history) == runs


def test_compare_panel_grid_has_the_vote_controls(tmp_path):
    panel = ComparePanel(ig.Generate(prompt="a fox", rendering_speed="TURBO"), client=_client(tmp_path))
    panel.field_boxes[0].value = "prompt"
    panel.value_boxes[0].value = "a fox, a wolf"
    grid = panel.run()
    grid.last_future.result(timeout=60)
    assert isinstance(grid.vote_bars[0], PairVoteBar)
    grid.vote_bars[0].buttons["A"].click()
    assert panel.client.history.leaderboard("prompt")[0]["value"] == "a fox"
    assert "a fox" in grid.leaderboard.html.value
