"""What a call is expected to cost, from the price tables in `_api`.

Why a module of its own: the client, compare's budget guard and the form's live estimate
must agree to the cent, and prices change; one function reads the tables. It reads a spec
only through its fields (duck-typed), so it never imports the spec classes.

The service charges per output image for the V3 endpoints and legacy generate/remix/edit,
per call (per input) for upscale and describe. Withheld (unsafe) images are billed too, so
the estimate counts every requested image. A V3 call with a character reference is billed at
the character-reference rate of its rendering speed, per image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _api, _api_v2

if TYPE_CHECKING:
    from ._base import Spec


def _model(spec: Spec) -> str:
    return getattr(spec, "model", None) or _api.LEGACY_DEFAULT_MODEL


def _has_character(spec: Spec) -> bool:
    return bool(getattr(spec, "character_reference_images", None))


def size_tier(spec: Spec) -> str:
    """v2 4.5: "up to 1024x1024 bills as 1K, above that as 2K. An "auto" size bills as 2K"
    (generate's `size` prose; assumed for precise edit, whose output is the image's size)."""
    size = spec.expected_size()
    if size is None:
        return "2K"
    return "1K" if size[0] * size[1] <= _api_v2.TIER_1K_MAX_PIXELS else "2K"


def _v2_unit_price(spec: Spec) -> float:
    endpoint = type(spec).endpoint
    if endpoint in ("v2-generate-4-5", "v2-precise-edit-4-5"):
        quality = getattr(spec, "quality", None)
        if quality is None:  # generate: "medium with source images and high without"; precise edit: medium
            quality = "high" if endpoint == "v2-generate-4-5" and not getattr(spec, "images", None) else "medium"
        return _api_v2.GENERATE45_PRICE[(quality, size_tier(spec))]
    speed = getattr(spec, "rendering_speed", None) or "default"
    if endpoint == "v2-inpaint-3":
        return _api_v2.INPAINT3_PRICE[speed]
    if endpoint == "v2-remix-4":
        return _api_v2.REMIX4_PRICE[speed]
    if endpoint == "v2-replace-background-3":
        return _api_v2.REPLACE_BACKGROUND3_PRICE[speed]
    if endpoint == "v2-describe-4":
        return _api.DESCRIBE_PRICE_PER_CALL
    raise ValueError(f"no price for endpoint {endpoint!r}")


def unit_price(spec: Spec) -> float:
    """US $ per output image (or per call for upscale/describe)."""
    endpoint = type(spec).endpoint
    if type(spec).family == "v2":
        return _v2_unit_price(spec)
    if type(spec).family == "v3":
        speed = getattr(spec, "rendering_speed", None) or _api.V3_DEFAULT_RENDERING_SPEED
        table = _api.V3_CHARACTER_PRICE_PER_IMAGE if _has_character(spec) else _api.V3_PRICE_PER_IMAGE
        return table[speed]
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
    """False when the estimate is a guess (see `_api.UNCONFIRMED`): describe (no public price,
    estimated as 0), the legacy `V_3` and `AUTO` models (not in the seed's table), a custom
    model (no published price), and a character reference at FLASH speed (no such row)."""
    endpoint = type(spec).endpoint
    if endpoint == "describe" or getattr(spec, "custom_model_uri", None):
        return False
    if type(spec).family == "v2":  # the 3.0 operations have 3.0's published prices; 4.x none (`V2_UNCONFIRMED`)
        return endpoint in ("v2-inpaint-3", "v2-replace-background-3")
    if type(spec).family == "v3":
        speed = getattr(spec, "rendering_speed", None) or _api.V3_DEFAULT_RENDERING_SPEED
        return not (_has_character(spec) and speed == "FLASH")
    return not (endpoint in ("legacy-generate", "legacy-remix") and _model(spec) in ("V_3", "AUTO"))
