"""What a call is expected to cost, from the price tables in `_api`.

Why a module of its own: the client, compare's budget guard and the form's live estimate
must agree to the cent, and prices change; one function reads the tables. It reads a spec
only through its fields (duck-typed), so it never imports the spec classes.

The service charges per output image for the V3 endpoints and legacy generate/remix/edit,
per call (per input) for upscale and describe. Withheld (unsafe) images are billed too, so
the estimate counts every requested image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _api

if TYPE_CHECKING:
    from ._base import Spec


def _model(spec: Spec) -> str:
    return getattr(spec, "model", None) or _api.LEGACY_DEFAULT_MODEL


def unit_price(spec: Spec) -> float:
    """US $ per output image (or per call for upscale/describe)."""
    endpoint = type(spec).endpoint
    if type(spec).family == "v3":
        speed = getattr(spec, "rendering_speed", None) or _api.V3_DEFAULT_RENDERING_SPEED
        return _api.V3_PRICE_PER_IMAGE[speed]
    if endpoint == "legacy-edit":
        return _api.LEGACY_EDIT_PRICE_PER_IMAGE[_model(spec)]
    if endpoint in ("legacy-generate", "legacy-remix"):
        return _api.LEGACY_PRICE_PER_IMAGE[_model(spec)]
    if endpoint == "upscale":
        return _api.UPSCALE_PRICE_PER_CALL
    if endpoint == "describe":
        return _api.DESCRIBE_PRICE_PER_CALL
    raise ValueError(f"no price for endpoint {endpoint!r}")


def estimate_cost(spec: Spec) -> float:
    """US $ for one call: unit price × images (× 1 for the per-call endpoints).

    Rounded to 4 decimals so sums read as 0.18, not 0.18000000000000002.
    """
    per_call = type(spec).endpoint in ("upscale", "describe")
    count = 1 if per_call else spec.image_count
    return round(unit_price(spec) * count, 4)


def is_cost_known(spec: Spec) -> bool:
    """False when the estimate is a guess: describe (no public price, estimated as 0) and the
    legacy `V_3` model (not in the seed's table; priced like V3 DEFAULT). See `_api.UNCONFIRMED`."""
    endpoint = type(spec).endpoint
    if endpoint == "describe":
        return False
    return not (endpoint in ("legacy-generate", "legacy-remix") and _model(spec) == "V_3")
