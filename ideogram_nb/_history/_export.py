"""Runs as a notebook you can read, share and re-run; and as JSON lines for other tools.

Why a notebook: a run history is worth keeping because it can be run again. Each exported run
is a markdown cell (when, what, cost, seeds, outcome) and a code cell that rebuilds its spec
from plain literals (only the fields that differ from the defaults; image inputs referenced
from the history's image store), runs it and shows it.

Why no provider in the setup cell: the notebook's client follows `IDEOGRAM_NB_PROVIDER`, so
one file re-runs against the service, the offline simulator, or (`replay`) the history itself:
byte-identical images, nothing sent, nothing billed.

Why the returned seed is not written into the spec: replay keys on the request *as sent*
(`request_hash`), so a run sent without a seed must be rebuilt without one. The returned seeds
are in the markdown, and in each thumbnail's record, for whoever wants to pin them.

Why thumbnails: stored outputs are small JPEGs (a few kB, about 2 % of the full PNGs), so the
notebook stays light. Each carries the image's reproducible record in a JPEG comment, so
"Save image as…" from the notebook keeps it (`read_metadata`, `spec_from_image`).

Why a run whose outcome is unknown is not re-run by its cell: its request was sent and the
answer lost, so the service may already have made and billed it. Running the notebook must
not pay for it again behind the reader's back: the cell sends it only after the reader sets
`resend = True`, and the markdown says why.

Why deterministic: cell ids derive from run ids and the export time is recorded nowhere, so
exporting the same runs twice gives the same bytes (clean diffs under version control).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbformat import v4  # its builders and `nbformat.writes` are unannotated: calls below ignore no-untyped-call
from PIL import Image

from .._config import EXPORT_THUMBNAIL_PX
from .._specs._source import MAX_LINE, py_literal, spec_source  # noqa: F401  (MAX_LINE: re-exported)
from ._files import export_target, write_atomic
from ._leaderboard import BEST_KIND
from ._metadata import META_KEY, read_metadata, toolkit_version
from ._records import POSSIBLY_SPENT, RunRecord
from ._store import ImageStore

if TYPE_CHECKING:
    from ._database import History

#: A history at most this many folders up from the notebook is named relative to it (the
#: project travels as a whole); farther away, an absolute path is clearer.
MAX_PARENT_STEPS = 2
#: A JPEG comment segment holds at most 65533 bytes; a longer record is left out.
_MAX_COMMENT = 65533
_MD_SPECIAL = "\\`*_[]<>#|"
RunsArg = Iterable[Any] | None


# --- selecting runs --------------------------------------------------------------------------
def select_runs(history: History, runs: RunsArg = None) -> list[RunRecord]:
    """Every run (oldest first), or the given ones in the given order, each once.

    An item may be a `RunRecord`, a run id, a `Result` (anything with `.run_id`) or a record
    dict; an unknown id raises `KeyError` naming it.
    """
    if runs is None:
        return history.runs(newest_first=False)
    if isinstance(runs, (str, RunRecord)) or isinstance(runs, Mapping):
        runs = [runs]
    out: list[RunRecord] = []
    seen: set[str] = set()
    for item in runs:
        rec = item if isinstance(item, RunRecord) else history[_run_id(item)]
        if rec.run_id not in seen:
            seen.add(rec.run_id)
            out.append(rec)
    return out


def _run_id(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and isinstance(item.get("run_id"), str):
        return str(item["run_id"])
    run_id = getattr(item, "run_id", None)
    if isinstance(run_id, str):
        return run_id
    raise TypeError(f"cannot tell which run {item!r} is: give run ids, RunRecords or Results")


# --- code ------------------------------------------------------------------------------------
def history_ref(history_path: Path, notebook_dir: Path) -> str:
    """The history folder as a literal: relative to the notebook when close by, else absolute."""
    target, base = Path(history_path).resolve(), Path(notebook_dir).resolve()
    try:
        rel = Path(os.path.relpath(target, base))
    except ValueError:  # another drive (Windows): no relative path exists
        return py_literal(str(target))
    if rel.parts.count("..") > MAX_PARENT_STEPS:
        return py_literal(str(target))
    return py_literal(rel.as_posix())


def setup_source(history_literal: str, thumb_px: int = EXPORT_THUMBNAIL_PX) -> str:
    return f'''import ideogram_nb as ig
from IPython.display import Image, display

# The history these runs were recorded in. No provider is named here: the client follows
# IDEOGRAM_NB_PROVIDER, else whichever API key is set, else the offline simulator.
# With IDEOGRAM_NB_PROVIDER=replay every cell answers from this history: the same images,
# nothing sent, nothing billed.
history = ig.History({history_literal})
client = ig.Client(history=history)


def show(result, px={thumb_px}):
    """Small JPEG previews; the full images stay in history.store."""
    for text in result.descriptions:
        print(text)
    for image in result.images:
        if image.sha256:
            display(Image(history.store.thumbnail(image.sha256, px), format="jpeg"))
        else:
            print(f"image withheld by the service (seed {{image.seed}})")'''


def run_source(rec: RunRecord) -> str:
    """The cell that rebuilds and runs one recorded call.

    A recorded failure is wrapped, so the notebook runs on: the call may fail again, and
    under replay it has nothing to answer with (a failure has no recording: `ReplayMiss`).
    """
    label = f", label={py_literal(rec.label)}" if rec.label else ""
    lines = [spec_source(rec.spec), ""]
    if rec.status == "pending":  # a v2 job accepted (maybe billed): finish it, never submit it again
        return "\n".join(lines + [
            f"# A v2 job still pending when recorded (generation {rec.generation_id}): finishing it pays nothing",
            "# more; sending the spec again would start (and bill) a second job.",
            "try:",
            f"    result = client.resume({py_literal(rec.run_id)}).wait()",
            "    show(result)",
            "except ig.IdeogramError as error:",
            '    print(f"{type(error).__name__}: {error}")',
        ])  # fmt: skip
    if rec.status == "unknown":
        what = rec.error_type or "OutcomeUnknownError"
        return "\n".join(lines + [
            f"# Outcome unknown when recorded ({what}): the request was sent and the answer lost, so",
            "# the service may already have made and billed it. Sending it again may pay twice:",
            "# this cell does so only if you set resend = True.",
            "resend = False",
            "if resend:",
            "    try:",
            f"        result = client.run(spec{label}, resend_unknown=True)",
            "        show(result)",
            "    except ig.IdeogramError as error:",
            '        print(f"{type(error).__name__}: {error}")',
            "else:",
            f'    print("not sent again: run {rec.run_id} may already have been billed; set resend = True to send it")',
        ])  # fmt: skip
    if rec.ok:
        lines += [f"result = client.run(spec{label})", "show(result)"]
    else:
        what = rec.error_type or "an error"
        lines += [
            "try:",
            f"    result = client.run(spec{label})",
            "    show(result)",
            f"except ig.IdeogramError as error:  # failed when recorded ({what}); replay: ReplayMiss",
            '    print(f"{type(error).__name__}: {error}")',
        ]
    return "\n".join(lines)


# --- markdown --------------------------------------------------------------------------------
def _md(text: object) -> str:
    """Plain text that renders as itself in markdown, on one line."""
    out = " ".join(str(text).split())
    for ch in _MD_SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return out


def _when(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return created_at


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_markdown(rec: RunRecord, number: int, newer_twin: str | None = None) -> str:
    """When, what, cost, seeds and outcome of one run: what a reader scans for."""
    cost = f"${rec.cost_usd:.3f}" + (" possibly billed" if rec.status in POSSIBLY_SPENT else "")
    facts = [f"run `{rec.run_id}`", f"via **{_md(rec.provider)}**", cost]
    if rec.ok:
        n = len(rec.descriptions) if rec.endpoint == "describe" else len(rec.images)
        facts.append(_plural(n, "description" if rec.endpoint == "describe" else "image"))
    if rec.latency_s is not None:
        facts.append(f"{rec.latency_s:.2f} s")
    items = [" · ".join(facts)]
    seeds = [im.get("seed") for im in rec.images]
    if seeds:
        shown = ", ".join("?" if s is None else str(s) for s in seeds)
        if rec.spec.get("seed") is None:
            items.append(
                f"seeds {shown}, returned by the service: the spec leaves `seed` empty, as it was "
                "sent, so replay finds this run (add `seed=` to pin one)"
            )
        else:
            items.append(f"seeds {shown}")
    withheld = sum(1 for im in rec.images if not im.get("sha256"))
    if withheld:
        items.append(f"{_plural(withheld, 'image')} withheld by the service's safety check")
    if rec.label:
        items.append(f"label **{_md(rec.label)}**")
    if rec.replayed_from:
        items.append(f"replayed from run `{rec.replayed_from}`")
    if newer_twin:
        items.append(f"run `{newer_twin}` later made the same request: replay answers with its images")
    if rec.status == "unknown":
        status = f" (HTTP {rec.http_status})" if rec.http_status else ""
        items.append(
            f"**outcome unknown, possibly billed**: {_md(rec.error_type or 'OutcomeUnknownError')}{status}: "
            f"{_md(rec.error or '')}"
        )
        items.append("the cell does **not** send it again unless you set `resend = True` (it may be paid twice)")
    elif not rec.ok:
        status = f" (HTTP {rec.http_status})" if rec.http_status else ""
        items.append(f"**failed**: {_md(rec.error_type or 'error')}{status}: {_md(rec.error or '')}")
        items.append("the cell catches the error so the notebook runs on; under replay it reports `ReplayMiss`")
    head = f"### {number}. {rec.endpoint} · {_when(rec.created_at)}"
    return head + "\n\n" + "\n".join(f"- {item}" for item in items)


def title_markdown(title: str, records: list[RunRecord], history_literal: str) -> str:
    images = sum(len(r.images) for r in records)
    failed = sum(1 for r in records if r.status == "error")
    unknown = [r for r in records if r.status in POSSIBLY_SPENT]
    cost = sum(r.cost_usd for r in records)
    outcome = f"{failed} failed" + (f", {len(unknown)} outcome unknown" if unknown else "")
    summary = f"{_plural(len(records), 'run')} ({outcome}) · {_plural(images, 'image')} · ${cost:.2f} estimated"
    if unknown:
        summary += f" (of which ${sum(r.cost_usd for r in unknown):.2f} possibly billed)"
    return (
        f"# {_md(title)}\n\n{summary}, from the history `{json.loads(history_literal)}`.\n\n"
        "Each run is a cell that rebuilds its request and runs it. Executed with "
        "`IDEOGRAM_NB_PROVIDER=replay` (e.g. `IDEOGRAM_NB_PROVIDER=replay jupyter execute "
        "this.ipynb`) it reproduces every image from the history, byte for byte, at no cost; "
        "with an API key set it makes new, billed calls."
    )


# --- outputs ---------------------------------------------------------------------------------
def insert_jpeg_comment(jpeg: bytes, text: bytes) -> bytes:
    """Add a COM segment after the JFIF header, without re-encoding a single pixel."""
    if not jpeg.startswith(b"\xff\xd8") or len(text) > _MAX_COMMENT:
        return jpeg
    at = 2
    if jpeg[2:4] == b"\xff\xe0":  # keep APP0 (JFIF) first, where decoders look for it
        at = 4 + int.from_bytes(jpeg[4:6], "big")
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return jpeg[:at] + segment + jpeg[at:]


def _image_record(store: ImageStore, sha: str, rec: RunRecord, image: Mapping[str, Any]) -> dict[str, Any]:
    """The record embedded in the stored image (read without decoding), else rebuilt."""
    path = store.path(sha)
    if path is not None:
        try:
            with Image.open(path) as im:
                raw = im.info.get(META_KEY)  # PNG text before the pixels: no decode needed
            if isinstance(raw, str):
                record: dict[str, Any] = json.loads(raw)  # written by `put_output`: always an object
                return record
            return read_metadata(path)
        except (OSError, ValueError):
            pass
    return {
        "endpoint": rec.endpoint, "spec": rec.spec, "seed": image.get("seed"),
        "resolution": image.get("upscaled_resolution") or image.get("resolution"),
        "prompt": image.get("prompt"), "provider": rec.provider, "version": toolkit_version(),
    }  # fmt: skip


def thumbnail_with_record(
    store: ImageStore, sha: str, rec: RunRecord, image: Mapping[str, Any], px: int = EXPORT_THUMBNAIL_PX
) -> bytes:
    """The store's cached JPEG thumbnail plus the image's record as a JPEG comment."""
    meta = _image_record(store, sha, rec, image)
    text = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return insert_jpeg_comment(store.thumbnail(sha, px), text.encode("ascii"))


def _stream(text: str) -> Any:
    return v4.new_output("stream", name="stdout", text=text)  # type: ignore[no-untyped-call]  # nbformat


def run_outputs(store: ImageStore, rec: RunRecord, px: int = EXPORT_THUMBNAIL_PX) -> list[Any]:
    """What running the cell printed and showed, as `show()` would: thumbnails, not PNGs."""
    if not rec.ok:
        status = f"HTTP {rec.http_status}: " if rec.http_status else ""
        return [_stream(f"{rec.error_type or 'APIError'}: {status}{rec.error or ''} (run {rec.run_id})\n")]
    outputs: list[Any] = []
    if rec.descriptions:
        outputs.append(_stream("".join(f"{text}\n" for text in rec.descriptions)))
    for image in rec.images:
        sha = image.get("sha256")
        if not sha:
            outputs.append(_stream(f"image withheld by the service (seed {image.get('seed')})\n"))
        elif sha not in store:
            outputs.append(_stream(f"image sha256:{sha} is missing from the image store\n"))
        else:
            data = base64.b64encode(thumbnail_with_record(store, sha, rec, image, px)).decode("ascii")
            outputs.append(v4.new_output(  # type: ignore[no-untyped-call]  # nbformat
                "display_data", data={"image/jpeg": data, "text/plain": "<IPython.core.display.Image object>"},
            ))  # fmt: skip
    return outputs


# --- votes and scores travel with the runs ---------------------------------------------------
def decisions(history: History, records: list[RunRecord]) -> dict[str, dict[str, Any]]:
    """{run_id: {"votes": [...], "scores": [...]}} for the runs that have any: the latest votes
    that judged a run (A/B side or a "best of" line) and its stored scores, one dict per image."""
    ids = {r.run_id for r in records}
    out: dict[str, dict[str, Any]] = {}
    for run_id, scores in history.scores(list(ids)).items():
        out.setdefault(run_id, {})["scores"] = scores
    for vote in history.votes(latest=True):
        judged = {vote["a_run_id"], vote["b_run_id"], *((vote.get("meta") or {}).get("run_ids") or [])}
        for run_id in judged & ids:
            out.setdefault(run_id, {}).setdefault("votes", []).append(vote)
    return out


def decisions_markdown(found: dict[str, Any]) -> str:
    """Markdown items for one run's votes and scores (empty when it has neither)."""
    items = []
    for vote in found.get("votes", []):
        meta = vote.get("meta") or {}
        if meta.get("kind") == BEST_KIND:
            items.append(f"picked best {_md(meta.get('field'))}: {_md(meta.get('winner'))} of "
                         f"{_md(', '.join(map(str, meta.get('values') or [])))}")  # fmt: skip
        else:
            note = f", note: {_md(meta['note'])}" if meta.get("note") else ""
            sides = f"{_md(meta.get('a'))} vs {_md(meta.get('b'))}"
            items.append(f"A/B vote on {_md(meta.get('field'))} ({sides}): {vote['choice']}{note}")
    for k, metrics in enumerate(found.get("scores", [])):
        shown = ", ".join(f"{m} {v:.3g}" for m, v in metrics.items() if v is not None)
        if shown:
            items.append(f"scores of image {k + 1}: {_md(shown)}")
    return "".join(f"\n- {item}" for item in items)


