"""compare(): planning, validation, budget, seeds, running, retry, records, sheets, A/B votes."""

from __future__ import annotations

import json
import threading

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import Comparison, ComparisonError, compare
from ideogram_nb._compare._axes import PromptSR
from ideogram_nb._compare._contact_sheet import read_png_text
from ideogram_nb._compare._rendering import COMPARE_CHUNK
from ideogram_nb.simulator import Faults, SimulatorTransport


def _client(tmp_path, **transport):
    history = ig.History(tmp_path / "history")
    return ig.Client(
        provider="offline", history=history, concurrency=8, max_retries=transport.pop("max_retries", 3),
        transport=SimulatorTransport(**transport),
    )  # fmt: skip


BASE = ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO")


# --- planning -------------------------------------------------------------------------------
def test_plan_knows_calls_images_and_cost_before_running(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, prompt=PromptSR("a cat", ["a dog", "a fox"]), num_images="1-2")
    assert cmp.shape == (3, 2)
    assert cmp.n_calls == 6 and cmp.n_images == 9
    assert cmp.estimate_cost() == pytest.approx(9 * 0.03)
    assert [c.spec.prompt for c in cmp.cells[:3]] == ["a cat on a mat", "a dog on a mat", "a fox on a mat"]
    assert [c.spec.num_images for c in cmp.cells] == [1, 1, 1, 2, 2, 2]  # x varies fastest
    assert all(c.state == "planned" for c in cmp.cells)
    assert len(client.history) == 0


def test_three_axes_in_keyword_order_and_at_most_three():
    cmp = compare(BASE, prompt=["a", "b"], rendering_speed="TURBO, QUALITY", aspect_ratio=["1x1", "16x9", "9x16"])
    assert [a.field for a in cmp.axes] == ["prompt", "rendering_speed", "aspect_ratio"]
    assert cmp.cell("b", "QUALITY", "9x16").spec.aspect_ratio == "9x16"
    with pytest.raises(ValueError, match="at most three"):
        compare(BASE, prompt=["a"], num_images=[1], aspect_ratio=["1x1"], style_type=["AUTO"])
    with pytest.raises(ValueError, match="at least one axis"):
        compare(BASE)


def test_every_problem_of_every_cell_is_reported_at_once(tmp_path):
    client = _client(tmp_path)
    base = ig.Generate(prompt="a cat", aspect_ratio="16x9")
    with pytest.raises(ComparisonError) as info:
        compare(base, client, num_images=[1, 9], resolution=[None, "1024x1024"])
    err = info.value
    assert isinstance(err, ig.SpecError)
    assert sorted(err.cells) == [
        "num_images: 1, resolution: 1024x1024",
        "num_images: 9, resolution: 1024x1024",
        "num_images: 9, resolution: none",
    ]
    assert set(err.fields) == {"num_images", "resolution"}
    assert "3 of 4 cells" in str(err) and "nothing was run" in str(err)
    assert len(client.history) == 0


def test_a_problem_shared_by_all_cells_is_said_once():
    with pytest.raises(ComparisonError) as info:
        compare(ig.Generate(prompt=""), rendering_speed=["TURBO", "QUALITY"])
    text = str(info.value)
    assert "every cell" in text and text.count("prompt=''") == 1


def test_unknown_fields_and_bad_values_name_their_axis():
    with pytest.raises(ig.SpecError) as info:
        compare(BASE, steps=[1, 2], num_images="many")
    assert sorted(info.value.fields) == ["num_images", "steps"]


def test_budget_refuses_before_anything_runs(tmp_path):
    client = _client(tmp_path)
    with pytest.raises(ig.BudgetError) as info:
        compare(BASE, client, budget_usd=0.10, rendering_speed=["TURBO", "QUALITY"], seeds=2)
    assert "$0.24" in str(info.value) and "$0.10" in str(info.value)
    assert len(client.history) == 0
    cmp = compare(BASE, client, budget_usd=0.24, rendering_speed=["TURBO", "QUALITY"], seeds=2)
    cmp.budget_usd = 0.2
    with pytest.raises(ig.BudgetError):
        cmp.run(progress=False)
    assert len(client.history) == 0


