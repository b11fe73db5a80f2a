"""HistoryBrowser, headless: pages, filters, totals, selection, export, re-run, open."""

from __future__ import annotations

import html
import io
import shutil
import time
from pathlib import Path

import ipywidgets as W
import nbformat
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.widgets._form import SpecForm
from ideogram_nb.widgets._history_browser import ROW_THUMB_PX, HistoryBrowser
from ideogram_nb.widgets._history_query import HistoryQuery
from ideogram_nb.widgets._result_grid import ResultGrid
from ideogram_nb.widgets._thumbs import placeholder

N_RUNS = 45


def png(i: int, size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (i * 50 % 256, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """45 runs: every 5th an error, every 3rd a remix of a stored input, one labelled, one withheld."""
    folder = tmp_path_factory.mktemp("browser") / "runs"
    h = ig.History(folder)
    shas = [h.store.put_output(png(i), {"endpoint": "generate", "seed": i})[0] for i in range(3)]
    source = h.store.put(png(9))[0]
    for i in range(N_RUNS):
        remix = i % 3 == 0
        spec = {"endpoint": "remix" if remix else "generate", "prompt": f"prompt {i}"}
        if remix:
            spec["image"] = f"sha256:{source}"
        rec = dict(
            provider="replay" if i == 7 else "offline", endpoint=spec["endpoint"], spec=spec,
            request_hash=f"h{i}", cost_usd=0.06 * (1 + i % 2), label="keeper" if i == 11 else None,
            images=[{"sha256": shas[i % 3], "seed": i, "resolution": "32x32", "is_image_safe": True},
                    {"sha256": shas[(i + 1) % 3], "seed": i + 100, "resolution": "32x32", "is_image_safe": True}],
            inputs=[{"field": "image", "sha256": source}] if remix else [],
        )  # fmt: skip
        if i == 2:
            rec["images"] = [{"sha256": None, "seed": 2, "resolution": "32x32", "is_image_safe": False}]
        if i % 5 == 4:
            rec.update(status="error", error="safety check", error_type="UnprocessableError", http_status=422,
                       images=[], cost_usd=0.0)  # fmt: skip
        h.record(ig.RunRecord(**rec))
    return folder


@pytest.fixture
def history(template, tmp_path) -> ig.History:
    """A private copy of the template history (tests add runs to it)."""
    return ig.History(shutil.copytree(template, tmp_path / "runs"))


def run_ids(browser: HistoryBrowser) -> list[str]:
    return [rec.run_id for rec in browser.records]


def test_pages_newest_first_with_totals_and_thumbnails(history):
    browser = HistoryBrowser(history)
    newest = [r.run_id for r in history.runs()]
    assert run_ids(browser) == newest[:20] and list(browser.rows) == newest[:20]
    assert "page 1 of 3" in browser.page_label.value and browser.prev_button.disabled
    images = sum(len(r.images) for r in history.runs())
    cost = history.total_cost()
    assert browser.totals_label.value == f"<b>{N_RUNS} runs · {images} images · ${cost:.2f}</b>"
    browser.next_button.click()
    assert run_ids(browser) == newest[20:40] and "page 2 of 3" in browser.page_label.value
    browser.next_button.click()
    assert run_ids(browser) == newest[40:] and browser.next_button.disabled
    browser.prev_button.click()
    assert browser.page == 2
    assert browser.go_to(99) == 3 and browser.go_to(-4) == 1  # clamped
    rec = browser.records[0]
    thumbs = [w.value for w in browser.rows[rec.run_id]["thumbs"].children]
    assert thumbs == [history.store.thumbnail(im["sha256"], ROW_THUMB_PX) for im in rec.images]


def test_withheld_and_failed_rows_show_placeholders_inputs_and_errors(history):
    browser = HistoryBrowser(history)
    browser.go_to(3)
    withheld = next(r for r in browser.records if r.images and r.images[0]["sha256"] is None)
    assert [w.value for w in browser.rows[withheld.run_id]["thumbs"].children] == [
        placeholder(ROW_THUMB_PX, "withheld")
    ]
    browser.set_filters(status="error", endpoint="remix")
    failed = browser.records[0]
    row = browser.rows[failed.run_id]
    assert [w.value for w in row["thumbs"].children] == [
        history.store.thumbnail(failed.inputs[0]["sha256"], ROW_THUMB_PX)
    ]
    html = row["box"].children[2].value
    assert "UnprocessableError (HTTP 422): safety check" in html and ">error<" in html


def test_filters_from_the_widgets_reset_to_page_one(history):
    browser = HistoryBrowser(history)
    browser.go_to(2)
    browser.status_filter.value = "error"
    assert browser.page == 1 and all(r.status == "error" for r in browser.records) and len(browser.records) == 9
    assert browser.totals_label.value.startswith("<b>9 runs · 0 images")
    browser.status_filter.value = None
    browser.endpoint_filter.value = "remix"
    assert {r.endpoint for r in browser.records} == {"remix"} and browser.query.totals["runs"] == 15
    browser.endpoint_filter.value = None
    browser.provider_filter.value = "replay"
    assert [r.spec["prompt"] for r in browser.records] == ["prompt 7"]
    browser.provider_filter.value = None
    browser.text_filter.value = "prompt 4"  # 4 and 40–44
    assert sorted(r.spec["prompt"] for r in browser.records) == [f"prompt {i}" for i in (4, 40, 41, 42, 43, 44)]
    browser.text_filter.value = ""
    browser.label_filter.value = "keeper"
    assert [r.label for r in browser.records] == ["keeper"]
    browser.label_filter.value = "nobody"
    assert browser.records == [] and browser.rows_box.children[0].value.startswith("<i>No runs")
    assert "page 1 of 1" in browser.page_label.value


def test_a_page_reads_only_one_page_of_rows(history, monkeypatch):
    seen: list[dict] = []
    real = history.runs
    monkeypatch.setattr(history, "runs", lambda **kw: seen.append(kw) or real(**kw))
    browser = HistoryBrowser(history)
    browser.go_to(3)
    browser.set_filters(endpoint="generate")
    assert seen and all(kw["limit"] == 20 for kw in seen)
    assert [kw["offset"] for kw in seen] == [0, 40, 0]


def test_old_pages_widgets_are_closed(history):
    browser = HistoryBrowser(history)
    old = list(browser.rows.values())
    browser.next_page()
    assert all(row["checkbox"].comm is None and row["box"].comm is None for row in old)
    assert all(row["checkbox"].comm is not None for row in browser.rows.values())


def test_selection_survives_pages_and_drives_the_export_button(history):
    browser = HistoryBrowser(history)
    first = run_ids(browser)[0]
    browser.rows[first]["checkbox"].value = True
    assert browser.selected == [first] and browser.export_button.description == "Export 1 selected"
    browser.next_page()
    browser.select_page_button.click()
    assert len(browser.selected) == 21
    browser.prev_page()
    assert browser.rows[first]["checkbox"].value is True
    assert sum(row["checkbox"].value for row in browser.rows.values()) == 1
    browser.clear_button.click()
    assert browser.selected == [] and not browser.rows[first]["checkbox"].value
    assert browser.export_button.description == f"Export all {N_RUNS}"


def test_export_button_writes_selected_runs_oldest_first(history, tmp_path):
    browser = HistoryBrowser(history)
    picked = run_ids(browser)[:3]
    browser.select(picked[1])
    browser.select([picked[0], picked[2]])
    browser.export_path.value = str(tmp_path / "picked.ipynb")
    browser.export_button.click()
    assert str(tmp_path / "picked.ipynb") in browser.export_message.value
    nb = nbformat.read(tmp_path / "picked.ipynb", as_version=4)
    assert [c.metadata["ideogram_nb"]["run_id"] for c in nb.cells if "ideogram_nb" in c.metadata] == picked[::-1]
    browser.clear_selection()
    browser.set_filters(status="error")
    path = browser.export(tmp_path / "errors.ipynb")
    exported = [c for c in nbformat.read(path, as_version=4).cells if "ideogram_nb" in c.metadata]
    assert len(exported) == 9 and all(c.metadata["ideogram_nb"]["status"] == "error" for c in exported)
    browser.export_path.value = str(tmp_path / "not_a_dir.txt" / "x.ipynb")
    (tmp_path / "not_a_dir.txt").write_text("a file")
    browser.export_button.click()
    assert "Not exported" in browser.export_message.value


def test_rerun_hands_the_rebuilt_spec_to_callbacks(history):
    browser = HistoryBrowser(history)
    got: list[ig.Spec] = []
    browser.on_rerun(got.append)
    browser.set_filters(endpoint="remix")
    rec = browser.records[0]
    browser.rows[rec.run_id]["rerun"].click()
    (spec,) = got
    assert isinstance(spec, ig.Remix) and spec.to_dict() == rec.spec and spec.seed is None
    assert browser.detail.children == ()  # the Studio shows it; nothing opens here


def test_rerun_without_callbacks_opens_a_prefilled_form(history):
    browser = HistoryBrowser(history)
    rec = browser.records[0]
    browser.rows[rec.run_id]["rerun"].click()
    form = browser.detail.children[1]
    assert isinstance(form, SpecForm) and form.spec.to_dict() == rec.spec
    assert browser.client is not None and browser.client.history is history


def test_rerun_of_a_run_whose_input_is_gone_shows_a_message(history, tmp_path):
    rec = ig.RunRecord(provider="offline", endpoint="remix",
                       spec={"endpoint": "remix", "prompt": "x", "image": "sha256:" + "0" * 64})  # fmt: skip
    history.record(rec)
    browser = HistoryBrowser(history)
    browser.rows[rec.run_id]["rerun"].click()
    assert "sha256:" + "0" * 64 in browser.message.value
    with pytest.raises(ValueError):
        browser.rerun(rec.run_id)


def test_open_shows_the_runs_images_in_a_result_grid(history):
    browser = HistoryBrowser(history)
    rec = next(r for r in browser.records if r.ok and r.images and r.images[0]["sha256"])
    browser.rows[rec.run_id]["open"].click()
    grid = browser.detail.children[1]
    assert isinstance(grid, ResultGrid)
    assert [im.sha256 for im in grid.images] == [d["sha256"] for d in rec.images]
    assert [im.seed for im in grid.images] == [d["seed"] for d in rec.images]
    assert all(im.path == history.store.path(im.sha256) for im in grid.images)
    result = grid.results[0]
    assert result.run_id == rec.run_id and result.cost_usd == rec.cost_usd and result.spec.to_dict() == rec.spec
    failed = HistoryQuery(history).history.runs(status="error", limit=1)[0]
    grid = browser.open_images(failed.run_id)
    assert isinstance(grid.results[0].error, ig.APIError) and grid.results[0].error.status == 422


def test_open_grid_actions_go_to_the_rerun_callbacks(history):
    browser = HistoryBrowser(history)
    got: list[ig.Spec] = []
    browser.on_rerun(got.append)
    rec = next(r for r in browser.records if r.ok and r.images and r.images[0]["sha256"])
    grid = browser.open_images(rec.run_id)
    grid.select(0)
    spec = grid.trigger("upscale")
    assert got == [spec] and isinstance(spec, ig.Upscale)


def test_refresh_shows_new_runs_first(history):
    browser = HistoryBrowser(history)
    rec = ig.RunRecord(provider="offline", endpoint="generate", spec={"endpoint": "generate", "prompt": "brand new"},
                       cost_usd=1.0)  # fmt: skip
    history.record(rec)
    assert run_ids(browser)[0] != rec.run_id
    browser.refresh_button.click()
    assert run_ids(browser)[0] == rec.run_id and f"{N_RUNS + 1} runs" in browser.totals_label.value


def test_browser_is_a_widget_and_defaults_to_the_clients_history(history):
    with ig.Client(provider="offline", history=history) as client:
        browser = HistoryBrowser(client=client)
    assert isinstance(browser, W.VBox) and browser.history is history
    with pytest.raises(ValueError):
        HistoryQuery(history, page_size=0)


def test_a_pending_job_reads_as_running_and_resume_finishes_it_without_sending_again(tmp_path):
    from ideogram_nb.simulator import SimulatorTransport

    sim = SimulatorTransport()
    history = ig.History(tmp_path / "jobs")
    client = ig.Client(provider="offline", transport=sim, history=history, sleep=lambda s: None)
    job = client.start(ig.Generate45(prompt="a lighthouse", seed=3, size="1024x1024"))
    posts_before = sim.stats.posts
    browser = HistoryBrowser(history, client=client)

    row = browser.rows[job.run_id]
    text = row["box"].children[2].value
    assert "job running upstream" in text and job.generation_id in text and "error" not in text.lower()
    assert row["rerun"].description == "Resume" and row["open"].disabled

    row["rerun"].click()
    for _ in range(300):  # the resume runs on a thread; its row updates when the job is done
        if (
            history[job.run_id].status == "ok"
            and "job running upstream" not in browser.rows[job.run_id]["box"].children[2].value
        ):
            break
        time.sleep(0.05)
    assert history[job.run_id].status == "ok" and len(history[job.run_id].images) == 1
    assert browser.rows[job.run_id]["rerun"].description == "Re-run"
    assert sim.stats.posts == posts_before  # polls and downloads only: the paid job is not sent again


def test_resuming_a_job_of_another_provider_says_which_client_it_needs(tmp_path):
    from ideogram_nb.simulator import SimulatorTransport

    history = ig.History(tmp_path / "jobs")
    client = ig.Client(provider="offline", transport=SimulatorTransport(), history=history, sleep=lambda s: None)
    job = client.start(ig.Generate45(prompt="a lighthouse", seed=3, size="1024x1024"))
    browser = HistoryBrowser(history, client=ig.Client(provider="replay", history=history))

    browser.rows[job.run_id]["rerun"].click()
    message = html.unescape(browser.message.value)
    assert "is a job of 'offline'" in message and "uses 'replay'" in message
    assert history[job.run_id].status == "pending"
