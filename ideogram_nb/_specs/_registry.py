"""Which spec class answers to which endpoint, and rebuilding specs from their dicts.

Why a module of its own: the registry is written out once here, complete by construction,
so nothing depends on which spec modules happen to have been imported (it used to be filled
as a side effect of class definitions, which tied `_base` to its own subclasses).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .. import _api, _api_v2
from .._errors import Problem, SpecError
from ._base import Spec
from ._legacy import Describe, LegacyEdit, LegacyGenerate, LegacyRemix, Upscale
from ._v2 import Describe4, Generate45, Inpaint3, PreciseEdit45, Remix4, ReplaceBackground3
from ._v3 import Edit, Generate, Reframe, Remix, ReplaceBackground

_ALL: tuple[type[Spec], ...] = (
    Generate, Remix, Edit, Reframe, ReplaceBackground,
    LegacyGenerate, LegacyRemix, LegacyEdit, Upscale, Describe,
    Generate45, PreciseEdit45, Inpaint3, Remix4, Describe4, ReplaceBackground3,
)  # fmt: skip

#: endpoint id (a key of `_api.ROUTES` or `_api_v2.V2_ROUTES`) → its Spec class.
SPEC_CLASSES: Mapping[str, type[Spec]] = MappingProxyType({cls.endpoint: cls for cls in _ALL})

#: Every route a spec can be sent to: v1 (`_api.ROUTES`) and v2 (`_api_v2.V2_ROUTES`).
ALL_ROUTES: Mapping[str, str] = MappingProxyType({**_api.ROUTES, **_api_v2.V2_ROUTES})

_missing = set(ALL_ROUTES) ^ set(SPEC_CLASSES)
if _missing:  # pragma: no cover - a development error, caught by the first import
    raise TypeError(f"spec classes and the route tables disagree on: {sorted(_missing)}")


def spec_from_dict(data: Mapping[str, Any]) -> Spec:
    """Rebuild a spec from `to_dict()` output; `SpecError` for unknown endpoints or fields."""
    if not isinstance(data, Mapping):
        raise SpecError([Problem("endpoint", data, "a spec dict is a mapping with an 'endpoint' key")])
    endpoint = data.get("endpoint")
    cls = SPEC_CLASSES.get(endpoint) if isinstance(endpoint, str) else None
    if cls is None:
        raise SpecError([Problem("endpoint", endpoint, f"unknown endpoint; one of {', '.join(SPEC_CLASSES)}")])
    fields = {k: v for k, v in data.items() if k != "endpoint"}
    if "name" in fields:
        raise SpecError([Problem("name", fields["name"], f"not a field of {cls.__name__}")], spec_name=cls.__name__)
    return cls(**fields)
