"""The rules of Ideogram's v2 image operations, checked before anything is sent.

Why apart from `_rules`: v2 states its own limits (25 or 50 MB per file, "both black and white
areas" instead of the seed's 10 % mask minimum, text sizes instead of enums), so the v1 checks
would refuse what v2 takes. Every rule below quotes where it comes from: the schema itself
(bounds, enums, patterns) or a field's `description` in the v2 subset. Only facts are read
here; nothing knows the spec classes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import _api_v2 as v2
from .._config import MAX_IMAGE_BYTES, MIN_MASK_COVERAGE
from .._errors import Problem
from .._images import ImageInput, _mask_stats

if TYPE_CHECKING:
    from ._base import Spec

SIZE_TEXT = re.compile(r"\A(auto|source|[1-9][0-9]*x[1-9][0-9]*)\Z")
CONTEXT_TEXT = re.compile(r"\A(none|auto|[0-9]+,[0-9]+,[0-9]+,[0-9]+)\Z")  # the schema's pattern, anchored


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def file_problems(spec: Spec) -> list[Problem]:
    """Per-file byte limits ("max 25MB each", "max 50MB"), from each field's description."""
    found: list[Problem] = []
    endpoint = type(spec).endpoint
    for name, images in spec.input_images().items():
        limit = v2.V2_IMAGE_LIMITS.get((endpoint, name), MAX_IMAGE_BYTES)
        for image in images:
            if len(image.data) > limit:
                size = f"{len(image.data) / 2**20:.1f} MB"
                found.append(Problem(name, image, f"is {size}; at most {_mb(limit)} per file"))
    return found


def prompt_problems(prompt: str, limit: int = v2.PROMPT_MAX_CHARS) -> list[Problem]:
    # prompt: maxLength 10000 (schema; 4000 on replace-background)
    if len(prompt) > limit:
        return [Problem("prompt", f"{len(prompt)} characters", f"at most {limit} characters")]
    return []


def aspect_problems(name: str, image: ImageInput | None, most: float) -> list[Problem]:
    """A source image's shape limit, e.g. replace-background's "The longer side must be at most
    3 times the shorter side; wider aspect ratios are rejected with a 400" (`image` prose)."""
    if image is None or max(image.size) <= most * min(image.size):
        return []
    rule = f"is {image.width}x{image.height}; its longer side must be at most {most:g} times the shorter side"
    return [Problem(name, image, rule)]


def mask_problems(mask: ImageInput | None, image: ImageInput | None, what: str) -> list[Problem]:
    """ "The mask must have the same width and height as <what> and contain both black and
    white areas" (mask description; black = edit, white = keep)."""
    if mask is None:
        return []
    found: list[Problem] = []
    if image is not None and mask.size != image.size:
        found.append(Problem(
            "mask", mask,
            f"must be exactly the size of {what}, {image.width}x{image.height}, not {mask.width}x{mask.height}",
        ))  # fmt: skip
    fraction = _mask_stats(mask.sha256, mask.data).edit_fraction
    if fraction <= 0.0:
        found.append(Problem("mask", mask, "is pure white: it must contain both black (edit) and white (keep) areas"))
    elif fraction >= 1.0:
        found.append(Problem("mask", mask, "is pure black: it must contain both black (edit) and white (keep) areas"))
    return found


def coverage_warnings(mask: ImageInput) -> list[Problem]:
    """v2 inpaint's mask prose asks only for "a black-and-white mask the same size"; the V3 edit
    it succeeds needs at least 10 % black (AiHubMix, the seed). Where they disagree: a warning."""
    fraction = _mask_stats(mask.sha256, mask.data).edit_fraction
    if 0.0 < fraction < MIN_MASK_COVERAGE:
        rule = (
            f"covers {fraction:.1%} of the image: v2 inpaint states no minimum, but the V3 edit it replaces "
            f"needed {MIN_MASK_COVERAGE:.0%}; the service may refuse it"
        )
        return [Problem("mask", mask, rule)]
    return []


def parse_size(text: str) -> tuple[int, int] | None:
    if "x" not in text:
        return None
    w, h = text.split("x")
    return int(w), int(h)