# --- the notebook ----------------------------------------------------------------------------
def _newer_twin(history: History, rec: RunRecord) -> str | None:
    """The run replay would answer with instead of this one, when its images differ."""
    if not rec.ok or not rec.request_hash:
        return None
    found = history.find_replay(rec.request_hash)
    if found is None or found.run_id == rec.run_id:
        return None
    mine = [im.get("sha256") for im in rec.images]
    return None if [im.get("sha256") for im in found.images] == mine else found.run_id


def build_notebook(
    history: History, records: list[RunRecord], *, notebook_dir: Path, title: str | None = None
) -> nbformat.NotebookNode:
    """The notebook for `records`, validated; nothing is written."""
    literal = history_ref(history.path, notebook_dir)
    title = title or f"ideogram_nb runs from {history.path.resolve().name}"
    nb: nbformat.NotebookNode = v4.new_notebook()  # type: ignore[no-untyped-call]  # nbformat
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
        "ideogram_nb": {"version": toolkit_version(), "history": json.loads(literal), "runs": len(records)},
    })  # fmt: skip
    cells = [
        v4.new_markdown_cell(title_markdown(title, records, literal), id="title"),  # type: ignore[no-untyped-call]
        v4.new_code_cell(setup_source(literal), id="setup"),  # type: ignore[no-untyped-call]  # nbformat
    ]
    judged = decisions(history, records)
    for number, rec in enumerate(records, start=1):
        meta = {"ideogram_nb": {"run_id": rec.run_id, "request_hash": rec.request_hash, "status": rec.status}}
        markdown = run_markdown(rec, number, _newer_twin(history, rec)) + decisions_markdown(judged.get(rec.run_id, {}))
        cells.append(v4.new_markdown_cell(markdown, id=f"{rec.run_id}-md"[:64]))  # type: ignore[no-untyped-call]
        code = v4.new_code_cell(run_source(rec), id=f"{rec.run_id}-code"[:64], metadata=meta)  # type: ignore[no-untyped-call]
        code.outputs = run_outputs(history.store, rec)
        cells.append(code)
    nb.cells = cells
    nbformat.validate(nb)
    return nb


