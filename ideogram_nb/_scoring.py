"""Offline scores of one image: named metrics, each None where it does not apply.

Why several numbers and never one: what Ideogram is bought for (legible text, edits that stay in
the mask, the requested palette, crispness) are different questions; a blended score would hide
which one an image fails. Every metric here is computed from pixels on this machine; none is
guessed (see `_scoring_ocr` for text). Definitions, ranges and when each applies are in
docs/comparisons.md.

Why hand-written pixel maths: each metric is a few lines of numpy (CIE76 ΔE, a Laplacian, a
difference hash); a computer-vision dependency would weigh more than all of them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _config
from ._images import is_image_ref, open_image, resolve_image_ref
from ._scoring_ocr import text_accuracy

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

METRICS = _config.SCORE_METRICS
LOWER_IS_BETTER = _config.SCORE_LOWER_IS_BETTER
_SHARPNESS_PX = 512
_PALETTE_PX = 64
_DOMINANT_COLOURS = 8
_DOMINANT_MIN_SHARE = 0.03


def _field(spec: Any, name: str) -> Any:
    """A field of a spec or of its `to_dict()`; image references (`sha256:…`) as their bytes."""
    if spec is None:
        return None
    value = spec.get(name) if isinstance(spec, Mapping) else getattr(spec, name, None)
    if isinstance(value, str) and is_image_ref(value):
        return resolve_image_ref(value, field=name)
    return value


def _grey(img: Image.Image, px: int) -> np.ndarray:
    import numpy as np

    grey = img.convert("L")
    factor = -(-max(grey.size) // px)  # a whole factor: `reduce` is the fastest way down
    if factor > 1:
        grey = grey.reduce(factor)
    return np.asarray(grey, dtype=np.float32)


# --- sharpness -----------------------------------------------------------------------------
def sharpness(img: Image.Image) -> float:
    """0–1: v / (v + K), v the variance of the 4-neighbour Laplacian of the grey image (reduced
    by a whole factor to at most 512 px, so images of any size compare), K = `SHARPNESS_HALF_VARIANCE`. A flat
    image scores 0; blur lowers it; fine detail and crisp edges raise it."""
    g = _grey(img, _SHARPNESS_PX)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    var = float(lap.var())
    return round(var / (var + _config.SHARPNESS_HALF_VARIANCE), 4)


# --- near duplicates -----------------------------------------------------------------------
def dhash(image: Any) -> int:
    """64-bit difference hash: is each of 8×8 grey samples brighter than its right neighbour.
    Robust to scaling, compression and small colour shifts; not to crops or mirroring."""
    import numpy as np
    from PIL import Image

    small = np.asarray(open_image(image).convert("L").resize((9, 8), Image.Resampling.BOX), dtype=np.int16)
    bits = 0
    for bit in (small[:, :-1] > small[:, 1:]).ravel():
        bits = (bits << 1) | int(bit)
    return bits


def near_duplicates(images: Sequence[Any], max_bits: int | None = None) -> list[tuple[int, int, int]]:
    """`(i, j, distance)` for every pair of `images` whose dHashes differ by at most `max_bits`
    bits (default `NEAR_DUPLICATE_MAX_BITS` of 64): the images of one call that are the same
    picture twice. Distance 0 is identical to the eye at thumbnail size."""
    limit = _config.NEAR_DUPLICATE_MAX_BITS if max_bits is None else int(max_bits)
    hashes = [dhash(im) for im in images]
    return [
        (i, j, d) for i in range(len(hashes)) for j in range(i + 1, len(hashes))
        if (d := (hashes[i] ^ hashes[j]).bit_count()) <= limit
    ]  # fmt: skip


# --- palette -------------------------------------------------------------------------------
def hex_to_rgb(text: str) -> tuple[int, int, int]:
    h = text.strip().lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (…, 3) in 0–255 → CIE L*a*b* under D65."""
    import numpy as np

    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])  # fmt: skip
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def requested_colours(palette: Any) -> list[tuple[str, float]] | None:
    """(hex, weight) of a palette given as colours; None for none, or for a named preset (its
    colours are Ideogram's and not published, so there is nothing to measure against)."""
    if not palette or isinstance(palette, str):
        return None
    if isinstance(palette, Mapping):
        palette = palette.get("members") or []
    out = []
    for member in palette:
        if isinstance(member, str):
            out.append((member, 1.0))
        elif isinstance(member, Mapping) and "color_hex" in member:
            out.append((str(member["color_hex"]), float(member.get("color_weight") or 1.0)))
        elif isinstance(member, (list, tuple)) and len(member) == 2:
            out.append((str(member[0]), float(member[1] or 1.0)))
    return out or None


