"""The checkers CI runs (`make lint`) pass here too: `ruff check` and `mypy`, as configured in
pyproject.toml. A failure shows the checker's own report, so it reads like running it by hand.

Skipped only when the checker is not installed (`pip install -e ".[dev]"` brings both).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What `make lint` checks with ruff.
RUFF_PATHS = ("ideogram_nb", "tests", "benchmarks", "tools")


def _run(module: str, *args: str, timeout: float) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this environment ({sys.executable}); "
                    f'`pip install -e ".[dev]"` brings it')  # fmt: skip
    command = [sys.executable, "-m", module, *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(
            f"`{' '.join(command[1:])}` exited with {done.returncode}:\n{done.stdout}{done.stderr}",
            pytrace=False,
        )


def test_ruff_check_passes():
    _run("ruff", "check", *RUFF_PATHS, timeout=300)


def test_mypy_passes():
    # no arguments: mypy reads `files`, strictness and the widgets override from pyproject.toml
    _run("mypy", timeout=900)


def test_ruff_format_check_passes():
    """The code is as `ruff format` leaves it (a `# fmt: skip` keeps a hand-laid table only
    where formatting would change it; markers that changed nothing were removed)."""
    _run("ruff", "format", "--check", *RUFF_PATHS, timeout=300)
