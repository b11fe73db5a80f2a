"""Exporting the history: notebook cells that rebuild the request exactly, light thumbnails
that carry their record, failures that do not stop the notebook, and JSON lines."""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import stat
import sys

import httpx
import nbformat
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._history import _export
from ideogram_nb._specs._wire import request_hash
from ideogram_nb.simulator import SimulatorTransport


def png(size=(64, 48), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def mask_png(size) -> bytes:
    mask = Image.new("L", size, 255)
    mask.paste(0, (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def history(tmp_path) -> ig.History:
    return ig.History(tmp_path / "ideogram_runs")


@pytest.fixture
def client(history):
    with ig.Client(provider="offline", history=history, transport=SimulatorTransport()) as c:
        yield c


def rebuild(code: str, history: ig.History) -> ig.Spec:
    """Run an exported spec line the way the notebook does, with only `ig` and `history`."""
    namespace = {"ig": ig, "history": history}
    exec(code, namespace)  # noqa: S102 - our own generated code, the thing under test
    return namespace["spec"]


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "ideogram_nb" in c.metadata]


def jpegs(cell) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/jpeg"]) for o in cell.outputs if "image/jpeg" in o.get("data", {})]


# --- code that rebuilds the request ---------------------------------------------------------
TRICKY = ["plain", "with \"double\" and 'single' quotes", "back\\slash", "line\nbreak\ttab", "ünïcødé ✓ 🌊", "\x00\x1f"]


@pytest.mark.parametrize("text", TRICKY)
def test_literals_are_python_that_reads_back_the_same(text):
    value = {"prompt": text, "list": [1, 2.5, None, True, text], "nested": {"k": [text]}}
    assert ast.literal_eval(_export.py_literal(value)) == value
    assert _export.py_literal("a lighthouse") == '"a lighthouse"'


def test_spec_code_rebuilds_the_same_request_for_every_kind_of_field(history):
    image, other = png(), png(color=(10, 200, 30))
    for data in (image, other):
        history.store.put(data)
    specs = [
        ig.Generate(prompt=TRICKY[1] + TRICKY[3], num_images=2, seed=7, aspect_ratio="16x9",
                    rendering_speed="TURBO", magic_prompt="OFF", style_type="DESIGN",
                    negative_prompt="blur", color_palette=["#ff0000", ("#00ff00", 0.5)],
                    style_reference_images=[image, other]),
        ig.Remix(prompt="in winter", image=image, image_weight=70),
        ig.Edit(prompt="a boat", image=image, mask=mask_png((64, 48))),
        ig.LegacyGenerate(prompt="old school", model="V_2", color_palette="EMBER"),
        ig.Upscale(image=image, resemblance=60),
        ig.Describe(image=image),
    ]  # fmt: skip
    history.store.put(mask_png((64, 48)))
    for spec in specs:
        code = _export.spec_source(spec.to_dict())
        assert code.startswith(f"spec = ig.{type(spec).__name__}(")
        assert "sha256:" not in code  # inputs are store paths, readable and runnable
        rebuilt = rebuild(code, history)
        assert type(rebuilt) is type(spec)
        assert request_hash(rebuilt) == request_hash(spec)
        lines = code.splitlines()
        if len(lines) > 1:  # too long for one line: one field per line
            assert lines[-1] == ")" and all(line.startswith("    ") and line.endswith(",") for line in lines[1:-1])
            assert len(lines) == len(spec.to_dict()) + 1
        else:
            assert len(code) <= _export.MAX_LINE


def test_spec_code_lists_only_non_default_fields_in_declaration_order():
    code = _export.spec_source({"endpoint": "generate", "seed": 42, "prompt": "a lighthouse", "num_images": 2})
    assert code == 'spec = ig.Generate(prompt="a lighthouse", num_images=2, seed=42)'


def test_spec_code_for_an_unknown_field_falls_back_to_spec_from_dict():
    code = _export.spec_source({"endpoint": "generate", "prompt": "x", "from_the_future": 1})
    assert code == 'spec = ig.spec_from_dict({"endpoint": "generate", "prompt": "x", "from_the_future": 1})'


def test_seedless_run_exports_without_a_seed_but_names_the_returned_seeds(client, history, tmp_path):
    result = client.run(ig.Generate(prompt="a red bicycle", num_images=2))
    rec = history[result.run_id]
    nb = nbformat.read(history.export_notebook(tmp_path / "x.ipynb"), as_version=4)
    markdown = nb.cells[2].source
    code = code_cells(nb)[0].source
    assert "seed" not in code
    for seed in result.seeds:
        assert str(seed) in markdown
    spec = rebuild(code.split("\n\n")[0], history)
    assert request_hash(spec) == rec.request_hash  # so replay finds it


# --- the notebook ---------------------------------------------------------------------------
def test_notebook_layout_setup_markdown_code_and_failures(client, history, tmp_path):
    ok = client.run(ig.Generate(prompt="a lighthouse", seed=3), label="first")
    client.run(ig.Describe(image=ok.images[0]))
    with pytest.raises(ig.UnprocessableError):
        client.run(ig.Generate(prompt="__unsafe__ thing"))
    path = history.export_notebook(tmp_path / "runs.ipynb", title="My runs")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"] + ["markdown", "code"] * 3
    assert nb.cells[0].source.startswith("# My runs\n") and "3 runs (1 failed)" in nb.cells[0].source
    setup = nb.cells[1].source
    assert 'history = ig.History("ideogram_runs")' in setup  # beside the notebook: relative
    assert "client = ig.Client(history=history)" in setup
    assert "provider=" not in setup and "IDEOGRAM_NB_PROVIDER" in setup
    first, describe, failed = code_cells(nb)
    assert [c.metadata["ideogram_nb"]["status"] for c in (first, describe, failed)] == ["ok", "ok", "error"]
    assert 'client.run(spec, label="first")' in first.source and "show(result)" in first.source
    assert "**first**" in nb.cells[2].source and "$0.060" in nb.cells[2].source
    assert [o.output_type for o in first.outputs] == ["display_data"]
    assert set(first.outputs[0].data) == {"image/jpeg", "text/plain"}  # never the full PNG
    assert describe.outputs[0].text.splitlines() == history[describe.metadata["ideogram_nb"]["run_id"]].descriptions
    assert "try:" in failed.source and "except ig.IdeogramError as error:" in failed.source
    assert failed.outputs[0].text.startswith("UnprocessableError: HTTP 422: ")
    fail_md = nb.cells[6].source
    assert "**failed**: UnprocessableError (HTTP 422)" in fail_md and "ReplayMiss" in fail_md
    ast.parse(setup)
    for cell in code_cells(nb):
        ast.parse(cell.source)


def test_failed_cell_catches_the_error_when_run(client, history, tmp_path, capsys):
    with pytest.raises(ig.UnprocessableError):
        client.run(ig.Generate(prompt="__unsafe__ thing"))
    nb = nbformat.read(history.export_notebook(tmp_path / "f.ipynb"), as_version=4)
    namespace = {"ig": ig, "history": history, "client": client, "show": print}
    exec(code_cells(nb)[0].source, namespace)  # noqa: S102 - must not raise
    assert capsys.readouterr().out.startswith("UnprocessableError: HTTP 422")


def test_history_path_is_relative_when_close_and_absolute_when_far(tmp_path):
    deep = tmp_path / "a" / "b" / "c" / "d"
    runs = tmp_path / "project" / "ideogram_runs"
    assert _export.history_ref(runs, tmp_path / "project") == '"ideogram_runs"'
    assert _export.history_ref(runs, tmp_path / "project" / "notebooks") == '"../ideogram_runs"'
    assert _export.history_ref(runs, deep) == json.dumps(str(runs.resolve()))


def test_sixty_four_thumbnails_weigh_under_three_percent_of_the_full_pngs(client, history, tmp_path):
    distinct = [im for i in range(2) for im in client.run(ig.Generate(prompt=f"scene {i}", num_images=8)).images]
    template = history[history.runs(limit=1)[0].run_id]
    for i in range(6):  # 48 more outputs: the same images under other runs (generating is slow)
        images = template.images if i % 2 else history.runs(limit=2)[1].images
        history.record(ig.RunRecord(provider="offline", endpoint="generate", spec={"endpoint": "generate", "prompt": f"x {i}"},
                                    request_hash=f"h{i}", images=list(images), cost_usd=0.48))  # fmt: skip
    assert len(distinct) == 16
    path = history.export_notebook(tmp_path / "big.ipynb")
    nb = nbformat.read(path, as_version=4)
    shown = [
        sha
        for c in code_cells(nb)
        for sha in [im["sha256"] for im in history[c.metadata["ideogram_nb"]["run_id"]].images]
    ]
    assert len(shown) == 64 == sum(len(jpegs(c)) for c in code_cells(nb))
    full = sum(len(base64.b64encode(history.store.get(sha))) for sha in shown)
    ratio = path.stat().st_size / full
    assert ratio < 0.03, f"notebook is {ratio:.1%} of embedding the full PNGs"


def test_thumbnails_carry_the_record_so_save_as_keeps_it(client, history, tmp_path):
    result = client.run(ig.Remix(prompt="in winter", image=png((96, 96)), image_weight=30))
    nb = nbformat.read(history.export_notebook(tmp_path / "r.ipynb"), as_version=4)
    (thumb,) = jpegs(code_cells(nb)[0])
    saved = tmp_path / "saved.jpg"
    saved.write_bytes(thumb)  # what "Save image as…" in a browser writes
    with Image.open(saved) as img:
        assert img.format == "JPEG" and max(img.size) <= _export.EXPORT_THUMBNAIL_PX
    assert ig.read_metadata(saved) == ig.read_metadata(result.images[0].path)
    spec = ig.spec_from_image(saved)
    assert isinstance(spec, ig.Remix) and spec.seed == result.images[0].seed
    assert spec.image.sha256 == result.spec.image.sha256 and spec.image_weight == 30


def test_jpeg_comment_insertion_keeps_the_pixels(history):
    sha, _ = history.store.put(png((80, 80), (1, 2, 3)))
    thumb = history.store.thumbnail(sha, 64)
    tagged = _export.insert_jpeg_comment(thumb, b'{"a":1}')
    with Image.open(io.BytesIO(thumb)) as a, Image.open(io.BytesIO(tagged)) as b:
        assert a.tobytes() == b.tobytes() and b.info["comment"] == b'{"a":1}'
    assert _export.insert_jpeg_comment(thumb, b"x" * 70000) == thumb  # too long for a segment: left out
    assert _export.insert_jpeg_comment(b"not a jpeg", b"x") == b"not a jpeg"


def test_export_is_deterministic_and_selects_runs_in_the_given_order(client, history, tmp_path):
    first = client.run(ig.Generate(prompt="one", seed=1))
    second = client.run(ig.Generate(prompt="two", seed=2))
    a = history.export_notebook(tmp_path / "a.ipynb")
    b = history.export_notebook(tmp_path / "b.ipynb")
    assert a.read_bytes() == b.read_bytes()
    picked = history.export_notebook(tmp_path / "p.ipynb", runs=[second.run_id, first, second.run_id])
    ids = [c.metadata["ideogram_nb"]["run_id"] for c in code_cells(nbformat.read(picked, as_version=4))]
    assert ids == [second.run_id, first.run_id]
    with pytest.raises(KeyError, match="nope"):
        history.export_notebook(tmp_path / "k.ipynb", runs=["nope"])
    assert history.export_notebook(tmp_path / "noext").name == "noext.ipynb"


def test_a_newer_identical_request_is_pointed_out(history, tmp_path):
    spec = ig.Generate(prompt="same words")
    older, newer = (
        ig.RunRecord(
            provider="ideogram",
            endpoint="generate",
            spec=spec.to_dict(),
            request_hash=request_hash(spec),
            images=[{"sha256": history.store.put(png(color=(c, c, c)))[0], "seed": c}],
        )
        for c in (1, 2)
    )  # fmt: skip  (the real service: no seed sent, so the same request gave other images)
    history.record(older)
    history.record(newer)
    nb = nbformat.read(history.export_notebook(tmp_path / "t.ipynb"), as_version=4)
    assert f"run `{newer.run_id}` later made the same request" in nb.cells[2].source
    assert "later made the same request" not in nb.cells[4].source


def test_markdown_escapes_what_it_quotes(history):
    rec = ig.RunRecord(provider="offline", endpoint="generate", spec={"endpoint": "generate", "prompt": "p"},
                       status="error", error="bad <b>*input*</b> # here", error_type="BadRequestError",
                       http_status=400, label="my_label")  # fmt: skip
    text = _export.run_markdown(rec, 1)
    assert "bad \\<b\\>\\*input\\*\\</b\\> \\# here" in text and "my\\_label" in text


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_exports_are_readable_like_any_file_the_user_writes(client, history, tmp_path):
    client.run(ig.Generate(prompt="x", seed=1))
    old = os.umask(0o022)
    try:
        nb = history.export_notebook(tmp_path / "perm.ipynb")
        lines = history.to_jsonl(tmp_path / "perm.jsonl")
    finally:
        os.umask(old)
    for path in (nb, lines):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- JSON lines -----------------------------------------------------------------------------
def test_jsonl_is_one_record_per_line_oldest_first(client, history, tmp_path):
    client.run(ig.Generate(prompt="one ✓", seed=1))
    with pytest.raises(ig.UnprocessableError):
        client.run(ig.Generate(prompt="__unsafe__"))
    path = history.to_jsonl(tmp_path / "runs.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == history.to_records()
    assert {"run_id", "created_at", "provider", "endpoint", "status", "spec", "images", "cost_usd",
            "latency_s", "error", "label"} <= set(json.loads(lines[0]))  # fmt: skip
    last = history.runs(limit=1)[0].run_id
    only = history.to_jsonl(tmp_path / "one.jsonl", runs=[last]).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["run_id"] for line in only] == [last]


def test_totals_count_runs_images_and_cost_per_filter(client, history):
    client.run(ig.Generate(prompt="a", num_images=3, seed=1))
    with pytest.raises(ig.UnprocessableError):
        client.run(ig.Generate(prompt="__unsafe__"))
    assert history.totals() == {"runs": 2, "images": 3, "cost_usd": pytest.approx(history.total_cost()),
                                "unknown": 0, "unknown_usd": 0.0}  # fmt: skip
    assert history.totals(status="error") == {"runs": 1, "images": 0, "cost_usd": 0.0, "unknown": 0, "unknown_usd": 0.0}
    assert history.totals(endpoint="remix")["runs"] == 0


# --- calls whose outcome is unknown (sent, answer lost: maybe billed) ---------------------------
class LoseAnswers(httpx.BaseTransport):
    """The simulator, but the answers to the first `n` POSTs are lost after the work."""

    def __init__(self, n: int = 1) -> None:
        self.sim = SimulatorTransport()
        self.n = n
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            request.read()
            self.posts += 1
            if self.posts <= self.n:
                self.sim.handle_request(request).read()
                raise httpx.RemoteProtocolError("answer lost", request=request)
        return self.sim.handle_request(request)


def test_an_unknown_run_is_marked_and_its_cell_does_not_send_it_again(history, tmp_path, capsys):
    wire = LoseAnswers()
    client = ig.Client(provider="offline", history=history, transport=wire)
    with pytest.raises(ig.OutcomeUnknownError) as info:
        client.run(ig.Generate(prompt="lost", rendering_speed="TURBO"), label="mine")
    client.run(ig.Generate(prompt="fine"))
    run_id = info.value.run_id
    nb = nbformat.read(history.export_notebook(tmp_path / "u.ipynb"), as_version=4)
    assert "2 runs (0 failed, 1 outcome unknown)" in nb.cells[0].source
    assert "(of which $0.03 possibly billed)" in nb.cells[0].source
    lost_md, lost_code = nb.cells[2], code_cells(nb)[0]
    assert lost_code.metadata["ideogram_nb"]["status"] == "unknown"
    assert "**outcome unknown, possibly billed**: OutcomeUnknownConnectionError" in lost_md.source
    assert "$0.030 possibly billed" in lost_md.source and "resend = True" in lost_md.source
    assert "resend = False" in lost_code.source and lost_code.outputs[0].text.startswith(
        "OutcomeUnknownConnectionError"
    )
    ast.parse(lost_code.source)

    # Executed as exported: nothing is sent; the reader is told why and how to send it.
    namespace = {"ig": ig, "history": history, "client": client, "show": print}
    exec(lost_code.source, namespace)  # noqa: S102
    assert wire.posts == 2 and f"not sent again: run {run_id} may already have been billed" in capsys.readouterr().out
    exec(lost_code.source.replace("resend = False", "resend = True"), namespace)  # noqa: S102 - on purpose
    assert wire.posts == 3

    lines = history.to_jsonl(tmp_path / "u.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["status"] == "unknown" and first["error_type"] == "OutcomeUnknownConnectionError"
    assert "billed" in first["error"] and first["cost_usd"] == pytest.approx(0.03)
    assert history.totals()["unknown_usd"] == pytest.approx(0.03) and history.totals()["unknown"] == 1


# --- where an export goes ---------------------------------------------------------------------
def test_an_export_given_a_folder_writes_inside_it(client, history, tmp_path):
    client.run(ig.Generate(prompt="a folder", seed=1))
    folder = tmp_path / "some" / "folder"
    folder.mkdir(parents=True)
    nb = history.export_notebook(folder)
    lines = history.to_jsonl(folder)
    assert (nb, lines) == (folder / "runs.ipynb", folder / "runs.jsonl")
    assert sorted(p.name for p in folder.parent.iterdir()) == ["folder"]  # nothing beside it
    assert code_cells(nbformat.read(nb, as_version=4))
    fresh = history.export_notebook(str(tmp_path / "new") + os.sep)  # a path ending in a separator: a folder
    assert fresh == tmp_path / "new" / "runs.ipynb" and fresh.is_file()


def test_an_export_never_replaces_a_file_unless_asked(client, history, tmp_path):
    client.run(ig.Generate(prompt="precious", seed=1))
    for target, export in (
        (tmp_path / "mine.ipynb", history.export_notebook),
        (tmp_path / "mine.jsonl", history.to_jsonl),
    ):
        target.write_text("my own work")
        with pytest.raises(FileExistsError, match="overwrite=True") as info:
            export(target)
        assert str(target) in str(info.value) and target.read_text() == "my own work"
        assert export(target, overwrite=True) == target and target.read_text() != "my own work"
    (tmp_path / "d").mkdir()
    history.export_notebook(tmp_path / "d")
    with pytest.raises(FileExistsError):  # the folder's runs.ipynb counts too
        history.export_notebook(tmp_path / "d")