def dominant_colours(img: Image.Image, n: int = _DOMINANT_COLOURS) -> list[tuple[tuple[int, int, int], float]]:
    """The image's main colours (median cut of a 64 px copy) with their share of the pixels."""
    from PIL import Image

    small = img.convert("RGB").resize((_PALETTE_PX, _PALETTE_PX), Image.Resampling.BOX)
    q = small.quantize(colors=n, method=Image.Quantize.MEDIANCUT)
    pal = q.getpalette() or []
    counts: list[tuple[int, Any]] = sorted(q.getcolors() or [], reverse=True)
    total = sum(c for c, _ in counts) or 1
    found = [((pal[3 * int(i)], pal[3 * int(i) + 1], pal[3 * int(i) + 2]), c / total) for c, i in counts]
    return [f for f in found if f[1] >= _DOMINANT_MIN_SHARE] or found[:1]


def palette_delta_e(img: Image.Image, palette: Any) -> float | None:
    """Mean CIE76 ΔE (Euclidean distance in L*a*b*) from each requested colour to the closest of
    the image's dominant colours, weighted by the colours' `color_weight`. 0 is exact; about 2
    is barely visible; above 10 the colours differ plainly. None without a colour palette."""
    import numpy as np

    wanted = requested_colours(palette)
    if wanted is None:
        return None
    found = dominant_colours(img)
    lab_found = srgb_to_lab(np.array([rgb for rgb, _ in found], dtype=np.float64))
    lab_want = srgb_to_lab(np.array([hex_to_rgb(h) for h, _ in wanted], dtype=np.float64))
    dist = np.sqrt(((lab_want[:, None, :] - lab_found[None, :, :]) ** 2).sum(-1)).min(axis=1)
    weights = np.array([w for _, w in wanted], dtype=np.float64)
    return round(float((dist * weights).sum() / weights.sum()), 3)


# --- edit locality -------------------------------------------------------------------------
def edit_locality(img: Image.Image, source: Any, mask: Any) -> float | None:
    """0–1: the share of pixels outside the mask (white = keep) that the edit left unchanged,
    within `EDIT_LOCALITY_TOLERANCE` per channel. 1 = nothing changed outside the mask. The
    result is compared at the source's size. None without a source image and a mask."""
    if source is None or mask is None:
        return None
    import numpy as np
    from PIL import Image

    src = open_image(source).convert("RGB")
    keep = np.asarray(open_image(mask).convert("L").resize(src.size, Image.Resampling.NEAREST)) >= 128
    if not keep.any():
        return None  # everything was to be edited: nothing outside the mask to stay put
    out = img.convert("RGB")
    if out.size != src.size:
        out = out.resize(src.size, Image.Resampling.BILINEAR)
    diff = np.abs(np.asarray(out, dtype=np.int16) - np.asarray(src, dtype=np.int16)).max(axis=-1)
    unchanged = diff[keep] <= _config.EDIT_LOCALITY_TOLERANCE
    return round(float(unchanged.mean()), 4)


# --- all of them ---------------------------------------------------------------------------
def score_image(image: Any, spec: Any = None, *, ocr: bool = True) -> dict[str, float | None]:
    """Every metric of `METRICS` for one image, None where it does not apply.

    `image`: a path, bytes, PIL image or result image. `spec`: the spec (or its `to_dict()`)
    that made it; without it only `sharpness` applies. `text_accuracy` needs quoted text in the
    prompt and tesseract; `edit_locality` an `image` and `mask` in the spec; `palette_delta_e` a
    `color_palette` of colours. `near_duplicate` needs a call's images (`score_images`).
    `ocr=False` leaves `text_accuracy` None (e.g. to score the cheap metrics first).
    """
    img = open_image(image)
    img.load()
    return {
        "text_accuracy": text_accuracy(img, spec) if ocr else None,
        "edit_locality": edit_locality(img, _field(spec, "image"), _field(spec, "mask")),
        "palette_delta_e": palette_delta_e(img, _field(spec, "color_palette")),
        "sharpness": sharpness(img),
        "near_duplicate": None,
    }


def score_images(images: Sequence[Any], spec: Any = None, *, ocr: bool = True) -> list[dict[str, float | None]]:
    """`score_image` of each image of one call, plus `near_duplicate`: 1.0 when another image of
    the same call is a near-duplicate of it, 0.0 when none is, None for a single image."""
    opened = [open_image(im) for im in images]  # decoded once for every metric
    scores = [score_image(im, spec, ocr=ocr) for im in opened]
    if len(opened) > 1:
        dup = {k for i, j, _ in near_duplicates(opened) for k in (i, j)}
        for k, s in enumerate(scores):
            s["near_duplicate"] = 1.0 if k in dup else 0.0
    return scores
