"""nbval runs of the notebooks here: offline, isolated, on this interpreter's kernel.

Why here and not in `tests/conftest.py`: nbval's items are not functions, so fixtures (even
autouse ones) never reach them, and a kernel inherits its environment when it starts. So:

* at configure time (before any kernel starts) the real keys, `IDEOGRAM_NB_PROVIDER` and
  `IDEOGRAM_NB_BASE_URL` leave the environment: a notebook run by pytest never touches the
  real API, whatever the machine has set;
* every notebook gets its own fresh, empty history folder (`IDEOGRAM_NB_HOME`) inside one
  temporary folder for the session, set just before its kernel starts: checked outputs never
  depend on the user's history or on which other notebooks ran first;
* the kernel is the interpreter running pytest (nbval's `--nbval-current-env`), unless a
  kernel was named on the command line: a `python3` kernelspec elsewhere on the machine
  (e.g. `~/.local/share/jupyter/kernels`) cannot swap in a Python without ideogram_nb.

Also ignored: the default history folder (`ideogram_runs/`) and notebooks exported into
this folder by the HistoryBrowser's default name, which are a user's data, not the tour.
Everything is restored when the session ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_KEYS = ("IDEOGRAM_API_KEY", "AIHUBMIX_API_KEY", "IDEOGRAM_NB_PROVIDER", "IDEOGRAM_NB_BASE_URL")
_HOME = "IDEOGRAM_NB_HOME"
_HERE = Path(__file__).resolve().parent

collect_ignore_glob = ["ideogram_runs", "ideogram_runs*.ipynb"]

_saved: dict[str, str | None] = {}
_state: dict[str, object] = {"root": None, "notebook": None}


def pytest_configure(config: pytest.Config) -> None:
    for name in (*_KEYS, _HOME):
        _saved[name] = os.environ.get(name)
    for name in _KEYS:
        os.environ.pop(name, None)
    root = Path(tempfile.mkdtemp(prefix="ideogram_nb_notebooks_"))
    _state["root"] = root
    os.environ[_HOME] = str(root / "session")  # until a notebook sets its own
    option = config.option
    if (
        getattr(option, "nbval_lax", False) or getattr(option, "nbval", False)
    ) and not getattr(option, "nbval_kernel_name", None):
        option.nbval_current_env = True


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    root = _state.get("root")
    if isinstance(root, Path):
        shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the first cell of a notebook (whose setup starts the kernel): a fresh history."""
    notebook = item.parent
    if notebook is None or not str(getattr(notebook, "path", "")).endswith(".ipynb"):
        return
    if _state["notebook"] is notebook:
        return
    _state["notebook"] = notebook
    root = _state["root"]
    assert isinstance(root, Path)
    home = Path(tempfile.mkdtemp(prefix=Path(str(notebook.path)).stem + "_", dir=root))
    os.environ[_HOME] = str(home)
    for name in _KEYS:  # in case a test in between set one
        os.environ.pop(name, None)
