"""The simulator's reading of v2 requests: each operation's body decoded and checked as the v2
schema and its prose say, reduced to the `Job` the image maker draws (a v2 operation is drawn as
the v1 operation it resembles: generate, remix, edit) plus what the answer and price need.

Why apart from the routes: parsing is the part that grows with every operation and rule; the
routes (`_routes_v2`) only dispatch, bill, answer and keep the generations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ideogram_nb import _api, _api_v2

from ._body import BodyError, content_type_of, parse_json_object, parse_multipart
from ._job import Job
from ._reader import InputImage, Reader
from ._routes import InvalidRequest, _job


@dataclass(frozen=True)
class V2Job:
    """A valid v2 request: the drawable `Job`, and what the answer and the price depend on."""

    endpoint: str
    job: Job
    run_async: bool
    quality: str | None
    rendering_speed: str | None
    price_size: tuple[int, int]  # what the price tier reads: "an 'auto' size bills as 2K"
    tags: bool = False  # describe: include_tags

    @property
    def unit_usd(self) -> float:
        """The simulator's price per image: the client's placeholder table (`_api_v2`)."""
        if self.endpoint == "v2-inpaint-3":
            return _api_v2.INPAINT3_PRICE[self.rendering_speed or "default"]
        if self.endpoint == "v2-remix-4":
            return _api_v2.REMIX4_PRICE[self.rendering_speed or "default"]
        if self.endpoint == "v2-replace-background-3":
            return _api_v2.REPLACE_BACKGROUND3_PRICE[self.rendering_speed or "default"]
        return _api_v2.GENERATE45_PRICE[(self.quality or "medium", self.tier.upper())]

    @property
    def tier(self) -> str:
        w, h = self.price_size
        return "1k" if w * h <= _api_v2.TIER_1K_MAX_PIXELS else "2k"

    @property
    def usd_micros(self) -> int:
        return round(self.unit_usd * 1_000_000) * self.job.num_images


def read_v2(endpoint: str, content_type: str | None, body: bytes) -> V2Job:
    """Decode and check one v2 POST body; `InvalidRequest` (400/415) when it is not valid."""
    media, params = content_type_of(content_type)
    try:
        if media == "application/json":
            r = Reader.from_json(parse_json_object(body), [])
        elif media == "multipart/form-data":
            r = Reader(parse_multipart(params.get("boundary", ""), body), [], typed=False)
        else:
            raise InvalidRequest([f"Content-Type {media or '(none)'!r} is not supported; send "
                                  "application/json or multipart/form-data"], 415)  # fmt: skip
    except BodyError as exc:
        raise InvalidRequest([str(exc)]) from exc
    r.byte_limits = {name: n for (ep, name), n in _api_v2.V2_IMAGE_LIMITS.items() if ep == endpoint}
    r.fingerprint["_route"] = endpoint
    return _PARSERS[endpoint](r)


def _boolean(r: Reader, name: str) -> bool | None:
    found = r.values.get(name)
    if not found:
        return None
    value = found[0]
    if isinstance(value, bool):
        return value
    if not r.typed and value in ("true", "false"):
        return value == "true"
    r.problem(name, f"{value!r} is not of type 'boolean'")
    return None


def _common(r: Reader) -> tuple[str, int, int | None, bool]:
    prompt = r.text("prompt", required=True) or ""
    if len(prompt) > _api_v2.PROMPT_MAX_CHARS:
        r.problem("prompt", f"is longer than {_api_v2.PROMPT_MAX_CHARS} characters")
    num_images = r.integer("num_images", 1, _api.NUM_IMAGES_MAX) or 1
    seed = r.integer("seed", 0, _api.SEED_MAX)
    run_async = bool(_boolean(r, "async"))
    _boolean(r, "private")
    _boolean(r, "enable_copyright_detection")
    return prompt, num_images, seed, run_async


def _mask(r: Reader, image: InputImage | None, what: str) -> np.ndarray | None:
    """True = edit (black). "Same width and height as <what>"; "both black and white areas";
    greys "rounded to the nearer of the two"."""
    mask = r.image("mask")
    if mask is None:
        return None
    if image is not None and (mask.width, mask.height) != (image.width, image.height):
        r.problem("mask", f"is {mask.width}x{mask.height}; it must be the size of {what}, {image.width}x{image.height}")
        return None
    black: np.ndarray = mask.pixels.mean(axis=2) < 128
    if black.all() or not black.any():
        r.problem("mask", "must contain both black (edit) and white (keep) areas")
        return None
    return black


def _nearest_preset(width: int, height: int, two_k: bool) -> tuple[int, int]:
    target = math.log(width / height)
    pool = [_api.parse_size(p) for p in _api_v2.SIZE_PRESETS]
    pool = [(w, h) for w, h in pool if (w * h > _api_v2.TIER_1K_MAX_PIXELS) == two_k]
    return min(pool, key=lambda s: abs(math.log(s[0] / s[1]) - target))


def _generate45(r: Reader) -> V2Job:
    prompt, num_images, seed, run_async = _common(r)
    quality = r.choice("quality", _api_v2.QUALITIES)
    magic = r.choice("magic_prompt", _api_v2.V2_MAGIC_PROMPT)
    images = r.images("images")
    if len(r.values.get("images", ())) > _api_v2.GENERATE_MAX_IMAGES:
        r.problem("images", f"at most {_api_v2.GENERATE_MAX_IMAGES} images")
    first = images[0] if images else None
    mask = _mask(r, first, "the first source image")
    if r.has("mask") and not images:
        r.problem("mask", "needs source images")
    if r.has("mask") and len(images) > _api_v2.GENERATE_MAX_IMAGES_WITH_MASK:
        r.problem("images", "a masked request can include at most three other source images")
    if quality == "very_low" and not images:
        r.problem("quality", "'very_low' requires source images")
    size_text = r.text("size") or "auto"
    size: tuple[int, int] | None = None
    if r.has("mask") and r.has("size"):
        r.problem("size", "cannot be set with a mask")
    elif size_text == "source":
        if first is None:
            r.problem("size", "'source' is rejected without source images")
        else:
            scale = min(1.0, math.sqrt(_api_v2.SIZE_MAX_PIXELS / (first.width * first.height)))
            size = (max(1, int(first.width * scale)), max(1, int(first.height * scale)))
    elif size_text != "auto":
        parts = size_text.split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            r.problem("size", f"{size_text!r} is not 'auto', 'source' or WIDTHxHEIGHT")
        elif not images and size_text not in _api_v2.SIZE_PRESETS:
            r.problem("size", f"{size_text!r} is not a supported 1K/2K size")
        else:
            size = (int(parts[0]), int(parts[1]))
    _raise_if(r)
    if first is not None and mask is not None:
        size, kind = (first.width, first.height), "edit"
    elif first is not None:
        size, kind = size or _nearest_preset(first.width, first.height, True), "remix"
    else:
        size, kind = size or (1024, 1024), "generate"  # auto: the simulator draws 1K (billed 2K)
    if quality is None:
        quality = "medium" if images else "high"
    job = _job(kind, r, prompt, magic.upper() if magic else None, size, num_images, seed, None,
               image=first, mask=mask)  # fmt: skip
    price_size = (2048, 2048) if size_text == "auto" and first is None else size  # "auto" bills as 2K
    return V2Job("v2-generate-4-5", job, run_async, quality, None, price_size)


def _precise_edit(r: Reader) -> V2Job:
    prompt, num_images, seed, run_async = _common(r)
    quality = r.choice("quality", _api_v2.QUALITIES) or "medium"
    image = r.image("image", required=True)
    mask = _mask(r, image, "the image")
    r.images("reference_images")  # decoded: a bad file is a 400
    most = _api_v2.PRECISE_MAX_REFERENCES_WITH_MASK if r.has("mask") else _api_v2.PRECISE_MAX_REFERENCES
    if len(r.values.get("reference_images", ())) > most:
        r.problem("reference_images", f"at most {most}" + (" with a mask" if r.has("mask") else ""))
    window = r.text("context_window") or "none"
    if window == "auto" and not r.has("mask"):
        r.problem("context_window", "'auto' requires a mask")
    elif window not in ("none", "auto"):
        parts = window.split(",")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            r.problem("context_window", f"{window!r} does not match '^(none|auto|[0-9]+,[0-9]+,[0-9]+,[0-9]+)$'")
    _raise_if(r)
    assert image is not None
    if mask is None:  # the whole image (or its window) is edited
        mask = np.ones((image.height, image.width), dtype=bool)
    size = (image.width, image.height)
    job = _job("edit", r, prompt, None, size, num_images, seed, None, image=image, mask=mask)
    return V2Job("v2-precise-edit-4-5", job, run_async, quality, None, size)


def _inpaint(r: Reader) -> V2Job:
    prompt, num_images, seed, run_async = _common(r)
    speed = r.choice("rendering_speed", _api_v2.V2_RENDERING_SPEEDS)
    magic = r.choice("magic_prompt", _api_v2.V2_MAGIC_PROMPT)
    style = r.choice("style_type", _api_v2.V2_STYLE_TYPES)
    preset = r.choice("style_preset", [p.lower() for p in _api.V3_STYLE_PRESETS])
    codes = r.texts("style_codes", _api.STYLE_CODE_PATTERN)
    refs = r.images("style_reference_images")
    if preset and (codes or refs):
        r.problem("style_preset", "cannot be combined with style codes or style references")
    image = r.image("image", required=True)
    if not r.has("mask"):
        r.problem("mask", "is a required property")
    mask = _mask(r, image, "the image")
    _raise_if(r)
    assert image is not None and mask is not None
    size = (image.width, image.height)
    job = _job("edit", r, prompt, magic.upper() if magic else None, size, num_images, seed,
               style, image=image, mask=mask, rendering_speed=speed)  # fmt: skip
    return V2Job("v2-inpaint-3", job, run_async, None, speed, size)


def _remix4(r: Reader) -> V2Job:
    prompt, num_images, seed, run_async = _common(r)
    speed = r.choice("rendering_speed", _api_v2.V2_RENDERING_SPEEDS)
    weight = r.integer("image_weight", _api.WEIGHT_MIN, _api.WEIGHT_MAX) or 50
    resolution = r.choice("resolution", _api_v2.SIZE_PRESETS)
    image = r.image("image", required=True)
    _raise_if(r)
    assert image is not None
    size = _api.parse_size(resolution) if resolution else _nearest_preset(image.width, image.height, False)
    job = _job("remix", r, prompt, None, size, num_images, seed, None, image=image, weight=weight,
               rendering_speed=speed)  # fmt: skip
    return V2Job("v2-remix-4", job, run_async, None, speed, size)


def _describe4(r: Reader) -> V2Job:
    image = r.image("image", required=True)
    _boolean(r, "include_bbox")
    _boolean(r, "include_style_descriptions")
    tags = bool(_boolean(r, "include_tags"))
    _raise_if(r)
    assert image is not None
    size = (image.width, image.height)
    job = _job("describe", r, "", None, size, 1, None, None, image=image)
    return V2Job("v2-describe-4", job, False, None, None, size, tags)


def _replace_background(r: Reader) -> V2Job:
    """Always asynchronous ("Returns a `generation_id`"): no `async`, seed or magic prompt in
    the request. The subject is kept, the rest drawn from the prompt, at the image's size."""
    prompt = r.text("prompt", required=True) or ""
    if prompt and not prompt.strip():
        r.problem("prompt", "does not match '\\S'")
    if len(prompt) > _api_v2.REPLACE_BACKGROUND_PROMPT_MAX_CHARS:
        r.problem("prompt", f"is longer than {_api_v2.REPLACE_BACKGROUND_PROMPT_MAX_CHARS} characters")
    num_images = r.integer("num_images", 1, _api.NUM_IMAGES_MAX) or 1
    speed = r.choice("rendering_speed", _api_v2.V2_RENDERING_SPEEDS)
    _boolean(r, "private")
    image = r.image("image", required=True)  # image_asset_identifier: not simulated
    if image is not None and max(image.width, image.height) > _api_v2.REPLACE_BACKGROUND_MAX_ASPECT * min(
        image.width, image.height
    ):
        r.problem("image", f"is {image.width}x{image.height}; the longer side must be at most 3 times the shorter")
    _raise_if(r)
    assert image is not None
    size = (image.width, image.height)
    job = _job("replace-background", r, prompt, None, size, num_images, None, None, image=image,
               rendering_speed=speed)  # fmt: skip
    return V2Job("v2-replace-background-3", job, True, None, speed, size)


def _raise_if(r: Reader) -> None:
    if r.problems:
        raise InvalidRequest(list(r.problems))


_PARSERS: dict[str, Callable[[Reader], V2Job]] = {
    "v2-generate-4-5": _generate45,
    "v2-precise-edit-4-5": _precise_edit,
    "v2-inpaint-3": _inpaint,
    "v2-remix-4": _remix4,
    "v2-describe-4": _describe4,
    "v2-replace-background-3": _replace_background,
}
