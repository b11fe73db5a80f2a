"""One recorded run in words, for a row of the history browser: what, when, where, cost,
outcome, prompt, label, error, seeds.

Why apart from the browser: the words of a row are a pure function of its record, testable
on their own; the browser only lays rows out beside their thumbnails and buttons.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

import ideogram_nb as ig

PROMPT_CHARS = 160
OK_COLOUR, ERROR_COLOUR, _MUTED, _UNKNOWN = "#1b5e20", "#b00020", "#555", "#b45f06"
PENDING_COLOUR = "#1565c0"
#: What a run's status says, in the row's colour: "unknown" must read as money at risk.
_STATUS_SHOWN = {
    "ok": ("ok", OK_COLOUR),
    "error": ("error", ERROR_COLOUR),
    "unknown": ("outcome unknown: possibly billed", _UNKNOWN),
    "pending": ("job running upstream (accepted, billed)", PENDING_COLOUR),
}


def _when(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return created_at


def _short(text: str, n: int = PROMPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def row_html(rec: ig.RunRecord) -> str:
    """One run in words: what, when, where, cost, outcome, prompt, label, error."""
    shown, colour = _STATUS_SHOWN.get(rec.status, (rec.status, ERROR_COLOUR))
    status = f"<span style='color:{colour}'>{escape(shown)}</span>"
    if rec.status in ("unknown", "pending"):
        status = f"<b>{status}</b>"
    count = len(rec.descriptions) if rec.endpoint == "describe" else len(rec.images)
    noun = "description" if rec.endpoint == "describe" else "image"
    head = " · ".join([
        f"<b>{escape(rec.endpoint)}</b>", escape(_when(rec.created_at)), escape(rec.provider),
        f"${rec.cost_usd:.3f}", f"{count} {noun}{'' if count == 1 else 's'}", status,
    ])  # fmt: skip
    if rec.label:
        head += f" <span style='background:#e3f2fd;padding:0 4px;border-radius:3px'>{escape(rec.label)}</span>"
    lines = [f"<div>{head}</div>"]
    prompt = rec.spec.get("prompt") or (rec.descriptions[0] if rec.descriptions else "")
    if prompt:
        lines.append(f"<div style='color:{_MUTED}'>{escape(_short(str(prompt)))}</div>")
    if rec.status == "pending":
        lines.append(
            f"<div style='color:{PENDING_COLOUR}'>v2 job {escape(str(rec.generation_id))}: Resume polls it and "
            "fetches its images when done; nothing is sent again</div>"
        )
    elif not rec.ok:
        code = f" (HTTP {rec.http_status})" if rec.http_status else ""
        error = f"{rec.error_type or 'error'}{code}: {rec.error or ''}"
        lines.append(f"<div style='color:{colour}'>{escape(error)}</div>")
    seeds = [str(im.get("seed")) for im in rec.images if im.get("seed") is not None]
    extra = f" · seeds {', '.join(seeds)}" if seeds else ""
    lines.append(f"<small style='color:{_MUTED}'>run {escape(rec.run_id)}{escape(extra)}</small>")
    return "".join(lines)
