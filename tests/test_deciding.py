"""Votes, best picks, the leaderboard, stored scores, exports and the HTML report (core)."""

from __future__ import annotations

import html
import json
import re

import pytest

import ideogram_nb as ig
from ideogram_nb._history._leaderboard import comparisons, leaderboard
from ideogram_nb.simulator import SimulatorTransport


def _vote(a, b, choice, field="prompt"):
    return {"choice": choice, "meta": {"field": field, "a": a, "b": b}}


def _client(tmp_path):
    return ig.Client(provider="offline", history=ig.History(tmp_path / "h"), transport=SimulatorTransport())


def test_leaderboard_orders_values_from_constructed_votes():
    votes = (
        [_vote("fox", "cat", "A")] * 6 + [_vote("fox", "cat", "B")] * 2 + [_vote("cat", "owl", "A")] * 6
        + [_vote("cat", "owl", "B")] * 2 + [_vote("fox", "owl", "A")] * 5 + [_vote("x", "y", "A", field="style")]
    )  # fmt: skip
    rows = leaderboard(votes, "prompt")
    assert [r["value"] for r in rows] == ["fox", "cat", "owl"]
    assert [(r["wins"], r["losses"], r["ties"]) for r in rows] == [(11, 2, 0), (8, 8, 0), (2, 11, 0)]
    for r in rows:
        assert r["ci_low"] < r["strength"] < r["ci_high"]
    assert sum(r["strength"] for r in rows) == pytest.approx(0, abs=1e-6)  # centred: relative strengths
    assert leaderboard(votes, "aspect_ratio") == []


def test_fewer_votes_give_wider_intervals_and_many_settle_the_order():
    few = leaderboard([_vote("a", "b", "A")] * 3 + [_vote("a", "b", "B")], "prompt")
    many = leaderboard(([_vote("a", "b", "A")] * 3 + [_vote("a", "b", "B")]) * 10, "prompt")
    widths = {r["value"]: r["ci_high"] - r["ci_low"] for r in few}
    assert all(widths[r["value"]] > 2 * (r["ci_high"] - r["ci_low"]) for r in many)
    assert not few[0]["ahead_of_next"] and many[0]["ahead_of_next"]
    # 3 : 1 in favour of a: strength gap ln 3 (the weak prior pulls it in only a little)
    assert many[0]["strength"] - many[1]["strength"] == pytest.approx(1.0986, abs=0.05)


def test_ties_count_half_a_win_each():
    assert comparisons([_vote("a", "b", "tie")], "prompt") == [("a", "b", 0.5)]
    rows = leaderboard([_vote("a", "b", "tie")] * 4, "prompt")
    assert rows[0]["strength"] == pytest.approx(0, abs=1e-6) == rows[1]["strength"]
    assert [r["ties"] for r in rows] == [4, 4]
    mixed = leaderboard([_vote("a", "b", "A"), _vote("a", "b", "tie")], "prompt")
    assert mixed[0]["value"] == "a" and (mixed[0]["wins"], mixed[0]["ties"]) == (1, 1)


def test_best_pick_is_a_win_over_each_other_value_of_its_line():
    pick = {"choice": "A", "meta": {"kind": "best", "field": "style_type", "winner": "B", "values": ["A", "B", "C"]}}
    assert comparisons([pick], "style_type") == [("B", "A", 1.0), ("B", "C", 1.0)]


def test_votes_from_grids_survive_a_restart_and_reach_the_leaderboard(tmp_path):
    client = _client(tmp_path)
    ab = ig.compare(ig.Generate(prompt="a red fox", rendering_speed="TURBO"), client,
                    prompt=["a red fox", "a red fox in snow"], seeds=2).run(progress=False)  # fmt: skip
    ab.vote(0, "B", note="snow reads better")
    ab.vote(1, "B")
    grid = ig.compare(ig.Generate(prompt="a red fox", rendering_speed="TURBO"), client,
                      style_type=["AUTO", "DESIGN", "FICTION"], seed=[1, 2]).run(progress=False)  # fmt: skip
    winner = grid.cell("DESIGN", 2)
    recorded = grid.vote_best(winner, "style_type")
    assert recorded["meta"]["run_ids"] == [c.result.run_id for c in grid.cells if c.index[1] == 1]
    assert recorded["a_run_id"] == winner.result.run_id and recorded["meta"]["line"] == "seed: 2"
    grid.vote_best(grid.cell("FICTION", 2), "style_type")  # changes the pick on that line
    client.close()

    again = ig.History(tmp_path / "h")  # a new kernel on the same folder
    assert [r["value"] for r in again.leaderboard("prompt")] == ["a red fox in snow", "a red fox"]
    style = again.leaderboard("style_type")
    assert style[0]["value"] == "FICTION" and style[0]["wins"] == 2
    assert {r["value"]: r["losses"] for r in style} == {"FICTION": 0, "AUTO": 1, "DESIGN": 1}
    notes = [v["meta"].get("note") for v in again.votes(ab.id)]
    assert "snow reads better" in notes
    with pytest.raises(KeyError, match="'aspect_ratio' is not an axis"):
        grid.vote_best(winner, "aspect_ratio")


