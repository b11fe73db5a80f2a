"""The simulator's routes: which body each endpoint takes, its fields and its rules.

Why one parser per endpoint, written out: the endpoints differ in small, real ways (legacy
remix nests a JSON string, legacy edit is flat, reframe has no prompt, remix and upscale
answer 403 instead of 401). Spelling each out keeps those differences visible, and every
rule is the service's, from `shared/API.md`, with the enums taken from `_api` (which follows
the official schema's enums: `tests/simulator/test_sim_schema_requests.py` sends every value).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np

from ideogram_nb import _api, _config

from ._body import BodyError, content_type_of, parse_json_object, parse_multipart
from ._characters import Character, read_characters
from ._job import UNSAFE_MARKER, Job
from ._reader import InputImage, Reader, check_color_palette

#: Endpoints that answer 403 (not 401) to a missing or bad key.
FORBIDDEN_ON_BAD_KEY: frozenset[str] = frozenset({"remix", "legacy-remix", "upscale"})
#: What MagicPrompt ON appends: deterministic, and visible in the returned prompt.
MAGIC_SUFFIX = ", highly detailed"
#: Fields that choose how many images and which seed, not what they show.
_NOT_CONTENT = ("seed", "num_images")


class InvalidRequest(Exception):
    """The request breaks the schema or a rule: answered 400 with every problem."""

    def __init__(self, problems: list[str], status: int = 400) -> None:
        self.problems = problems
        self.status = status
        super().__init__("; ".join(problems))


def read_job(endpoint: str, content_type: str | None, body: bytes) -> Job:
    """Decode and check one POST body for `endpoint`; InvalidRequest when it is not valid."""
    media, params = content_type_of(content_type)
    try:
        if media == "application/json" and endpoint in _JSON_PARSERS:
            return _JSON_PARSERS[endpoint](parse_json_object(body))
        if media == "multipart/form-data" and endpoint in _FORM_PARSERS:
            fields = parse_multipart(params.get("boundary", ""), body)
            return _FORM_PARSERS[endpoint](Reader(fields, [], typed=False))
    except BodyError as exc:
        raise InvalidRequest([str(exc)]) from exc
    wanted = " or ".join(
        m for m, table in (("multipart/form-data", _FORM_PARSERS), ("application/json", _JSON_PARSERS))
        if endpoint in table
    )  # fmt: skip
    raise InvalidRequest([f"Content-Type {media or '(none)'!r} is not supported here; send {wanted}"], 415)


# --- V3 ---------------------------------------------------------------------------------
def _v3_generate_json(obj: dict[str, object]) -> Job:
    return _v3(Reader.from_json(obj, []), "generate")


def _v3_form(endpoint: str) -> Callable[[Reader], Job]:
    return lambda reader: _v3(reader.for_endpoint(endpoint), endpoint)


def _v3(r: Reader, endpoint: str) -> Job:
    is_reframe = endpoint == "reframe"
    prompt = "" if is_reframe else (r.text("prompt", required=True) or "")
    speed = r.choice("rendering_speed", _api.V3_RENDERING_SPEEDS, aliases=_api.V3_RENDERING_SPEED_ALIASES)
    num_images = r.integer("num_images", 1, _api.NUM_IMAGES_MAX) or 1
    seed = r.integer("seed", 0, _api.SEED_MAX)
    magic = None if is_reframe else r.choice("magic_prompt", _api.MAGIC_PROMPT_OPTIONS)
    style_type = None if is_reframe else r.choice("style_type", _api.V3_STYLE_TYPES)
    takes_characters = endpoint in ("generate", "remix", "edit")  # these take custom models too
    custom_model = _custom_model(r) if takes_characters else None
    characters = read_characters(r) if takes_characters else ()
    negative = None if is_reframe else r.text("negative_prompt")
    r.choice("style_preset", _api.V3_STYLE_PRESETS)
    palette = check_color_palette(r)
    style_codes = r.texts("style_codes", _api.STYLE_CODE_PATTERN)
    references = r.images("style_reference_images")
    if sum(len(img.data) for img in references) > _config.MAX_STYLE_REFERENCE_TOTAL_BYTES:
        r.problem("style_reference_images", "the images add up to more than 10 MB")
    if style_codes and (r.has("style_reference_images") or style_type is not None):
        r.problem("style_codes", "cannot be combined with style_type or style_reference_images")

    image = mask = None
    size: tuple[int, int] | None = None
    weight = 50
    if endpoint in ("generate", "remix"):
        size = _v3_size(r)
    if endpoint != "generate":
        image = r.image("image", required=True)
    if endpoint == "remix":
        weight = r.integer("image_weight", _api.WEIGHT_MIN, _api.WEIGHT_MAX) or 50
    elif endpoint == "edit":
        r.text("aspect_ratio")  # sent by the seed's clients, ignored by the service
        mask = _edit_mask(r, image)
    elif endpoint == "reframe":
        resolution = r.choice("resolution", _api.V3_RESOLUTIONS, required=True)
        if image is not None and image.width != image.height:
            r.problem("image", f"reframe needs a square image, got {image.width}x{image.height}")
        size = _api.parse_size(resolution) if resolution else None
    if endpoint in ("edit", "replace-background") and image is not None:
        size = (image.width, image.height)
    _raise_if_problems(r)
    assert size is not None
    if custom_model is not None:
        resolved_style = "CUSTOM"  # "the model version and style will be resolved from this URI"
    else:
        resolved_style = "GENERAL" if style_type in (None, "AUTO") else style_type
    colours = tuple(palette) + tuple(_mean_colour(img) for img in references)
    return _job(endpoint, r, prompt, magic, size, num_images, seed, resolved_style,
                image=image, mask=mask, weight=weight, palette=colours, characters=characters,
                rendering_speed=speed, negative_prompt=negative or "")  # fmt: skip


def _custom_model(r: Reader) -> str | None:
    """`custom_model_uri`: any string. Its form (model/<name>/version/<version>) and style
    CUSTOM without one are prose, not schema rules: the client only warns, so the simulator
    (which knows no custom models and makes up any) accepts them."""
    return r.text("custom_model_uri")


def _v3_size(r: Reader) -> tuple[int, int]:
    aspect = r.choice("aspect_ratio", _api.V3_ASPECT_RATIOS)
    resolution = r.choice("resolution", _api.V3_RESOLUTIONS)
    if r.has("aspect_ratio") and r.has("resolution"):
        r.problem("resolution", "cannot be combined with aspect_ratio; send one of them")
    if resolution:
        return _api.parse_size(resolution)
    return _api.V3_ASPECT_SIZES[aspect or _api.V3_DEFAULT_ASPECT_RATIO]


# --- legacy -----------------------------------------------------------------------------
def _legacy_generate_json(obj: dict[str, object]) -> Job:
    request = obj.get("image_request")
    if not isinstance(request, dict):
        raise InvalidRequest(["'image_request': is a required property and must be an object"])
    r = Reader.from_json(request, [])
    return _legacy(r, r, "legacy-generate")


def _legacy_nested_form(endpoint: str) -> Callable[[Reader], Job]:
    """Legacy remix/upscale: an `image_request` JSON string beside an `image_file` part."""

    def parse(form: Reader) -> Job:
        nested = form.json_object("image_request", required=True)
        if nested is None:  # nothing inside to check: report the file part, then stop
            form.image("image_file", required=True)
            _raise_if_problems(form)
        request = Reader.from_json(nested or {}, form.problems)
        return _legacy(request, form, endpoint)

    return parse


def _legacy(r: Reader, files: Reader, endpoint: str) -> Job:
    """Legacy generate/remix/edit/upscale. `files` holds the file parts (the form itself)."""
    is_upscale = endpoint == "upscale"
    is_edit = endpoint == "legacy-edit"
    prompt = r.text("prompt", required=not is_upscale) or ""
    edit_models = (*_api.LEGACY_EDIT_MODELS, "AUTO")  # AUTO: the service picks an edit model
    sent_model = None if is_upscale else r.choice("model", _api.LEGACY_MODELS, required=is_edit)
    if is_edit and sent_model is not None and sent_model not in edit_models:
        r.problem("model", f"edit works only with {list(_api.LEGACY_EDIT_MODELS)}, not {sent_model!r}")
    model = sent_model or _api.LEGACY_DEFAULT_MODEL  # AUTO: the model tables say what it allows
    magic = r.choice("magic_prompt_option", _api.MAGIC_PROMPT_OPTIONS)
    if not is_edit:  # the schema's edit body has no magic_prompt_version (unknown: ignored)
        r.choice("magic_prompt_version", _api.MAGIC_PROMPT_VERSIONS)
    num_images = r.integer("num_images", 1, _api.NUM_IMAGES_MAX) or 1
    seed = r.integer("seed", 0, _api.SEED_MAX)
    style_type = None if is_upscale else r.choice("style_type", _api.LEGACY_STYLE_TYPES)
    if style_type is not None and model in _api.LEGACY_MODELS_WITHOUT_STYLE:
        r.problem("style_type", f"is not available for {model}")
    weight, detail = 50, 50
    size: tuple[int, int] | None = None
    negative: str | None = None
    palette: tuple[tuple[int, int, int], ...] = ()
    if endpoint in ("legacy-generate", "legacy-remix"):
        negative = r.text("negative_prompt")
        if negative is not None and model not in _api.LEGACY_MODELS_WITH_NEGATIVE:
            r.problem("negative_prompt", f"is not available for {model}")
        palette = tuple(check_color_palette(r))
        if palette and model not in _api.LEGACY_MODELS_WITH_COLOR_PALETTE:
            r.problem("color_palette", f"is not available for {model}")
        size = _legacy_size(r, model)
    if endpoint == "legacy-remix":
        weight = r.integer("image_weight", _api.WEIGHT_MIN, _api.WEIGHT_MAX) or 50
    if is_upscale:
        weight = r.integer("resemblance", _api.WEIGHT_MIN, _api.WEIGHT_MAX) or 50
        detail = r.integer("detail", _api.WEIGHT_MIN, _api.WEIGHT_MAX) or 50
    image = None
    if endpoint != "legacy-generate":
        image = files.image("image_file", required=True)
    mask = _edit_mask(files, image) if is_edit else None
    _raise_if_problems(r)
    source_size = None
    if image is not None and is_edit:
        size = (image.width, image.height)
    if image is not None and is_upscale:
        source_size = (image.width, image.height)
        size = (2 * image.width, 2 * image.height)
    assert size is not None
    if is_upscale or model in _api.LEGACY_MODELS_WITHOUT_STYLE:
        resolved_style = None  # no style applies: the answer leaves the key out
    else:
        resolved_style = "GENERAL" if style_type in (None, "AUTO") else style_type
    if files is not r:
        r.fingerprint.update(files.fingerprint)
        r.decoded.extend(files.decoded)
    return _job(endpoint, r, prompt, magic, size, num_images, seed, resolved_style, image=image,
                mask=mask, weight=weight, detail=detail, source_size=source_size, model=sent_model,
                palette=palette, negative_prompt=negative or "")  # fmt: skip


def _legacy_size(r: Reader, model: str) -> tuple[int, int]:
    aspect = r.choice("aspect_ratio", _api.LEGACY_ASPECT_RATIOS, aliases=_api.LEGACY_ASPECT_ALIASES)
    resolution = r.choice("resolution", _api.LEGACY_RESOLUTIONS)
    if r.has("aspect_ratio") and r.has("resolution"):
        r.problem("resolution", "cannot be combined with aspect_ratio; send one of them")
    if r.has("resolution") and model not in _api.LEGACY_MODELS_WITH_RESOLUTION:
        r.problem("resolution", f"is not available for {model}")
    if resolution:
        return _api.parse_size(resolution)
    return _api.LEGACY_ASPECT_SIZES[aspect or _api.LEGACY_DEFAULT_ASPECT_RATIO]


def _legacy_edit(r: Reader) -> Job:
    return _legacy(r, r, "legacy-edit")


def _describe(r: Reader) -> Job:
    image = r.image("image_file", required=True)
    version = r.choice("describe_model_version", _api.DESCRIBE_MODEL_VERSIONS)
    _raise_if_problems(r)
    assert image is not None
    return _job("describe", r, "", None, (image.width, image.height), 1, None, None, image=image,
                describe_version=version)  # fmt: skip


# --- shared pieces ----------------------------------------------------------------------
def _edit_mask(r: Reader, image: InputImage | None) -> np.ndarray | None:
    """The edit region (True = black = edit), after the service's mask rules."""
    mask = r.image("mask", required=True)
    if mask is None or image is None:
        return None
    if (mask.width, mask.height) != (image.width, image.height):
        r.problem("mask", f"is {mask.width}x{mask.height}; it must be the image's size, "
                          f"{image.width}x{image.height}")  # fmt: skip
        return None
    px = mask.pixels
    grey = (px[..., 0] == px[..., 1]) & (px[..., 1] == px[..., 2])
    if not grey.all() or not np.isin(px[..., 0], (0, 255)).all():
        r.problem("mask", "must contain only black and white pixels (black = edit, white = keep)")
        return None
    black: np.ndarray = px[..., 0] == 0
    coverage = float(black.mean())
    if coverage == 0.0:
        r.problem("mask", "is pure white: nothing to edit (black marks the region to edit)")
        return None
    if coverage < _config.MIN_MASK_COVERAGE:
        r.problem("mask", f"the black (edit) region is {coverage:.1%} of the image; "
                          f"at least {_config.MIN_MASK_COVERAGE:.0%} is required")  # fmt: skip
        return None
    return black


