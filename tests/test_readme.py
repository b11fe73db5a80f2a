"""The README's Python examples run as written (on the offline simulator)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import ideogram_nb as ig

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert len(blocks) >= 4
    namespace: dict[str, object] = {}
    for block in blocks:
        code = compile(block, "README.md", "exec")
        if "# SpecError" in block:  # an example of the error a user sees
            with pytest.raises(ig.SpecError) as info:
                exec(code, namespace)
            shown = [line.strip("# ").strip() for line in block.splitlines() if line.startswith("#   - ")]
            assert shown and all(line in str(info.value) for line in shown), str(info.value)
        else:
            exec(code, namespace)
    assert (tmp_path / "grid.png").exists() and (tmp_path / "session.ipynb").exists()


def test_make_demo_opens_a_git_ignored_copy_of_the_quickstart_and_leaves_tracked_files_alone(tmp_path):
    """`make demo` (with an `echo` for Python, so no server starts) in a scratch clone: the
    notebook JupyterLab opens and its root are outside the tracked files, and running the demo
    twice, then "using" the copy, leaves `git status` clean."""
    if shutil.which("make") is None or shutil.which("git") is None:
        pytest.skip("make and git are needed to run the Makefile")
    root = README.parent
    for name in ("Makefile", ".gitignore", "pyproject.toml"):
        shutil.copy(root / name, tmp_path / name)
    shutil.copytree(root / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tour"], cwd=tmp_path, check=True)

    def demo() -> str:
        done = subprocess.run(["make", "-s", "-o", ".venv/.installed", "demo", "PY=echo"], cwd=tmp_path,
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout

    demo()
    launch = demo().strip().splitlines()[-1].split()
    opened = tmp_path / launch[-1]
    served = tmp_path / next(a.split("=", 1)[1] for a in launch if a.startswith("--ServerApp.root_dir="))
    assert launch[:2] == ["-m", "jupyterlab"]
    assert (
        opened.name == "01_quickstart.ipynb" and opened.read_bytes() == (root / "notebooks" / opened.name).read_bytes()
    )
    assert opened.parent == served != tmp_path / "notebooks"
    opened.write_text("{}")  # the user runs and saves it
    (served / "ideogram_runs").mkdir()
    assert demo()  # a second demo keeps the user's copy
    assert opened.read_text() == "{}"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert status.stdout == ""
    tracked = subprocess.run(["git", "ls-files"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert str(opened.relative_to(tmp_path)) not in tracked.stdout.split()
