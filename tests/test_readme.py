"""The README's Python examples run as written (on the offline simulator)."""

from __future__ import annotations

import re
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
