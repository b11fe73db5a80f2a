"""Write `notebooks/studio.ipynb` (the Studio that users open in Voilà or on Binder), executed
and cleaned exactly like the tour notebooks (`tools/build_notebooks.py`: offline, a fresh
history, widget state and run ids stripped).

    python tests/browser/make_studio_notebook.py

The browser tests open this very notebook in Voilà (test_browser_voila.py), so what a user
gets is what is tested; it has no hook for the tests.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "notebooks" / "studio.ipynb"

CELLS = [
    (
        "markdown",
        """\
# ideogram_nb Studio

Type a prompt in **Generate** and press **Run**: settings are on the left, results on the
right, newest first. Click a result for its next steps (remix, edit with a painted mask,
upscale, describe, reuse the seed, download); **Copy settings** gives the Python that makes
it again. **Compare** plans A/B and X/Y/Z grids and shows the cost before anything runs;
**History** keeps every run.

With no API key this runs on the built-in offline simulator: the images are synthetic and
nothing is billed. For the real service, pick the provider, paste your key and press **Use**
(the key stays in this kernel's memory only), or set `IDEOGRAM_API_KEY` or `AIHUBMIX_API_KEY`
before starting Jupyter.""",
    ),
    (
        "code",
        """\
# NBVAL_CHECK_OUTPUT
import ideogram_nb as ig
from ideogram_nb.widgets import Studio

studio = Studio()
n = len(studio.client.history)
print(f"Your run history holds {n} earlier run{'s' if n != 1 else ''} (see the History tab).")""",
    ),
    ("code", "studio"),
]


def _generator():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    gen = _generator()
    nb = gen.make_notebook(CELLS)
    gen.execute(nb)
    gen.clean(nb)
    nbformat.validate(nb)
    TARGET.write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
