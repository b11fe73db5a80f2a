"""A comparison as one HTML file to send: set-up, cost, grid, votes, scores, leaderboard, code.

Why here and not in `_rendering`: the report reads the history (votes, scores, every other
comparison's votes for the leaderboard) while rendering only reads the grid. The page pieces
shared with `History.to_html` live in `_history/_report.py`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._history._report import leaderboard_html, marked_words, page, table, votes_html, write_page
from .._scoring import METRICS
from .._specs._source import py_literal, spec_source

if TYPE_CHECKING:
    from ._comparison import Comparison


def reproduce_source(cmp: Comparison) -> str:
    """`base = ig.Generate(...)` and the `ig.compare(...)` call that plans the same cells."""
    setup = cmp.setup()
    lines = [spec_source(setup["base"], var="base")]
    if setup.get("seed") is not None:
        lines.append(f"base = base.copy(seed={setup['seed']})")
    args = []
    for axis in setup["axes"]:
        sr = axis.get("sr")
        if sr:
            value = f"ig.PromptSR({py_literal(sr['search'])}, {py_literal(sr['replacements'])})"
        else:
            value = py_literal(axis["values"])
        args.append(f"{axis['field']}={value}")
    lines.append(f"comparison = ig.compare(base, {', '.join(args)})")
    lines.append("comparison.run()")
    return "\n".join(lines)


def _axes_html(cmp: Comparison) -> str:
    rows = []
    for name, axis in zip(("x", "y", "page"), cmp.axes, strict=False):
        labels = list(axis.labels)
        if axis.field.endswith("prompt") and isinstance(axis.values[0], str):
            first = axis.values[0]
            shown = [escape(labels[0])] + [marked_words(str(v), first) for v in axis.values[1:]]
        else:
            shown = [escape(label) for label in labels]
        rows.append([name, escape(axis.field), "<br/>".join(shown)])
    return table(["axis", "field", "values (words that differ from the first marked)"], rows, raw=True)


def _scores_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p class='muted'>No finished cells to score.</p>"
    used = [m for m in METRICS if any(r.get(m) is not None for r in rows)]
    body = [[r["legend"], r["image_index"], *(r.get(m) for m in used)] for r in rows]
    note = "<p class='muted'>Metrics that apply to no image are left out; definitions in docs/comparisons.md.</p>"
    return table(["cell", "image", *used], body) + note


def comparison_report(cmp: Comparison, path: str | Path, *, overwrite: bool = False, score: bool = True) -> Path:
    """Write the report (see `Comparison.to_html`); `score=False` shows stored scores only."""
    history = cmp._client().history
    tally = ""
    if cmp.is_ab:
        t = cmp.tally()
        tally = (f"<p>Tally: A ({escape(t['a'])}) {t['A']} · B ({escape(t['b'])}) {t['B']} · tie {t['tie']} · "
                 f"unvoted {t['unvoted']} of {t['pairs']} pairs</p>")  # fmt: skip
    counts = ", ".join(f"{n} {k}" for k, n in cmp.counts().items() if n)
    setup = (
        f"<p>Comparison <code>{escape(cmp.id)}</code> · {escape(type(cmp.base).__name__)} · "
        f"{cmp.n_calls} calls · {cmp.n_images} images · {escape(counts)} · seed {escape(str(cmp.seed))}</p>"
        f"<p>Cost: estimated ${cmp.estimate_cost():.2f}, spent ${cmp.spent_usd:.2f}"
        + (f", budget ${cmp.budget_usd:.2f}" if cmp.budget_usd is not None else "")
        + "</p>"
    )
    fields = [a.field for a in cmp.axes if a.field != "seed"]
    boards = "".join(leaderboard_html(f, history.leaderboard(f)) for f in fields)
    scores = cmp.scores() if score else cmp.scores(compute=False)
    body = (
        f"<h1>Comparison {escape(cmp.id)}</h1>{setup}{_axes_html(cmp)}"
        f"<h2>Grid</h2>{cmp.rendering.html()}"
        f"<h2>Votes</h2>{tally}{votes_html(cmp.votes())}"
        f"<h2>Scores</h2>{_scores_html(scores)}"
        f"<h2>Leaderboard (every vote in the history)</h2>{boards or '<p class=muted>No axis to rank.</p>'}"
        f"<h2>How to reproduce</h2><pre>import ideogram_nb as ig\n\n{escape(reproduce_source(cmp))}</pre>"
    )
    return write_page(path, page(f"Comparison {cmp.id}", body), overwrite=overwrite)