def test_scores_are_stored_beside_the_run_and_travel_with_exports(tmp_path):
    client = _client(tmp_path)
    spec = ig.Generate(prompt="a poster", rendering_speed="TURBO", num_images=2, color_palette=["#112233"])
    cmp = ig.compare(spec, client, style_type=["AUTO", "DESIGN"]).run(progress=False, score=True)
    rows = cmp.scores()
    assert len(rows) == 4 and {r["style_type"] for r in rows} == {"AUTO", "DESIGN"}
    for r in rows:
        assert r["text_accuracy"] is None and r["edit_locality"] is None  # no quoted text, not an edit
        assert (
            r["palette_delta_e"] < 5 and 0 < r["sharpness"] <= 1
        )  # the simulator paints the palette and r["near_duplicate"] in (0.0, 1.0)
    run_id = rows[0]["run_id"]
    stored = ig.History(tmp_path / "h").scores(run_id)
    assert stored[0]["sharpness"] == rows[0]["sharpness"] and stored[0]["text_accuracy"] is None
    cmp.vote(0, "A")
    line = {
        json.loads(x)["run_id"]: json.loads(x)
        for x in client.history.to_jsonl(tmp_path / "r.jsonl").read_text().splitlines()
    }
    assert line[run_id]["scores"] == stored and line[run_id]["votes"][0]["choice"] == "A"
    nb = client.history.export_notebook(tmp_path / "r.ipynb").read_text()
    assert "A/B vote on style\\\\_type" in nb and "scores of image 1: " in nb
    with pytest.raises(KeyError, match="no run 'nope'"):
        client.history.record_scores("nope", [{"sharpness": 0.5}])
    with pytest.raises(ValueError, match="score 'sharpness' of run .* finite number or None"):
        client.history.record_scores(run_id, [{"sharpness": float("nan")}])


def test_html_reports_are_self_contained(tmp_path):
    client = _client(tmp_path)
    cmp = ig.compare(ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO"), client,
                     prompt=["a cat on a mat", "a dog on a mat"], seeds=2).run(progress=False)  # fmt: skip
    cmp.vote(0, "B", note="the dog")
    page = cmp.to_html(tmp_path / "cmp.html").read_text(encoding="utf-8")
    assert len(re.findall(r"src='data:image/jpeg;base64,", page)) == 4
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page) and "<script" not in page
    assert "<mark>dog</mark>" in page and "the dog" in page and "Leaderboard" in page
    code = html.unescape(page.split("How to reproduce</h2><pre>")[1].split("</pre>")[0])
    assert 'comparison = ig.compare(base, prompt=["a cat on a mat", "a dog on a mat"], seed=[' in code
    scope: dict = {}
    exec(code.replace("comparison.run()", ""), scope)  # the same cells, planned (not run)
    assert [c.spec.to_dict() for c in scope["comparison"].cells] == [c.spec.to_dict() for c in cmp.cells]
    assert "sharpness" in page
    with pytest.raises(FileExistsError):
        cmp.to_html(tmp_path / "cmp.html")
    hist = client.history.to_html(tmp_path / "all.html", text="dog").read_text(encoding="utf-8")
    assert len(re.findall(r"src='data:image/jpeg;base64,", hist)) == 2
    assert "ig.Generate(" in hist and "the dog" in hist and "a dog on a mat" in hist


def test_cells_are_scored_in_the_background_as_they_finish(tmp_path):
    client = _client(tmp_path)
    cmp = ig.compare(ig.Generate(prompt='a sign that says "OPEN LATE"', rendering_speed="TURBO"), client,
                     seed=[1, 2, 3])  # fmt: skip
    cmp.start(score=True).result(timeout=60)
    rows = cmp.scores(compute=False)  # only what the background scoring stored (it is waited for)
    assert len(rows) == 3 and all(r["sharpness"] is not None for r in rows)
    assert all(r["text_accuracy"] is not None for r in rows)  # OCR ran once no cell was running
    assert not cmp._listeners  # the scoring listener is gone once the run is over


def test_best_pick_on_a_search_replace_axis_records_the_whole_prompt(tmp_path):
    client = _client(tmp_path)
    cmp = ig.compare(ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO"), client,
                     prompt=ig.PromptSR("a cat", ["a dog", "a fox"]), seed=[1, 2]).run(progress=False)  # fmt: skip
    vote = cmp.vote_best(cmp.cell("a fox", 1), "prompt")
    assert vote["meta"]["values"] == ["a cat on a mat", "a dog on a mat", "a fox on a mat"]
    assert vote["meta"]["winner"] == "a fox on a mat"  # the same text an A/B vote on prompts records
    assert cmp.judging.best_of(cmp.cell("a cat", 1), "prompt") is cmp.cell("a fox", 1)
    assert cmp.judging.best_of(cmp.cell("a cat", 2), "prompt") is None
    assert client.history.leaderboard("prompt")[0]["value"] == "a fox on a mat"
