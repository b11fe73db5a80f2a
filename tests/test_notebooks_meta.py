"""The committed notebooks: valid, executed in order, nothing private or volatile inside.

nbval (`pytest --nbval-lax notebooks/`) checks that the notebooks *run* and that their checked
cells print the same facts. This checks what is *committed*: what a reader on GitHub or Binder
sees, and what a diff shows. The tour notebooks are written by `tools/build_notebooks.py`;
their cells must be exactly the generator's, so a hand edit cannot drift from it.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MAX_BYTES = 1_000_000
BINARY_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp", WIDGET_MIME)


def _committed() -> list[Path]:
    """Every notebook of the folder, but not a user's history or its exports (see conftest)."""
    return sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if not p.name.startswith("ideogram_runs"))


def _generator():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOTEBOOKS = _committed()
GENERATOR = _generator()
IDS = [p.name for p in NOTEBOOKS]

#: Volatile or private text that must never be in a committed output.
FORBIDDEN_IN_OUTPUTS = {
    "a run id": re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{12}\b"),
    "a temporary path": re.compile(
        r"(/tmp/|/var/folders/|/private/var/|\\AppData\\Local\\Temp|ideogram_nb_build_|ideogram_nb_notebooks_)"
    ),
    "a home directory": re.compile(r"(/home/[^/\s'\"]+/|/root/|/Users/[^/\s'\"]+/|C:\\Users\\)"),
    "a file URL": re.compile(r"file://"),
}
#: Anything shaped like a secret, in sources and outputs alike.
KEY_LIKE = {
    "an AiHubMix-style key": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "a key assigned in code": re.compile(
        r"(?i)(api[_-]?key|IDEOGRAM_API_KEY|AIHUBMIX_API_KEY)\s*[=:]\s*[\"'][^\"'\s]{12,}[\"']"
    ),
    "an Api-Key header": re.compile(r"(?i)Api-Key[\"']?\s*:\s*[\"']?(?!offline-simulator)[A-Za-z0-9_\-]{12,}"),
    "a bearer token": re.compile(r"(?i)bearer\s+[A-Za-z0-9_\-.]{16,}"),
}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output_texts(nb: nbformat.NotebookNode):
    """(cell number, text) of every textual output: streams, text mimes, error messages."""
    for n, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []):
            if "text" in out:
                yield n, _text(out["text"])
            for mime, value in out.get("data", {}).items():
                if mime not in BINARY_MIMES:
                    text = value if isinstance(value, (str, list)) else json.dumps(value)
                    # inline images (data URIs) are pixels, not text
                    yield n, re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "data:image", _text(text))
            if out.get("output_type") == "error":
                yield n, f"{out.get('ename')}: {out.get('evalue')}"


def _checked_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.split("\n", 1)[0].strip() == CHECK]


def test_the_tour_notebooks_are_all_there():
    names = {p.name for p in NOTEBOOKS}
    missing = [name for name in GENERATOR.NOTEBOOK_CELLS if name not in names]
    assert not missing, f"not built: {missing}; run `python tools/build_notebooks.py`"
    assert "01_quickstart.ipynb" in names  # `make demo` and the Binder link open it


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_valid_nbformat_4_with_cell_ids_and_a_python3_kernel(path):
    raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)  # warnings are errors here (pyproject), e.g. a missing cell id
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5)
    assert all(cell.get("id") for cell in nb.cells)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert len(raw.encode("utf-8")) < MAX_BYTES, f"{path.name} is {len(raw) // 1024} KB: show thumbnails, not PNGs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_executed_top_to_bottom_in_one_fresh_kernel_without_errors(path):
    nb = _read(path)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts, f"{path.name} has no code"
    assert None not in counts, f"{path.name}: cells {[i for i, c in enumerate(counts, 1) if c is None]} never ran"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run in order in one kernel: {counts}"
    errors = [(n, t) for n, t in _output_texts(nb) if t.startswith(("Traceback", "---------"))]
    assert not any(out.get("output_type") == "error" for c in nb.cells for out in c.get("outputs", []))
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_widget_state_or_timings_in_metadata(path):
    nb = _read(path)
    assert "widgets" not in nb.metadata, f"{path.name}: widget state is committed (metadata.widgets)"
    for n, cell in enumerate(nb.cells, start=1):
        assert "widgets" not in cell.metadata, f"{path.name} cell {n}: widget state in cell metadata"
        assert "execution" not in cell.metadata, f"{path.name} cell {n}: execution timings are committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_run_ids_paths_or_file_urls_in_outputs(path):
    found = [
        (n, what, m.group(0))
        for n, text in _output_texts(_read(path))
        for what, pattern in FORBIDDEN_IN_OUTPUTS.items()
        for m in [pattern.search(text)]
        if m
    ]
    assert not found, f"{path.name}: volatile or private text in outputs (cell, what, text): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nothing_that_looks_like_a_key(path):
    nb = _read(path)
    texts = [(n, c.source) for n, c in enumerate(nb.cells, start=1)] + list(_output_texts(nb))
    texts.append((0, json.dumps(nb.metadata)))
    found = [(n, what) for n, text in texts for what, pattern in KEY_LIKE.items() if pattern.search(text)]
    assert not found, f"{path.name}: key-looking text at (cell, kind): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_at_least_one_checked_cell_and_each_prints_something(path):
    nb = _read(path)
    checked = _checked_cells(nb)
    assert checked, f"{path.name}: no cell starts with {CHECK!r}, so nbval compares nothing in it"
    for cell in checked:
        printed = [o for o in cell.outputs if o.output_type in ("stream", "execute_result")]
        assert printed, f"{path.name}: the checked cell {cell.source[:60]!r} prints nothing to compare"
        assert not any(getattr(o, "name", "") == "stderr" for o in cell.outputs), (
            f"{path.name}: the checked cell {cell.source[:60]!r} writes to stderr (a warning?)"
        )


@pytest.mark.parametrize("name", list(GENERATOR.NOTEBOOK_CELLS))
def test_the_tour_notebooks_are_exactly_the_generators_cells(name):
    path = NOTEBOOK_DIR / name
    if not path.exists():
        pytest.fail(f"{name} is not built: run `python tools/build_notebooks.py {name[:2]}`")
    committed = [(c.cell_type, c.source) for c in _read(path).cells]
    assert committed == GENERATOR.NOTEBOOK_CELLS[name], (
        f"{name} differs from tools/build_notebooks.py: edit the generator, then rebuild it"
    )


def test_the_generator_strips_widget_state_and_run_ids():
    nb = GENERATOR.make_notebook([GENERATOR.code("x")])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00Z"}
    nb.cells[0].outputs = [
        nbformat.v4.new_output("execute_result", execution_count=1, data={
            "text/plain": "SpecForm(children=(HTML(value='<h4>Generate</h4>'),))",
            WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": "5f1e0c6a"},
        }),
        nbformat.v4.new_output("stream", name="stdout", text="<Result 20250101-120000-1a2b3c4d5e6f generate>\n"),
    ]  # fmt: skip
    GENERATOR.clean(nb)
    assert "widgets" not in nb.metadata and "execution" not in nb.cells[0].metadata
    widget, stream = nb.cells[0].outputs
    assert widget.data[WIDGET_MIME]["model_id"] == ""
    assert widget.data["text/plain"].startswith("[SpecForm: an interactive widget")
    assert stream.text == "<Result <run id> generate>\n"
