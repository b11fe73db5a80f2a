"""`ideogram-nb history list|show|export|check|repair`: the run history from a terminal.

Why a command line: a history is a folder inside a project; looking into it, or turning runs
into a notebook for a colleague or for CI (`IDEOGRAM_NB_PROVIDER=replay jupyter execute …`),
should not need a notebook open; nor should finding out whether a copied or crashed history
is sound, and saving what can be saved when it is not. Exit codes follow argparse: 0 ok;
2 for a usage error, an unknown run, no history there, or a history from a newer version;
1 when the work itself failed (the file cannot be written, the history is damaged), when
`check` found problems, or when `repair` could not save everything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from ._config import ENV_HOME, HISTORY_DB_NAME, IMAGES_DIRNAME, PROVIDERS, home_dir
from ._errors import HistoryError, HistoryVersionError
from ._history._database import History
from ._history._records import STATUSES, RunRecord

PROG = "ideogram-nb"
DEFAULT_LIMIT = 20
EXPORT_SUFFIXES = (".ipynb", ".jsonl")


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    # `--home` is accepted before or after the subcommand; SUPPRESS keeps a later level's
    # default from overwriting a value given earlier.
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS,
                      help=f"history folder (default: ${ENV_HOME}, else ./ideogram_runs)")  # fmt: skip
    parser = argparse.ArgumentParser(prog=PROG, parents=[home], description="The ideogram_nb run history.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    history = commands.add_parser("history", parents=[home], help="list, show, export, check or repair recorded runs")
    actions = history.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", parents=[home], help="recorded runs, newest first")
    listing.add_argument("--endpoint", help="e.g. generate, remix, edit, upscale, describe")
    listing.add_argument("--provider", choices=PROVIDERS)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--text", help="search prompts, descriptions and labels")
    listing.add_argument("--label")
    listing.add_argument("--limit", type=_positive_int, default=DEFAULT_LIMIT, help=f"rows (default {DEFAULT_LIMIT})")
    listing.add_argument("--offset", type=_non_negative_int, default=0, help="skip this many rows first")
    listing.add_argument("--json", action="store_true", help="one JSON record per line instead of a table")

    show = actions.add_parser("show", parents=[home], help="one run's full record as JSON")
    show.add_argument("run_id", metavar="RUN_ID")

    export = actions.add_parser("export", parents=[home], help="runs as a re-runnable notebook or as JSON lines")
    export.add_argument("path", metavar="PATH", help="where to write: .ipynb (a notebook), .jsonl, or a folder")
    export.add_argument("--runs", metavar="ID,ID", help="only these runs, in this order (default: all, oldest first)")
    export.add_argument("--title", help="the notebook's title")
    export.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")

    check = actions.add_parser("check", parents=[home], help="look for damage (reads only); exit 1 if any")
    check.add_argument("--quick", action="store_true", help="do not re-hash the images (only check they exist)")

    repair = actions.add_parser("repair", parents=[home], help="save what can be saved of a damaged history")
    repair.add_argument("--search", metavar="DIR", action="append", default=[],
                        help="also look for missing images here, by hash (repeatable)")  # fmt: skip
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def open_history(home: str | None) -> History:
    """The history at `home` (default folder otherwise); a folder without one is an error,
    so a typo never leaves an empty history behind."""
    folder = Path(home).expanduser() if home else home_dir()
    if not (folder / HISTORY_DB_NAME).is_file():
        raise UsageError(f"no run history in {folder} (no {HISTORY_DB_NAME}); pass --home DIR or set {ENV_HOME}")
    return History(folder)


def history_folder(home: str | None) -> Path:
    """The folder `check` and `repair` work on: they must not need a database that opens (it
    may be the damaged part), only a folder that holds a history or what is left of one."""
    folder = Path(home).expanduser() if home else home_dir()
    if not (folder / HISTORY_DB_NAME).is_file() and not (folder / IMAGES_DIRNAME).is_dir():
        raise UsageError(f"no run history in {folder} (no {HISTORY_DB_NAME}, no {IMAGES_DIRNAME}/); "
                         f"pass --home DIR or set {ENV_HOME}")  # fmt: skip
    return folder


# --- commands ----------------------------------------------------------------------------------
def _when(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return created_at


def table_rows(records: Sequence[RunRecord]) -> list[list[str]]:
    rows = [["RUN ID", "WHEN (UTC)", "ENDPOINT", "PROVIDER", "STATUS", "IMAGES", "COST", "PROMPT / ERROR"]]
    for rec in records:
        text = rec.spec.get("prompt") or (rec.descriptions[0] if rec.descriptions else "")
        if rec.status == "unknown":  # sent, answer lost: say so first, the message is long
            text = f"POSSIBLY BILLED, not re-sent: {rec.error_type or 'OutcomeUnknownError'}: {rec.error or ''}"
        elif not rec.ok:
            text = f"{rec.error_type or 'error'}: {rec.error or ''}"
        rows.append([
            rec.run_id, _when(rec.created_at), rec.endpoint, rec.provider, rec.status,
            str(len(rec.images)), f"${rec.cost_usd:.3f}", " ".join(str(text).split()),
        ])  # fmt: skip
    return rows


def format_table(rows: list[list[str]], width: int) -> str:
    """Aligned columns; the last (free text) column is cut to fit the terminal."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lead = sum(widths) + 2 * len(widths)
    room = max(20, width - lead)
    lines = []
    for row in rows:
        text = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + text)
    return "\n".join(line.rstrip() for line in lines)


