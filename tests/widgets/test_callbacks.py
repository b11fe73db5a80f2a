"""Every `on_*` registration takes `remove=True` (the ipywidgets idiom), and a listener that
raises is reported without stopping the others."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._callbacks import Callbacks
from ideogram_nb.widgets import ComparisonGrid, HistoryBrowser, MaskPainter, ResultGrid, SpecForm


def png(w: int = 64, h: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (90, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def test_callbacks_add_once_remove_and_report_failures(capsys):
    seen: list[int] = []
    callbacks = Callbacks()

    def broken(_x: int) -> None:
        raise RuntimeError("a broken view")

    callbacks.register(seen.append)
    callbacks.register(seen.append)  # added once
    callbacks.register(broken)
    callbacks(1)
    assert seen == [1] and "a broken view" in capsys.readouterr().err
    callbacks.register(seen.append, remove=True)
    callbacks.register(broken, remove=True)
    callbacks(2)
    assert seen == [1] and not callbacks
    with pytest.raises(TypeError):
        callbacks.register("not callable")  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path):
    c = ig.Client(provider="offline", history=ig.History(tmp_path / "h"))
    yield c
    c.close()


def test_result_grid_select_and_action_listeners_can_be_removed(client):
    result = client.run(ig.Generate(prompt="a lighthouse", seed=3))
    grid = ResultGrid([result])
    picked: list[object] = []
    acted: list[str] = []
    grid.on_select(picked.append)

    def on_action(action: str, spec: ig.Spec) -> None:
        acted.append(action)

    grid.on_action(on_action)
    grid.select(0)
    grid.trigger("reuse_seed")
    assert len(picked) == 1 and acted == ["reuse_seed"]
    grid.on_select(picked.append, remove=True)
    grid.on_action(on_action, remove=True)
    grid.select(0)
    grid.trigger("reuse_seed")  # no listener left: the prefilled form opens under the grid
    assert len(picked) == 1 and acted == ["reuse_seed"]
    assert isinstance(grid.followup.form, SpecForm)


def test_form_result_listener_can_be_removed(client):
    form = SpecForm(ig.Generate(prompt="a lighthouse", seed=1), client)
    got: list[object] = []
    form.on_result(got.append)
    form.run().result(timeout=30)
    form.on_result(got.append, remove=True)
    form.run().result(timeout=30)
    assert len(got) == 1


def test_comparison_grid_open_listener_can_be_removed(client):
    grid = ComparisonGrid(ig.compare(ig.Generate(prompt="a fox"), client, seed=[1, 2]))
    opened: list[object] = []
    grid.on_open(opened.append)
    cell = grid.comparison.cells[0]
    grid.open_cell(cell)
    grid.on_open(opened.append, remove=True)
    grid.open_cell(cell)  # no listener: a prefilled form opens under the grid
    assert opened == [cell] and isinstance(grid.detail.form, SpecForm)


def test_comparison_observe_listener_can_be_removed(client):
    cmp = ig.compare(ig.Generate(prompt="a fox"), client, seed=[1, 2])
    seen: list[object] = []
    cmp.observe(seen.append)
    cmp.observe(seen.append, remove=True)
    cmp.run(progress=False)
    assert seen == [] and cmp.counts()["ok"] == 2


def test_history_browser_rerun_listener_can_be_removed(client):
    client.run(ig.Generate(prompt="a lighthouse", seed=1))
    browser = HistoryBrowser(client.history)
    specs: list[ig.Spec] = []
    browser.on_rerun(specs.append)
    run_id = browser.records[0].run_id
    browser.rerun(run_id)
    browser.on_rerun(specs.append, remove=True)
    browser.rerun(run_id)  # no listener: the prefilled form opens below
    assert len(specs) == 1
    assert any(isinstance(w, SpecForm) for w in browser.detail.children)


def test_painter_change_listener_can_be_removed():
    painter = MaskPainter(png())
    seen: list[object] = []
    painter.on_change(seen.append)
    painter.rect(0, 0, 10, 10)
    painter.on_change(seen.append, remove=True)
    painter.rect(0, 0, 20, 20)
    assert len(seen) == 1