# --- seeds ----------------------------------------------------------------------------------
def test_one_concrete_seed_is_shared_when_the_spec_has_none(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a cat", "a dog"], num_images=[1, 2]).run(progress=False)
    assert isinstance(cmp.seed, int)
    assert {c.spec.seed for c in cmp.cells} == {cmp.seed}
    assert cmp.seeds == [cmp.seed]
    assert all(r["seeds"] and set(r["seeds"]) == {cmp.seed} for r in cmp.to_records())


def test_the_spec_seed_is_kept_and_a_seed_axis_overrides_it():
    assert compare(BASE.copy(seed=7), prompt=["a", "b"]).seed == 7
    cmp = compare(BASE.copy(seed=7), prompt=["a", "b"], seed=[1, 2, 3])
    assert cmp.seed is None
    assert [c.spec.seed for c in cmp.cells] == [1, 1, 2, 2, 3, 3]
    assert cmp.seeds == [1, 2, 3]


def test_seeds_n_draws_concrete_seeds_and_minus_one_means_draw():
    cmp = compare(BASE.copy(seed=7), prompt=["a", "b"], seeds=3)
    seeds = cmp.axes[1].values
    assert len(set(seeds)) == 3 and seeds[0] == 7
    drawn = compare(BASE, seed=[-1, 5, None]).axes[0].values
    assert drawn[1] == 5 and all(isinstance(s, int) and s >= 0 for s in drawn)
    with pytest.raises(ValueError, match="not both"):
        compare(BASE, seed=[1], seeds=2)


# --- running --------------------------------------------------------------------------------
def test_run_fills_every_cell_and_labels_every_run(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, prompt=PromptSR("a cat", "a dog, a fox"), num_images=[1, 2])
    assert cmp["a dog", 2] is None  # not run yet
    cmp.run(progress=False)
    assert cmp.counts()["ok"] == 6
    runs = client.history.runs(label=cmp.label)
    assert cmp.label == f"compare:{cmp.id}" and len(runs) == 6
    res = cmp["a dog", 2]
    assert res.spec.prompt == "a dog on a mat" and len(res.images) == 2
    assert cmp[("a fox", "1")].ok  # labels work as keys too
    assert res.images[0].path.exists()  # the single images stay reachable
    with pytest.raises(KeyError):
        cmp["a cow", 1]


def test_cells_run_concurrently_through_the_client(tmp_path):
    transport = SimulatorTransport(latency=0.2)
    client = ig.Client(provider="offline", history=ig.History(tmp_path / "h"), concurrency=8, transport=transport)
    compare(BASE, client, seed=[1, 2, 3, 4, 5, 6, 7, 8]).run(progress=False)
    assert transport.stats.max_inflight_images > 1


def test_a_failed_cell_is_kept_and_the_others_finish(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, prompt=["a cat", "a __unsafe__ cat", "a dog"]).run(progress=False)
    assert [c.state for c in cmp.cells] == ["ok", "error", "ok"]
    rec = cmp.to_records()[1]
    assert rec["ok"] is False and "422" in rec["error"] and rec["sha256s"] == []
    assert isinstance(cmp.cell("a __unsafe__ cat").error, ig.UnprocessableError)
    assert rec["run_id"] in client.history  # the failure is recorded too


def test_retry_failed_reruns_only_the_failed_cells(tmp_path):
    # 503 says "not done" (a 500's outcome is unknown: retry_failed leaves those alone)
    client = _client(tmp_path, faults=Faults(script=["503", "503"]), max_retries=0)
    cmp = compare(BASE, client, seed=[1, 2, 3, 4]).run(progress=False)
    assert cmp.counts() == {"planned": 0, "running": 0, "ok": 2, "error": 2}
    ok_runs = {c.result.run_id for c in cmp.cells if c.ok}
    cmp.retry_failed(progress=False)
    assert cmp.counts()["ok"] == 4
    assert {c.result.run_id for c in cmp.cells} >= ok_runs  # the good cells were not re-run
    assert len(client.history.runs(label=cmp.label)) == 6


def test_start_runs_in_the_background_and_reports_each_cell(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a cat", "a dog"], seeds=2)
    seen: list[str] = []
    lock = threading.Lock()

    def watch(cell):
        with lock:
            seen.append(cell.state)

    cmp.observe(watch)
    future = cmp.start()
    assert future.result(timeout=60) is cmp
    assert seen.count("running") == 4 and seen.count("ok") == 4


def test_records_are_one_plain_dict_per_cell(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a cat", "a dog"]).run(progress=False)
    rows = cmp.to_records()
    json.dumps(rows)
    assert [r["prompt"] for r in rows] == ["a cat", "a dog"]
    for r in rows:
        assert set(r) >= {"run_id", "ok", "error", "seeds", "sha256s", "paths", "cost"}
        assert r["ok"] is True and r["cost"] == pytest.approx(0.03) and len(r["sha256s"]) == 1


# --- contact sheet --------------------------------------------------------------------------
def test_contact_sheet_round_trips_through_from_image(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, prompt=PromptSR("a cat", ["a dog"]), rendering_speed="TURBO, QUALITY")
    cmp.run(progress=False)
    [path] = cmp.to_image(tmp_path / "grid.png", captions=True)
    setup = json.loads(read_png_text(path, COMPARE_CHUNK))
    assert setup["seed"] == cmp.seed and setup["base"] == BASE.to_dict()
    with Image.open(path) as img:
        assert img.width > 2 * 384 and img.height > 2 * 384
    again = Comparison.from_image(path, client=client)
    assert [c.spec.to_dict() for c in again.cells] == [c.spec.to_dict() for c in cmp.cells]
    assert again.axes == cmp.axes and again.seed == cmp.seed
    assert again.counts()["planned"] == 4 and again.id != cmp.id


def test_contact_sheet_pages_per_third_axis_and_past_the_cell_limit(tmp_path):
    cmp = compare(BASE, _client(tmp_path), seed="1-4", num_images=[1, 2], aspect_ratio=["1x1", "16x9"])
    cmp.run(progress=False)
    paths = cmp.to_image(tmp_path / "z.png")
    assert [p.name for p in paths] == ["z-1.png", "z-2.png"]
    split = cmp.to_image(tmp_path / "s.png", max_cells_per_page=4)
    assert len(split) == 4
    assert all(json.loads(read_png_text(p, COMPARE_CHUNK))["pages"] == 4 for p in split)
    assert Comparison.from_image(split[2]).n_calls == 16  # any page rebuilds the whole grid


def test_unrun_and_failed_cells_still_draw(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a cat", "a __unsafe__ dog"])
    [planned] = cmp.to_image(tmp_path / "planned.png")
    cmp.run(progress=False)
    [done] = cmp.to_image(tmp_path / "done.png")
    assert planned.exists() and done.exists()


def test_from_image_refuses_a_plain_png(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "p.png")
    with pytest.raises(ValueError, match="compare"):
        Comparison.from_image(tmp_path / "p.png")


# --- A/B ------------------------------------------------------------------------------------
def test_ab_diff_highlights_the_words_that_differ(tmp_path):
    a, b = "a red fox in the snow", "a grey fox in deep snow"
    cmp = compare(ig.Generate(prompt=a), _client(tmp_path), prompt=[a, b], seeds=3)
    assert cmp.is_ab and len(cmp.pairs()) == 3
    changed = [(x, y) for tag, x, y in cmp.diff() if tag != "equal"]
    assert changed == [("red", "grey"), ("the", "deep")]
    cmp.run(progress=False)
    html = cmp._repr_html_()
    assert "<mark>red</mark>" in html and "<mark>grey</mark>" in html and "<img" in html
    for a_cell, b_cell in cmp.pairs():
        assert a_cell.seeds == b_cell.seeds  # same seed on both sides


def test_ab_votes_are_stored_in_the_history_and_tallied(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, rendering_speed=["TURBO", "QUALITY"], seed=[11, 22, 33]).run(progress=False)
    cmp.vote(0, "A")
    cmp.vote(22, "b")  # by seed
    cmp.vote(2, "B")
    cmp.vote(2, "tie")  # a later vote replaces the earlier one
    tally = cmp.tally()
    assert (tally["A"], tally["B"], tally["tie"], tally["unvoted"]) == (1, 1, 1, 0)
    assert (tally["field"], tally["a"], tally["b"]) == ("rendering_speed", "TURBO", "QUALITY")
    stored = ig.History(tmp_path / "history").votes(cmp.id)  # persisted: a fresh handle sees them
    assert [v["choice"] for v in stored] == ["A", "B", "tie"]
    assert stored[0]["a_run_id"] == cmp.pairs()[0][0].result.run_id
    with pytest.raises(ValueError):
        cmp.vote(0, "C")
    with pytest.raises(KeyError):
        cmp.vote(99, "A")


def test_not_ab_without_a_two_valued_axis():
    cmp = compare(BASE, prompt=["a", "b", "c"])
    assert not cmp.is_ab
    with pytest.raises(ValueError, match="A/B"):
        cmp.diff()


def test_starting_twice_never_sends_a_cell_twice(tmp_path):
    client = _client(tmp_path, latency=0.1)
    cmp = compare(BASE, client, seed=[1, 2, 3])
    first, second = cmp.start(), cmp.start()
    first.result(timeout=60), second.result(timeout=60)
    assert cmp.counts()["ok"] == 3
    assert len(client.history.runs(label=cmp.label)) == 3


def test_single_images_are_saved_with_readable_names(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a cat", "a __unsafe__ dog"], num_images=[2])
    cmp.run(progress=False)
    saved = cmp.save_images(tmp_path / "singles")
    assert [p.name for p in saved] == ["001_prompt=a-cat_num_images=2_0.png", "001_prompt=a-cat_num_images=2_1.png"]
    assert ig.spec_from_image(saved[0]).prompt == "a cat"  # the copy keeps its record


def test_a_bad_axis_value_is_named_once_not_once_per_cell():
    with pytest.raises(ig.ComparisonError) as info:
        ig.compare(ig.Generate(prompt="x", seed=1), rendering_speed=["TURBO", "FAST"], prompt=["a", "b", "c"])
    text = str(info.value)
    assert text.count("rendering_speed='FAST'") == 1
    assert "1 problem in 3 of 6 cells" in text and "the rendering_speed: FAST cells, 3 of them" in text
    assert len(info.value.problems) == 3  # every cell's problem is still there for code that reads them

    with pytest.raises(ig.ComparisonError) as info:  # a problem of the base spec: every cell has it
        ig.compare(ig.Generate(prompt="", seed=1), rendering_speed=["TURBO", "QUALITY"])
    assert str(info.value).count("prompt=''") == 1 and "(every cell)" in str(info.value)