def cmd_list(history: History, args: argparse.Namespace, out: TextIO) -> int:
    filters: dict[str, Any] = {k: getattr(args, k) for k in ("endpoint", "provider", "status", "text", "label")}
    records = history.runs(**filters, limit=args.limit, offset=args.offset)
    if args.json:
        for rec in records:
            out.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
        return 0
    totals = history.totals(**filters)
    if records:
        # cut the prompts to the terminal's width; piped into grep or a file, keep them whole
        width = shutil.get_terminal_size((120, 24)).columns if out.isatty() else 10**6
        out.write(format_table(table_rows(records), width) + "\n")
    first = args.offset + 1 if records else 0
    shown = f"runs {first}–{args.offset + len(records)}" if records else "no runs"
    unknown = ""
    if totals.get("unknown"):
        n = totals["unknown"]
        runs = f"{n} outcome-unknown run{'' if n == 1 else 's'}"
        unknown = f" (incl. ${totals['unknown_usd']:.2f} possibly billed by {runs})"
    out.write(
        f"{shown} of {totals['runs']} · {totals['images']} images · ${totals['cost_usd']:.2f} "
        f"estimated{unknown} · {history.path}\n"
    )
    return 0


def cmd_show(history: History, args: argparse.Namespace, out: TextIO) -> int:
    try:
        rec = history[args.run_id]
    except KeyError:
        raise UsageError(f"no run {args.run_id!r} in {history.path}") from None
    out.write(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0


def cmd_export(history: History, args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.path)
    suffix = ".ipynb" if path.is_dir() else path.suffix.lower()  # a folder gets runs.ipynb inside it
    if suffix not in EXPORT_SUFFIXES:
        what = repr(suffix) if suffix else "a name without a suffix"
        raise UsageError(f"{args.path}: export writes .ipynb (a notebook) or .jsonl (JSON lines), not {what}")
    runs: list[str] | None = None
    if args.runs is not None:
        runs = [r.strip() for r in args.runs.split(",") if r.strip()]
        missing = [r for r in runs if r not in history]
        if not runs:
            raise UsageError("--runs is empty")
        if missing:
            raise UsageError(f"no run {', '.join(map(repr, missing))} in {history.path}")
    if suffix == ".ipynb":
        written = history.export_notebook(path, runs=runs, title=args.title, overwrite=args.overwrite)
    else:
        written = history.to_jsonl(path, runs=runs, overwrite=args.overwrite)
    count = len(runs) if runs is not None else len(history)
    out.write(f"wrote {written} ({count} run{'' if count == 1 else 's'})\n")
    return 0


def cmd_check(folder: Path, args: argparse.Namespace, out: TextIO) -> int:
    from ._history._check import check_history

    report = check_history(folder, verify_hashes=not args.quick)
    out.write(report.summary() + "\n")
    return report.exit_code


def cmd_repair(folder: Path, args: argparse.Namespace, out: TextIO) -> int:
    from ._history._repair import repair_history

    missing = [d for d in args.search if not Path(d).is_dir()]
    if missing:
        raise UsageError(f"--search {missing[0]}: not a folder")
    report = repair_history(folder, search=args.search)
    out.write(report.summary() + "\n")
    return 1 if report.lost or report.lost_votes or report.marked or report.unreadable_database else 0


_COMMANDS = {"list": cmd_list, "show": cmd_show, "export": cmd_export}
#: Commands that work on the folder, not on an opened `History` (its database may be damaged).
_FOLDER_COMMANDS = {"check": cmd_check, "repair": cmd_repair}


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (argparse's own exits are caught)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if args.action in _FOLDER_COMMANDS:
            return _FOLDER_COMMANDS[args.action](history_folder(getattr(args, "home", None)), args, out)
        history = open_history(getattr(args, "home", None))
        return _COMMANDS[args.action](history, args, out)
    except (UsageError, HistoryVersionError) as exc:
        err.write(f"{PROG}: {exc}\n")
        return 2
    except (HistoryError, OSError) as exc:  # damaged, full, read-only: the message says what to do
        err.write(f"{PROG}: {exc}\n")
        return 1