def _mean_colour(image: InputImage) -> tuple[int, int, int]:
    mean = image.pixels.reshape(-1, 3).mean(axis=0)
    return int(mean[0]), int(mean[1]), int(mean[2])


def _raise_if_problems(r: Reader) -> None:
    if r.problems:
        raise InvalidRequest(list(r.problems))


def _job(
    endpoint: str,
    r: Reader,
    prompt: str,
    magic: str | None,
    size: tuple[int, int],
    num_images: int,
    seed: int | None,
    style_type: str | None,
    *,
    image: InputImage | None = None,
    mask: np.ndarray | None = None,
    weight: int = 50,
    detail: int = 50,
    palette: tuple[tuple[int, int, int], ...] = (),
    source_size: tuple[int, int] | None = None,
    characters: tuple[Character, ...] = (),
    rendering_speed: str | None = None,
    model: str | None = None,
    describe_version: str | None = None,
    negative_prompt: str = "",
) -> Job:
    content = {k: v for k, v in r.fingerprint.items() if k not in _NOT_CONTENT}
    canonical = json.dumps([endpoint, content], sort_keys=True, default=str)
    marker = UNSAFE_MARKER.encode()
    return Job(
        endpoint=endpoint,
        raw_prompt=prompt,
        prompt=prompt + MAGIC_SUFFIX if magic == "ON" and prompt else prompt,
        size=size,
        num_images=num_images,
        seed=seed,
        style_type=style_type,
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
        image=image,
        mask=mask,
        weight=weight,
        detail=detail,
        palette=palette,
        source_size=source_size,
        characters=characters,
        rendering_speed=rendering_speed,
        model=model,
        describe_version=describe_version,
        negative_prompt=negative_prompt,
        unsafe_input=any(marker in img.data for img in r.decoded),
    )


_JSON_PARSERS: dict[str, Callable[[dict[str, object]], Job]] = {
    "generate": _v3_generate_json,
    "legacy-generate": _legacy_generate_json,
}
_FORM_PARSERS: dict[str, Callable[[Reader], Job]] = {
    **{endpoint: _v3_form(endpoint) for endpoint in ("generate", "remix", "edit", "reframe", "replace-background")},
    "legacy-remix": _legacy_nested_form("legacy-remix"),
    "upscale": _legacy_nested_form("upscale"),
    "legacy-edit": _legacy_edit,
    "describe": _describe,
}
#: route path (after the base URL) → endpoint id, inverted from `_api.ROUTES`.
ENDPOINT_BY_PATH: dict[str, str] = {path: endpoint for endpoint, path in _api.ROUTES.items()}
