"""One self-contained HTML report of runs: what a colleague opens offline, in any browser.

Why one file with everything inline: a report is sent by mail or chat and opened without the
history or a network, so thumbnails are JPEG data URIs, the style is inline, there is no script
and no external link. Why each spec as Python: whoever reads the report can paste a cell into a
notebook and make the same request again (`spec_source`, as the exported notebooks do).
The comparison report (`_compare/_report.py`) builds on the pieces here.
"""

from __future__ import annotations

import base64
import difflib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from .._config import HTML_THUMBNAIL_JPEG_QUALITY, HTML_THUMBNAIL_PX
from .._specs._source import spec_source
from ._files import export_target, write_atomic
from ._leaderboard import BEST_KIND
from ._records import RunRecord

if TYPE_CHECKING:
    from ._database import History, RunFilters

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 4px 6px;
  vertical-align: top; text-align: left; font-size: 0.9em; }
mark { background: #ffe58a; } pre { background: #f6f8fa; padding: 8px; overflow-x: auto; }
.muted { color: #777; } img { display: block; margin: 2px 0; }
"""


def thumb_uri(store: Any, sha: str | None, px: int = HTML_THUMBNAIL_PX) -> str | None:
    """A stored image as an inline JPEG data URI (None: withheld or missing)."""
    if not sha or sha not in store:
        return None
    data = store.thumbnail(sha, px, HTML_THUMBNAIL_JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def marked_words(text: str, other: str | None) -> str:
    """`text` as HTML with the words `other` does not have in <mark> (all plain if no other)."""
    if other is None:
        return escape(text)
    a, b = other.split(), text.split()
    parts = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        words = escape(" ".join(b[j1:j2]))
        if words:
            parts.append(words if tag == "equal" else f"<mark>{words}</mark>")
    return " ".join(parts)


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless `raw` (then they are HTML already)."""
    cells = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells.append("<tr>" + "".join(f"<td>{c if raw else escape(_text(c))}</td>" for c in row) + "</tr>")
    return f"<table>{''.join(cells)}</table>"


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def votes_html(votes: Sequence[Mapping[str, Any]]) -> str:
    if not votes:
        return "<p class='muted'>No votes yet.</p>"
    rows = []
    for v in votes:
        meta = v.get("meta") or {}
        if meta.get("kind") == BEST_KIND:
            what = f"best of {', '.join(map(str, meta.get('values') or []))}: {meta.get('winner')}"
        else:
            pick = {"A": meta.get("a"), "B": meta.get("b")}.get(v["choice"], "tie")
            what = f"A = {meta.get('a')} vs B = {meta.get('b')}: {v['choice']} ({pick})"
        rows.append([v["created_at"][:19].replace("T", " "), meta.get("field"), what,
                     meta.get("line") or meta.get("legend") or "", meta.get("note") or ""])  # fmt: skip
    return table(["when (UTC)", "axis", "vote", "where", "note"], rows)


def leaderboard_html(field: str, rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return f"<p class='muted'>No votes on {escape(field)} yet.</p>"
    body = [
        [r["value"], f"{r['strength']:+.2f}", f"[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]", r["wins"], r["losses"],
         r["ties"], "yes" if r.get("ahead_of_next") else "not yet"]
        for r in rows
    ]  # fmt: skip
    note = ("<p class='muted'>Strength: Bradley–Terry log-odds against the average value (P(i beats j) = "
            "1/(1+e<sup>s<sub>j</sub>−s<sub>i</sub></sup>)); 95 % intervals. Overlapping intervals: too few "
            "votes to tell those values apart.</p>")  # fmt: skip
    return f"<h3>{escape(field)}</h3>" + table(["value", "strength", "95 % interval", "wins", "losses", "ties",
                                                 "settled above next"], body) + note  # fmt: skip


def scores_cells(scores: Sequence[Mapping[str, Any]], index: int) -> str:
    metrics = scores[index] if index < len(scores) else {}
    shown = [f"{escape(k)} {_text(v)}" for k, v in metrics.items() if v is not None]
    return "<br/>".join(shown) if shown else "<span class='muted'>not scored</span>"


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'/>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def write_page(path: str | Path, html: str, *, overwrite: bool) -> Path:
    target = export_target(path, ".html", add_suffix=True, overwrite=overwrite)
    write_atomic(target, html.encode("utf-8"))
    return target


def _run_row(history: History, rec: RunRecord, previous: str | None, scores: list[dict[str, Any]]) -> list[str]:
    prompt = rec.spec.get("prompt")
    text = marked_words(str(prompt), previous) if isinstance(prompt, str) else "<span class='muted'>—</span>"
    images = []
    for k, im in enumerate(rec.images):
        uri = thumb_uri(history.store, im.get("sha256"))
        tag = f"<img src='{uri}' alt='image {k}' width='{HTML_THUMBNAIL_PX}'/>" if uri else "<i>withheld</i>"
        images.append(f"{tag}<small>seed {escape(str(im.get('seed')))}</small><br/>{scores_cells(scores, k)}")
    outcome = rec.status if rec.ok else f"{rec.status}: {escape(rec.error or '')}"
    return [
        f"<code>{escape(rec.run_id)}</code><br/>{escape(rec.created_at[:19].replace('T', ' '))}",
        f"{escape(rec.endpoint)}<br/>${rec.cost_usd:.3f}<br/>{outcome}", text, "".join(images),
        f"<pre>{escape(spec_source(rec.spec))}</pre>",
    ]  # fmt: skip


def runs_html(history: History, records: Sequence[RunRecord]) -> str:
    """The runs as a table: thumbnails inline, words new since the previous prompt marked."""
    all_scores = history.scores([r.run_id for r in records])
    rows, previous = [], None
    for rec in records:
        rows.append(_run_row(history, rec, previous, all_scores.get(rec.run_id, [])))
        prompt = rec.spec.get("prompt")
        previous = prompt if isinstance(prompt, str) else previous
    return table(["run", "call", "prompt (new words marked)", "images and scores", "to reproduce"], rows, raw=True)


def voted_fields(votes: Iterable[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(v["meta"]["field"]) for v in votes if (v.get("meta") or {}).get("field")))


def history_report(
    history: History, path: str | Path, *, overwrite: bool = False, **filters: Unpack[RunFilters]
) -> Path:
    """Write the runs matching `filters` (oldest first), the votes on them and the leaderboards
    of the voted axes as one HTML file."""
    records = history.runs(newest_first=False, **filters)
    ids = {r.run_id for r in records}
    votes = [
        v for v in history.votes()
        if {v["a_run_id"], v["b_run_id"], *((v.get("meta") or {}).get("run_ids") or [])} & ids
    ]  # fmt: skip
    totals = history.totals(**filters)
    shown = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v is not None) or "all runs"
    setup = (
        f"<p>History <code>{escape(str(history.path))}</code> · {escape(shown)} · {totals['runs']} runs · "
        f"{totals['images']} images · ${totals['cost_usd']:.2f} estimated cost</p>"
        "<p class='muted'>To reproduce: <code>import ideogram_nb as ig; history = ig.History(…); "
        "client = ig.Client(history=history)</code>, then each run's code and <code>client.run(spec)</code>.</p>"
    )
    boards = "".join(leaderboard_html(f, history.leaderboard(f)) for f in voted_fields(votes))
    body = (
        f"<h1>ideogram_nb runs</h1>{setup}<h2>Runs</h2>{runs_html(history, records)}"
        f"<h2>Votes</h2>{votes_html(votes)}<h2>Leaderboard</h2>{boards or '<p class=muted>No votes yet.</p>'}"
    )
    return write_page(path, page("ideogram_nb runs", body), overwrite=overwrite)