def export_notebook(
    history: History, path: str | Path, runs: RunsArg = None, title: str | None = None, *, overwrite: bool = False
) -> Path:
    """Write the runs as a notebook at `path` (atomically) and return the path (see
    `export_target`: a folder gets `runs.ipynb`; an existing file needs `overwrite`)."""
    target = export_target(path, ".ipynb", add_suffix=True, overwrite=overwrite)
    records = select_runs(history, runs)
    nb = build_notebook(history, records, notebook_dir=target.absolute().parent, title=title)
    write_atomic(target, nbformat.writes(nb, version=4).encode("utf-8"))  # type: ignore[no-untyped-call]  # nbformat
    return target


def to_jsonl(history: History, path: str | Path, runs: RunsArg = None, *, overwrite: bool = False) -> Path:
    """One run per line (the `to_records()` dicts), oldest first unless `runs` orders them; a run
    that was voted on or scored also carries `votes` and `scores` (see `decisions`)."""
    target = export_target(path, ".jsonl", add_suffix=False, overwrite=overwrite)
    records = select_runs(history, runs)
    judged = decisions(history, records)
    lines = [json.dumps({**rec.to_dict(), **judged.get(rec.run_id, {})}, ensure_ascii=False) + "\n" for rec in records]
    write_atomic(target, "".join(lines).encode("utf-8"))
    return target
