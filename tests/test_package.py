"""The package's shape: a sorted, complete `__all__`, and a core that never imports widgets."""

from __future__ import annotations

import subprocess
import sys

import ideogram_nb


def test_all_is_sorted_and_complete():
    assert ideogram_nb.__all__ == sorted(ideogram_nb.__all__)
    public = {n for n in dir(ideogram_nb) if not n.startswith("_")}
    modules = {"simulator", "widgets"}  # subpackages, imported on demand
    assert public - modules <= set(ideogram_nb.__all__), public - set(ideogram_nb.__all__)
    for name in ideogram_nb.__all__:
        assert hasattr(ideogram_nb, name), name


def test_design_contract_names_exist():
    for name in ["Generate", "Remix", "Edit", "Reframe", "ReplaceBackground", "LegacyGenerate",
                 "LegacyRemix", "LegacyEdit", "Upscale", "Describe", "Client", "History", "Mask",
                 "SpecError", "ReplayMiss", "read_metadata", "spec_from_image", "spec_from_dict"]:  # fmt: skip
        assert name in ideogram_nb.__all__, name


def test_core_import_does_not_import_widgets():
    code = (
        "import sys, ideogram_nb, ideogram_nb.simulator; "
        "bad = [m for m in ('ipywidgets', 'ipycanvas') if m in sys.modules]; "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_error_tree():
    assert issubclass(ideogram_nb.SpecError, ValueError)
    assert issubclass(ideogram_nb.AuthenticationError, ideogram_nb.APIStatusError)
    assert issubclass(ideogram_nb.APITimeoutError, ideogram_nb.APIConnectionError)
    assert issubclass(ideogram_nb.APIStatusError, ideogram_nb.APIError)
    assert issubclass(ideogram_nb.APIError, ideogram_nb.IdeogramError)


def test_version_matches_pyproject():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', text, re.M).group(1) == ideogram_nb.__version__
