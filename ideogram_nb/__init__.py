"""ideogram_nb: the Ideogram image API, made a pleasure to use in Jupyter.

One declarative spec per endpoint (`Generate`, `Edit`, …) validates before money is spent,
becomes the wire request, estimates its cost and renders as a form (`ideogram_nb.widgets`).
A `Client` runs specs and records every call in a `History`; with no key it runs on the
built-in offline simulator. This module never imports ipywidgets or ipycanvas.
"""


from ._client import Client
from ._compare._axes import PromptSR
from ._compare._comparison import Comparison, compare
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
    IdeogramError,
    ImageInputError,
    MissingKeyError,
    OutcomeUnknownConnectionError,
    OutcomeUnknownError,
    OutcomeUnknownServerError,
    OutcomeUnknownTimeoutError,
    Problem,
    RateLimitError,
    RedirectRefusedError,
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
from ._mask import Mask
from ._results import ImageResult, Result
from ._specs._base import Spec
from ._specs._legacy import Describe, LegacyEdit, LegacyGenerate, LegacyRemix, Upscale
from ._specs._registry import spec_from_dict
from ._specs._v3 import Edit, Generate, Reframe, Remix, ReplaceBackground
from ._version import __version__

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
    "Edit",
    "Generate",
    "History",
    "IdeogramError",
    "ImageInput",
    "ImageInputError",
    "ImageResult",
    "ImageStore",
    "LegacyEdit",
    "LegacyGenerate",
    "LegacyRemix",
    "Mask",
    "MissingKeyError",
    "OutcomeUnknownConnectionError",
    "OutcomeUnknownError",
    "OutcomeUnknownServerError",
    "OutcomeUnknownTimeoutError",
    "Problem",
    "PromptSR",
    "RateLimitError",
    "RedirectRefusedError",
    "Reframe",
    "Remix",
    "ReplaceBackground",
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
    "open_image",
    "read_metadata",
    "spec_from_dict",
    "spec_from_image",
]

# httpx style: public names say they belong to the package, not to a private module.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and getattr(_obj, "__module__", "").startswith("ideogram_nb._"):
        try:
            _obj.__module__ = "ideogram_nb"
        except (AttributeError, TypeError):
            pass
del _name, _obj
