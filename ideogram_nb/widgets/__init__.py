"""ideogram_nb.widgets: forms, result grids, the mask painter and the Studio, for Jupyter.

Every widget is a thin view over a pure-Python controller, so it builds and behaves the same
headless (pytest), in JupyterLab, Notebook 7 and Voilà. Only this package imports
ipywidgets/ipycanvas. It uses the core package's public API plus a short allow-list of private
modules (`_config`, `_callbacks`, `_specs._fields`), checked by `tests/test_architecture.py`.
"""

from __future__ import annotations

from ._before_after import BeforeAfter
from ._comparison_grid import ComparePanel, ComparisonGrid
from ._download import DownloadButton
from ._followup import use_form_factory
from ._form import SpecForm
from ._history_browser import HistoryBrowser
from ._large_view import LargeView, open_large_view
from ._painter import MaskPainter
from ._result_grid import ResultGrid
from ._studio import Studio

# The composition root: grids and browsers used on their own open prefilled forms of this
# class (`_followup`), without importing `_form` themselves (the form contains a grid).
use_form_factory(SpecForm)

__all__ = [
    "BeforeAfter",
    "ComparePanel",
    "ComparisonGrid",
    "DownloadButton",
    "HistoryBrowser",
    "LargeView",
    "MaskPainter",
    "ResultGrid",
    "SpecForm",
    "Studio",
    "open_large_view",
]
