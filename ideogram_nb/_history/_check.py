"""`History.check()` and `python -m ideogram_nb history check`: what is wrong with a history
on disk, found without changing a byte of it.

Why a check apart from repair: a history is the record of paid work, kept for months and
copied between machines; before trusting a copy (or after a crash, a full disk, a sync tool
that gave up half way) a user wants to know, and a script wants an exit code, without risking
anything. Problems (exit 1) are damage that loses information: a damaged database, a run that
cannot be read, an image a run names that is missing or whose bytes no longer match its
sha256. Notes (exit 0) are harmless or already known: images no run names (a call stopped
between storing its images and recording them), leftovers of interrupted writes, images that
`repair` already marked as gone.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config import DAMAGED_IMAGES_DIRNAME, HISTORY_DB_NAME, IMAGES_DIRNAME
from ._disk import repair_command
from ._records import RunRecord
from ._salvage import Salvage, open_readonly, salvage
from ._schema import MIGRATIONS
from ._store import THUMBS_DIRNAME, normalize_sha

#: The key `repair` sets on an image entry (of `images` or `inputs`) whose file is gone.
MISSING_MARK = "missing"
#: Lines of findings `summary()` shows per kind before "… and N more".
SUMMARY_LINES = 12


@dataclass(frozen=True)
class Finding:
    """One thing found. `problem`: information is lost or at risk; otherwise a note."""

    kind: str
    message: str
    problem: bool = True
    run_id: str | None = None
    sha256: str | None = None
    path: Path | None = None


@dataclass
class CheckReport:
    """What `check` found. `ok` is True when there are no problems (notes may remain)."""

    home: Path
    findings: list[Finding] = field(default_factory=list)
    #: runs read, images their rows name, files in the store, and whether hashes were checked
    runs: int = 0
    images: int = 0
    files: int = 0
    verified: bool = True

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.problem]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if not f.problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0: no problems; 1: problems found (the command line's exit status)."""
        return 0 if self.ok else 1

    def kinds(self, *, problems: bool = True) -> dict[str, int]:
        """How many findings of each kind (problems, or notes)."""
        counts: dict[str, int] = {}
        for f in self.findings:
            if f.problem == problems:
                counts[f.kind] = counts.get(f.kind, 0) + 1
        return counts

    def summary(self) -> str:
        """A report a person can read: the verdict, each finding (long lists cut), what to do."""
        problems, notes = self.problems, self.notes
        head = "no problems" if not problems else f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        if notes:
            head += f", {len(notes)} note{'' if len(notes) == 1 else 's'}"
        lines = [f"history {self.home}: {head}"]
        for label, group in (("problem", problems), ("note", notes)):
            shown: dict[str, int] = {}
            for f in group:
                shown[f.kind] = shown.get(f.kind, 0) + 1
                if shown[f.kind] <= SUMMARY_LINES:
                    lines.append(f"  {label}: {f.message}")
            for kind, n in shown.items():
                if n > SUMMARY_LINES:
                    lines.append(f"  {label}: … and {n - SUMMARY_LINES} more of kind '{kind}'")
        hashes = "sha256 verified" if self.verified else "sha256 not verified: --quick"
        lines.append(f"{self.runs} runs read · {self.images} images named ({hashes}) · {self.files} files in the store")
        if problems or any(f.kind == "orphan" for f in notes):
            lines.append(
                "To save what can be saved (nothing is deleted; a damaged database is kept aside): "
                + repair_command(self.home)
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<CheckReport {self.home}: {len(self.problems)} problems, {len(self.notes)} notes>"


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256, read in blocks; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def store_files(images_root: Path) -> Iterator[Path]:
    """Every file under the store except thumbnails and what repair set aside."""
    if not images_root.is_dir():
        return
    skip = {THUMBS_DIRNAME, DAMAGED_IMAGES_DIRNAME}
    for item in sorted(images_root.iterdir()):
        if item.is_dir():
            if item.name not in skip:
                yield from (p for p in sorted(item.rglob("*")) if p.is_file())
        elif item.is_file():
            yield item


def image_entries(rec: RunRecord) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, entry) for every stored image a run names: its outputs, then its inputs."""
    for d in rec.images:
        if d.get("sha256"):
            yield "output", d
    for d in rec.inputs:
        if d.get("sha256"):
            yield f"input {d.get('field') or ''}".strip(), d


def check_history(home: str | Path, *, verify_hashes: bool = True) -> CheckReport:
    """Read the history in `home` (never write it) and report every problem found."""
    home = Path(home)
    report = CheckReport(home=home, verified=verify_hashes)
    db = home / HISTORY_DB_NAME
    if not db.is_file():
        report.findings.append(Finding("database", f"no database file {db}: every run's record is gone", path=db))
        found = Salvage()
    else:
        with open_readonly(db) as conn:
            integrity = _integrity(conn)
            found = salvage(conn)
        _database_findings(report, db, found, integrity)
    _image_findings(report, home / IMAGES_DIRNAME, found, verify_hashes)
    return report


def _integrity(conn: sqlite3.Connection) -> list[str]:
    """SQLite's own integrity check: [] when sound, else its first messages."""
    try:
        rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    messages = [str(r[0]) for r in rows]
    return [] if messages == ["ok"] else messages