def exact_size_problems(size: str, has_sources: bool) -> list[Problem]:
    """4.5 generate's `size` prose: presets without source images; with them any size whose
    "sides [are] a multiple of 32 and at least 256px, a total of at most 2048x2048 pixels, and
    an aspect ratio of at most 6:1"; "source" is rejected without source images."""
    if size == "source" and not has_sources:
        return [Problem("size", size, "'source' needs source images (set images), or use 'auto' or a preset size")]
    parsed = parse_size(size)
    if parsed is None:
        return []
    if not has_sources:
        if size not in v2.SIZE_PRESETS:
            shown = ", ".join(v2.SIZE_PRESETS[:4])
            return [Problem("size", size, f"without source images must be one of the {len(v2.SIZE_PRESETS)} "
                                          f"1K/2K presets (e.g. {shown}), 'auto', or empty")]  # fmt: skip
        return []
    w, h = parsed
    rules = []
    if w % v2.SIZE_MULTIPLE or h % v2.SIZE_MULTIPLE:
        rules.append(f"both sides must be multiples of {v2.SIZE_MULTIPLE}")
    if min(w, h) < v2.SIZE_MIN_SIDE:
        rules.append(f"both sides must be at least {v2.SIZE_MIN_SIDE} px")
    if w * h > v2.SIZE_MAX_PIXELS:
        rules.append("at most 2048x2048 pixels in total")
    if max(w, h) / min(w, h) > v2.MAX_ASPECT:
        rules.append("an aspect ratio of at most 6:1")
    return [Problem("size", size, "; ".join(rules))] if rules else []


def source_ratio_problems(images: tuple[ImageInput, ...]) -> list[Problem]:
    # "Every source image's aspect ratio must be between 1:6 and 6:1" (size prose)
    found = []
    for i, image in enumerate(images):
        if max(image.size) / min(image.size) > v2.MAX_ASPECT:
            found.append(Problem(f"images[{i}]", image, f"is {image.width}x{image.height}; the aspect ratio must "
                                                        "be between 1:6 and 6:1"))  # fmt: skip
    return found


def context_window_problems(window: str, image: ImageInput | None, mask: ImageInput | None) -> list[Problem]:
    """precise edit's `context_window` prose: `auto` "requires a mask"; a region "must lie
    inside the image, measure at least 256px on each side, have an aspect ratio between 1:6 and
    6:1, and cover no more than 4194304 pixels. A mask may select only pixels inside it"."""
    if window in ("", "none"):
        return []
    if window == "auto":
        return [] if mask is not None else [Problem("context_window", window, "'auto' requires a mask")]
    y0, x0, y1, x1 = (int(v) for v in window.split(","))
    w, h = x1 - x0, y1 - y0
    rules = []
    if w <= 0 or h <= 0:
        return [Problem("context_window", window, "is y_min,x_min,y_max,x_max with y_max > y_min and x_max > x_min")]
    if image is not None and (x1 > image.width or y1 > image.height):
        rules.append(f"must lie inside the {image.width}x{image.height} image")
    if min(w, h) < v2.CONTEXT_MIN_SIDE:
        rules.append(f"must measure at least {v2.CONTEXT_MIN_SIDE} px on each side, not {w}x{h}")
    if max(w, h) / min(w, h) > v2.MAX_ASPECT:
        rules.append("must have an aspect ratio between 1:6 and 6:1")
    if w * h > v2.CONTEXT_MAX_PIXELS:
        rules.append(f"must cover at most {v2.CONTEXT_MAX_PIXELS} pixels, not {w * h}")
    if mask is not None and not rules:
        box = _edit_box(mask)
        if box is not None and (box[0] < x0 or box[1] < y0 or box[2] > x1 or box[3] > y1):
            rules.append("the mask may select only pixels inside it (its black area reaches outside)")
    return [Problem("context_window", window, "; ".join(rules))] if rules else []


def _edit_box(mask: ImageInput) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the mask's black (edit) pixels, right/bottom exclusive."""
    from PIL import ImageOps

    with mask.open() as img:
        box = ImageOps.invert(img.convert("L")).point(lambda p: 255 if p > 127 else 0).getbbox()
    return None if box is None else (box[0], box[1], box[2], box[3])
