"""ComparisonGrid and ComparePanel, headless: cells fill in, swap, pages, retry, open, preview."""

from __future__ import annotations

import io

import ipywidgets as W
import pytest

import ideogram_nb as ig
from ideogram_nb._compare._axes import PromptSR
from ideogram_nb._compare._comparison import compare
from ideogram_nb.simulator import Faults, SimulatorTransport
from ideogram_nb.widgets._comparison_grid import ComparePanel, ComparisonGrid
from ideogram_nb.widgets._image_button import ImageButton

BASE = ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO")


def _client(tmp_path, faults=None, max_retries=3):
    return ig.Client(
        provider="offline", history=ig.History(tmp_path / "h"), concurrency=8, max_retries=max_retries,
        transport=SimulatorTransport(faults=faults),
    )  # fmt: skip


def _images(view):
    """A cell's pictures: clickable (they open the large view) once the grid is in a notebook."""
    return [w for w in view.images.children if isinstance(w, W.Image | ImageButton)]


def test_grid_shows_headers_and_fills_in_after_run(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=PromptSR("a cat", ["a dog"]), num_images=[1, 2])
    grid = ComparisonGrid(cmp)
    assert grid.column_labels == ["<b>prompt: a cat</b>", "<b>prompt: a dog</b>"]
    assert grid.row_labels == ["<b>num_images: 1</b>", "<b>num_images: 2</b>"]
    assert all("planned" in v.caption.value for v in grid.views.values())
    grid.run().result(timeout=60)
    for view in grid.views.values():
        assert view.cell.state == "ok"
        imgs = _images(view)
        assert len(imgs) == view.cell.spec.num_images
        assert imgs[0].value[:2] == b"\xff\xd8"  # a JPEG thumbnail, not the full PNG
        assert view.cell.result.run_id in view.open_button.tooltip and not view.tooltip  # ipywidgets#3860
        assert view.retry_button.layout.display == "none"
    assert "4 ok" in grid.summary.value


def test_swap_axes_rearranges_without_running_again(tmp_path):
    client = _client(tmp_path)
    cmp = compare(BASE, client, prompt=["a", "b", "c"], seed=[1, 2])
    grid = ComparisonGrid(cmp)
    grid.run().result(timeout=60)
    runs = len(client.history)
    before = grid.cell_at(2, 1)
    grid.swap_button.click()
    assert grid.swapped
    assert grid.column_labels == ["<b>seed: 1</b>", "<b>seed: 2</b>"]
    assert len(grid.row_labels) == 3
    assert grid.cell_at(1, 2) is before
    assert grid.grid.children.count(grid.views[before.index]) == 1
    assert len(client.history) == runs


def test_failed_cell_offers_retry_and_the_button_reruns_only_it(tmp_path):
    client = _client(tmp_path, faults=Faults(script=["503"]), max_retries=0)  # 503: not done, plainly failed
    cmp = compare(BASE, client, seed=[1, 2, 3])
    grid = ComparisonGrid(cmp)
    grid.run().result(timeout=60)
    [failed] = [v for v in grid.views.values() if v.cell.state == "error"]
    assert failed.retry_button.layout.display is None
    assert "failed" in failed.caption.value and failed.layout.border.startswith("2px solid #d32f2f")
    runs = len(client.history)
    failed.retry_button.click()
    grid.last_future.result(timeout=60)
    assert failed.cell.state == "ok" and _images(failed)
    assert len(client.history) == runs + 1
    assert failed.retry_button.layout.display == "none"