def _database_findings(report: CheckReport, db: Path, found: Salvage, integrity: list[str]) -> None:
    if found.unreadable:
        why = found.messages[0] if found.messages else "unreadable"
        report.findings.append(Finding("database", f"{db} cannot be read at all (SQLite: {why})", path=db))
        return
    if found.user_version is not None and found.user_version > len(MIGRATIONS):
        report.findings.append(Finding(
            "schema", f"{db} was written by a newer ideogram_nb (schema version {found.user_version}; this one "
            f"knows {len(MIGRATIONS)}): upgrade ideogram_nb, do not repair it with this one", path=db,
        ))  # fmt: skip
    if integrity:
        shown = "; ".join(integrity[:3]) + (" …" if len(integrity) > 3 else "")
        report.findings.append(Finding("database", f"{db} is damaged (SQLite integrity check: {shown})", path=db))
    for seq in found.lost_runs:
        facts = found.facts.get(seq, {})
        what = f"run {facts['run_id']}" if facts.get("run_id") else f"the run in row {seq}"
        known = ", ".join(str(facts[k]) for k in ("created_at", "endpoint", "status") if facts.get(k))
        report.findings.append(Finding(
            "run", f"{what}{f' ({known})' if known else ''} cannot be read: its row is damaged or on a damaged page",
            run_id=facts.get("run_id"),
        ))  # fmt: skip
    if found.lost_votes:
        report.findings.append(Finding("votes", f"{found.lost_votes} A/B vote(s) cannot be read"))
    report.runs = len(found.runs)


def _image_findings(report: CheckReport, images_root: Path, found: Salvage, verify: bool) -> None:
    hashes: dict[Path, str | None] = {}
    named: set[str] = set()
    for _seq, rec in found.runs:
        for where, entry in image_entries(rec):
            sha = normalize_sha(str(entry["sha256"])) or str(entry["sha256"])
            named.add(sha)
            path = _stored_path(images_root, sha)
            if path is None:
                if entry.get(MISSING_MARK):
                    report.findings.append(Finding(
                        "marked", f"run {rec.run_id}: {where} image sha256:{sha[:16]}… is gone (marked by repair "
                        f"{entry[MISSING_MARK]})", problem=False, run_id=rec.run_id, sha256=sha,
                    ))  # fmt: skip
                    continue
                report.findings.append(Finding(
                    "missing", f"run {rec.run_id}: {where} image sha256:{sha[:16]}… is missing from {images_root}",
                    run_id=rec.run_id, sha256=sha,
                ))  # fmt: skip
                continue
            if verify:
                if path not in hashes:
                    hashes[path] = sha256_of(path)
                if hashes[path] != sha:
                    size = path.stat().st_size if path.exists() else 0
                    report.findings.append(Finding(
                        "damaged", f"run {rec.run_id}: {where} image {path} is damaged: its {size} bytes do not "
                        "match its sha256 (truncated or overwritten)", run_id=rec.run_id, sha256=sha, path=path,
                    ))  # fmt: skip
    report.images = len(named)
    _store_findings(report, images_root, named)


def _stored_path(images_root: Path, sha: str) -> Path | None:
    folder = images_root / sha[:2]
    for candidate in sorted(folder.glob(f"{sha}.*")) if folder.is_dir() else []:
        if candidate.is_file():
            return candidate
    return None


def _store_findings(report: CheckReport, images_root: Path, named: set[str]) -> None:
    """Files no run names, leftovers of interrupted writes, files outside their shard."""
    orphans: list[Path] = []
    for path in store_files(images_root):
        report.files += 1
        stem = path.name.split(".", 1)[0]
        if path.name.startswith(".tmp-"):
            report.findings.append(Finding(
                "leftover", f"{path}: left by an interrupted write; repair puts it back if a run names its "
                "bytes (a rename lost in a power cut), else it is safe to delete while nothing uses the history",
                problem=False, path=path,
            ))  # fmt: skip
        elif normalize_sha(stem) is None:
            continue  # not a store file (a user's note, .DS_Store): none of our business
        elif path.parent.name != stem[:2] or path.parent.parent != images_root:
            report.findings.append(Finding(
                "misplaced", f"{path}: an image outside its folder ({stem[:2]}/); repair moves it", problem=False,
                path=path,
            ))  # fmt: skip
        elif stem not in named:
            orphans.append(path)
    for path in orphans:
        report.findings.append(Finding(
            "orphan", f"{path}: no run names this image (a call stopped between storing and recording it, or a "
            "lost row); repair rebuilds a run from it if it carries a run's record", problem=False, path=path,
        ))  # fmt: skip
