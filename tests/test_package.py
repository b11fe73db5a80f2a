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


def test_plain_import_leaves_httpx_numpy_and_pillow_to_first_use():
    """`import ideogram_nb` (and building a spec) stays cheap; the heavy libraries load with
    the names that need them, which then work as if imported eagerly."""
    code = (
        "import sys, ideogram_nb as ig; ig.Generate(prompt='a fox'); ig.History; ig.RunRecord; "
        "heavy = ('httpx', 'numpy', 'PIL', 'ipywidgets', 'ipycanvas'); "
        "print(sorted(m for m in heavy if m in sys.modules)); "
        "assert ig.Client.__module__ == 'ideogram_nb' and 'Client' in dir(ig); "
        "assert 'httpx' in sys.modules; "
        "assert ig.Mask.__module__ == 'ideogram_nb' and 'numpy' in sys.modules; "
        "assert ig.compare.__module__ == ig.Comparison.__module__ == ig.PromptSR.__module__ == 'ideogram_nb'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "[]"


def test_lazy_names_are_attributes_like_the_rest():
    assert "Client" in dir(ideogram_nb) and hasattr(ideogram_nb, "Client")
    assert ideogram_nb.Client is ideogram_nb._client.Client
    assert not hasattr(ideogram_nb, "NoSuchName")
    namespace: dict[str, object] = {}
    exec("from ideogram_nb import *", namespace)  # noqa: S102
    assert set(ideogram_nb.__all__) <= set(namespace)


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