def test_page_selector_walks_the_third_axis(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a", "b"], seed=[1, 2], aspect_ratio=["1x1", "16x9"])
    grid = ComparisonGrid(cmp)
    assert grid.page_select.layout.display is None
    assert grid.cell_at(0, 0).spec.aspect_ratio == "1x1"
    grid.page_select.value = 1
    assert grid.cell_at(0, 0).spec.aspect_ratio == "16x9"
    assert "aspect_ratio: 16x9" in grid.grid.children[0].value
    assert ComparisonGrid(compare(BASE, prompt=["a", "b"])).page_select.layout.display == "none"


def test_open_calls_the_callback_or_opens_a_prefilled_form(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a", "b"])
    grid = ComparisonGrid(cmp)
    target = grid.cell_at(1, 0)
    grid.open_cell(target)
    form = grid.detail.children[-1]
    assert getattr(form, "spec", None) is not None and form.spec.prompt == "b"
    opened = []
    grid.on_open(opened.append)
    grid.views[target.index].open_button.click()
    assert opened == [target]


def test_budget_refusal_is_shown_not_raised(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=["a", "b"])
    cmp.budget_usd = 0.01
    grid = ComparisonGrid(cmp)
    grid.run_button.click()
    assert "budget" in grid.message.value
    assert cmp.counts()["planned"] == 2


def test_compare_panel_previews_cost_and_runs_into_a_grid(tmp_path):
    client = _client(tmp_path)
    panel = ComparePanel(BASE, client)
    assert panel.run_button.disabled
    panel.field_boxes[0].value = "rendering_speed"
    panel.value_boxes[0].value = "TURBO, QUALITY"
    panel.seeds.value = 2
    assert "4 calls" in panel.cost.value and "$0.24" in panel.cost.value
    assert not panel.run_button.disabled
    panel.budget.value = 0.1
    assert "over the budget" in panel.cost.value and panel.run_button.disabled
    panel.budget.value = 1.0
    panel.run_button.click()
    grid = panel.grid
    assert isinstance(grid, ComparisonGrid) and panel.output.children == (grid,)
    grid.last_future.result(timeout=60)
    assert panel.comparison.counts()["ok"] == 4


def test_compare_panel_reports_bad_values_and_supports_search_replace(tmp_path):
    panel = ComparePanel(BASE, _client(tmp_path))
    panel.field_boxes[0].value = "num_images"
    panel.value_boxes[0].value = "1-20"
    assert "num_images" in panel.cost.value and panel.run_button.disabled
    panel.field_boxes[0].value = "prompt::sr"
    panel.value_boxes[0].value = "a cat, a dog, a fox"
    assert "3 calls" in panel.cost.value
    assert [c.spec.prompt for c in panel.plan().cells][1] == "a dog on a mat"


def test_compare_panel_without_a_spec_offers_a_base_form(tmp_path):
    panel = ComparePanel(client=_client(tmp_path))
    assert isinstance(panel.base_spec(), ig.Generate)
    assert panel.base_box.children  # the base is edited in a form
    with pytest.raises(ig.SpecError):  # an empty prompt is refused in every cell
        panel.field_boxes[0].value = "rendering_speed"
        panel.value_boxes[0].value = "TURBO, QUALITY"
        panel.plan()


def test_a_cell_picture_opens_the_large_view_with_every_finished_cell_a_step_away(tmp_path):
    cmp = compare(BASE, _client(tmp_path), prompt=PromptSR("a cat", ["a dog", "a fox"]))
    grid = ComparisonGrid(cmp)
    cmp.run(progress=False)
    actions: list[tuple[str, ig.Spec]] = []
    grid.on_action(lambda action, spec: actions.append((action, spec)))

    second = cmp.cells[1]
    _images(grid.views[second.index])[0].click()
    assert grid.large_view.is_open and grid.large_view.image == second.images[0]
    grid.large_view.next()
    assert grid.large_view.image == cmp.cells[2].images[0]
    grid.large_view.trigger("remix")  # the per-image actions of any result, from the cell's own spec
    ((action, spec),) = actions
    assert action == "remix" and isinstance(spec, ig.Remix) and "a fox" in spec.prompt


def test_cells_keep_their_size_while_they_fill(tmp_path):
    from PIL import Image as PILImage

    def sizes(view):
        return [PILImage.open(io.BytesIO(w.value)).size for w in _images(view)]

    base = ig.Generate(prompt="a cat on a mat", rendering_speed="TURBO", aspect_ratio="16x9", num_images=2)
    cmp = compare(base, _client(tmp_path), prompt=PromptSR("a cat", ["a dog"]))
    grid = ComparisonGrid(cmp, thumb_px=192)
    planned = {i: sizes(v) for i, v in grid.views.items()}
    cmp.run(progress=False)
    for index, view in grid.views.items():
        done = sizes(view)
        assert len(planned[index]) == len(done) == 2  # one placeholder per image on its way
        for (pw, ph), (w, h) in zip(planned[index], done, strict=True):
            assert pw == w == 96 and abs(ph - h) <= 2  # same width, same shape: the cell does not jump
