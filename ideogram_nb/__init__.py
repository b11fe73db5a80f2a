"""ideogram_nb: the Ideogram image API, made a pleasure to use in Jupyter.

One declarative spec per endpoint (`Generate`, `Edit`, …) validates before money is spent,
becomes the wire request, estimates its cost and renders as a form (`ideogram_nb.widgets`).
A `Client` runs specs and records every call in a `History`; with no key it runs on the
built-in offline simulator. This module never imports ipywidgets or ipycanvas.

Importing it is cheap: `Client`, `compare`/`Comparison`/`PromptSR` and `Mask` load (with
httpx, numpy and Pillow) on first use (PEP 562 `__getattr__` below), and the modules imported
here leave Pillow and numpy to the functions that decode images.
"""

import importlib as _importlib
import typing as _typing

from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetError,
    ComparisonError,
    HistoryCorruptError,
    HistoryError,
    HistoryVersionError,
    HistoryWriteError,
    IdeogramError,
    ImageInputError,
    JobFailedError,
    MetadataError,
    MissingImageError,
    MissingKeyError,
    OutcomeUnknownConnectionError,
    OutcomeUnknownError,
    OutcomeUnknownServerError,
    OutcomeUnknownTimeoutError,
    PaymentRequiredError,
    Problem,
    ProviderRefusedError,
    RateLimitError,
    RedirectRefusedError,
    ReplayImageMissing,
    ReplayMiss,
    ServerError,
    SpecError,
    UnprocessableError,
)
from ._history._database import History
from ._history._metadata import read_metadata, spec_from_image
from ._history._records import RunRecord
from ._history._store import ImageStore
from ._images import ImageInput, open_image
from ._results import ImageResult, Result
from ._specs._base import Spec
from ._specs._legacy import Describe, LegacyEdit, LegacyGenerate, LegacyRemix, Upscale
from ._specs._registry import spec_from_dict
from ._specs._v2 import Describe4, Generate45, Inpaint3, PreciseEdit45, Remix4, ReplaceBackground3
from ._specs._v3 import Edit, Generate, Reframe, Remix, ReplaceBackground
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._client import Client
    from ._compare._axes import PromptSR
    from ._compare._comparison import Comparison, compare
    from ._jobs import Job
    from ._mask import Mask
    from ._quote import Quote
    from ._scoring import near_duplicates, score_image

#: Public names loaded on first use, and the module that defines each.
_LAZY = {
    "Client": "._client",
    "Comparison": "._compare._comparison",
    "Job": "._jobs",
    "Mask": "._mask",
    "PromptSR": "._compare._axes",
    "Quote": "._quote",
    "compare": "._compare._comparison",
    "near_duplicates": "._scoring",
    "score_image": "._scoring",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetError",
    "Client",
    "Comparison",
    "ComparisonError",
    "Describe",
    "Describe4",
    "Edit",
    "Generate",
    "Generate45",
    "History",
    "HistoryCorruptError",
    "HistoryError",
    "HistoryVersionError",
    "HistoryWriteError",
    "IdeogramError",
    "ImageInput",
    "ImageInputError",
    "ImageResult",
    "ImageStore",
    "Inpaint3",
    "Job",
    "JobFailedError",
    "LegacyEdit",
    "LegacyGenerate",
    "LegacyRemix",
    "Mask",
    "MetadataError",
    "MissingImageError",
    "MissingKeyError",
    "OutcomeUnknownConnectionError",
    "OutcomeUnknownError",
    "OutcomeUnknownServerError",
    "OutcomeUnknownTimeoutError",
    "PaymentRequiredError",
    "PreciseEdit45",
    "Problem",
    "PromptSR",
    "ProviderRefusedError",
    "Quote",
    "RateLimitError",
    "RedirectRefusedError",
    "Reframe",
    "Remix",
    "Remix4",
    "ReplaceBackground",
    "ReplaceBackground3",
    "ReplayImageMissing",
    "ReplayMiss",
    "Result",
    "RunRecord",
    "ServerError",
    "Spec",
    "SpecError",
    "UnprocessableError",
    "Upscale",
    "__version__",
    "compare",
    "near_duplicates",
    "open_image",
    "read_metadata",
    "score_image",
    "spec_from_dict",
    "spec_from_image",
]


def _claim(obj: object) -> None:
    """httpx style: a public name says it belongs to the package, not to a private module."""
    if getattr(obj, "__module__", "").startswith("ideogram_nb._"):
        try:
            obj.__module__ = "ideogram_nb"
        except (AttributeError, TypeError):
            pass


def __getattr__(name: str) -> _typing.Any:
    """Load a `_LAZY` name on first use and keep it here (later lookups skip this)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
    _claim(value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name not in _LAZY:
        _claim(globals()[_name])
del _name
