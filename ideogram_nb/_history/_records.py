"""One call as the history keeps it (`RunRecord`), and how a record maps to a row.

Why apart from `History`: the exporters, the CLI and the client read records without the
database, and `History` imports the exporters; with the record here, no module imports the
history back. The listing's lazy decoding (`RunRecord.__getattr__`) lives here too, next to
the column order it depends on.
"""

from __future__ import annotations

import json
import json.scanner
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from .._errors import HistoryCorruptError

#: "unknown": the request was sent and the answer lost (read timeout, dropped mid-answer, a
#: gateway error): it may have been made and billed, so nothing re-sends it unless asked.
#: "pending": a v2 job was accepted (and may be billed) and has not finished; its row holds the
#: `generation_id`, so `Client.resume` finishes it without submitting again.
STATUSES = ("ok", "error", "unknown", "pending")
#: Statuses whose estimated cost is counted as possibly spent (not known to be billed or not).
POSSIBLY_SPENT = ("unknown", "pending")
#: How the error of a call's in-flight row begins (`_client.IN_FLIGHT_MESSAGE`): a row still
#: saying so after its process is gone stopped mid-call; `repair` settles it from its images.
IN_FLIGHT_PREFIX = "in flight:"


def utc_now_iso() -> str:
    """ISO-8601 UTC with microseconds and a fixed width, so text order is time order."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_run_id() -> str:
    """Time-sortable and readable in an error message: '20250101-120000-1a2b3c4d5e6f'.

    48 random bits: even 10,000 ids in one second collide with odds below one in a million.
    """
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)


@dataclass(kw_only=True)
class RunRecord:
    """One call as the history keeps it. JSON-safe: no key, no live objects."""

    run_id: str = field(default_factory=new_run_id)
    created_at: str = field(default_factory=utc_now_iso)
    provider: str
    endpoint: str
    spec: dict[str, Any]
    request_hash: str | None = None
    status: str = "ok"
    error: str | None = None
    error_type: str | None = None
    http_status: int | None = None
    attempts: int = 1
    latency_s: float | None = None
    cost_usd: float = 0.0
    #: {sha256 (None when withheld), seed, resolution, is_image_safe, prompt, style_type}
    images: list[dict[str, Any]] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    #: {field, sha256}: the image inputs exactly as sent
    inputs: list[dict[str, Any]] = field(default_factory=list)
    label: str | None = None
    replayed_from: str | None = None
    #: v2: the id of the asynchronous generation to poll (`Client.resume`), else None.
    generation_id: str | None = None
    #: v2: what the service said the call cost (`usage_cost_usd_micros` / 1e6), beside the
    #: estimate in `cost_usd`, never instead of it; None when it did not say.
    usage_cost_usd: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """A plain, deep-copied dict (what `History.to_records()` lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def __getattr__(self, name: str) -> Any:
        """Records listed by `History.runs()` decode their JSON fields (spec, images,
        descriptions, inputs) on first use: decoding every row was most of a listing's time."""
        d = self.__dict__
        row = d.get("_row")  # the listing's row, JSON texts last (`LIST_SELECT`)
        if row is None or name not in LIST_JSON_AT:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        for field_name, at in LIST_JSON_AT.items():  # all four at once: one slow call per record
            if field_name not in d:  # one assigned before it was read wins
                d[field_name] = decode_column(row[at], field_name, d.get("run_id"))
        del d["_row"]
        return d[name]

    def image_shas(self) -> list[str]:
        """Every stored image this run refers to: outputs, then inputs."""
        shas = [im.get("sha256") for im in self.images] + [i.get("sha256") for i in self.inputs]
        return [s for s in shas if s]


JSON_COLUMNS = ("spec", "images", "descriptions", "inputs")
COLUMNS = (
    "run_id", "created_at", "provider", "endpoint", "status", "prompt", "search_text", "spec",
    "request_hash", "error", "error_type", "http_status", "attempts", "latency_s", "cost_usd",
    "images", "descriptions", "inputs", "label", "replayed_from", "generation_id", "usage_cost_usd",
)  # fmt: skip
#: What a RunRecord holds; `prompt` and `search_text` exist only to be filtered on.
RECORD_COLUMNS = tuple(c for c in COLUMNS if c not in ("prompt", "search_text"))
SELECT = ", ".join(RECORD_COLUMNS)
#: `runs()` reads the JSON columns last: the others go straight into the record.
PLAIN_COLUMNS = tuple(c for c in RECORD_COLUMNS if c not in JSON_COLUMNS)
LIST_SELECT = ", ".join(PLAIN_COLUMNS + JSON_COLUMNS)
LIST_JSON_AT = {name: len(PLAIN_COLUMNS) + i for i, name in enumerate(JSON_COLUMNS)}
#: json's C scanner, called directly: `json.loads` adds a third in Python-level overhead.
#: (typeshed types the scanner's argument as the scanner class itself, hence the ignore.)
_scan_json: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def decode_json(text: str) -> Any:
    """`json.loads(text)` for the texts `History` writes (compact, one value), faster."""
    if text == "[]":
        return []
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError):  # not (only) JSON: json.loads raises its usual error
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def decode_column(text: Any, name: str, run_id: object) -> Any:
    """`decode_json` of one of a row's JSON columns. Text that does not parse means a damaged
    page that still reads as text: a `HistoryCorruptError` naming the run, not a bare
    `JSONDecodeError` from deep inside a listing."""
    try:
        return decode_json(text)
    except (TypeError, ValueError) as exc:
        raise HistoryCorruptError(
            f"run {run_id}: its {name} in the history database is garbled (a damaged page?); run "
            "`python -m ideogram_nb history check` on the history's folder, then `history repair`"
        ) from exc


def search_text_of(rec: RunRecord) -> str:
    """Everything a user might remember a run by: prompts (sent and returned), descriptions."""
    parts = [rec.spec.get("prompt"), rec.spec.get("negative_prompt"), rec.label]
    parts += [im.get("prompt") for im in rec.images] + list(rec.descriptions)
    return "\n".join(str(p) for p in parts if p)
