"""The one thumbnail maker: transparency flattened onto white, shrunk, encoded as JPEG.

Why one place: the store, the widgets, the exported notebooks and the contact sheets each
had their own copy, and they disagreed (one turned transparency black, another used a
cheaper filter). Every small image the package shows now comes from here, so a transparent
PNG looks the same everywhere: on white, as image viewers show it.

Pillow is imported by the functions that draw, not with the module: `import ideogram_nb`
reaches this module (the store makes thumbnails) and should not pay for Pillow.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from PIL import Image

WHITE = (255, 255, 255)
#: Modes with an alpha channel (or a transparent palette entry, checked separately).
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
#: Single-channel modes that stay grey (one channel in the JPEG is a third of the bytes).
_GREY_MODES = ("1", "L", "I", "I;16", "I;16B", "I;16L", "F")

Source: TypeAlias = "bytes | bytearray | memoryview | str | Path | Image.Image"
#: Shrink by whole factors (box filter) until within this factor of the target, then LANCZOS.
_REDUCING_GAP = 1.0


def has_transparency(img: Image.Image) -> bool:
    return img.mode in _ALPHA_MODES or (img.mode == "P" and "transparency" in img.info)


def flatten_on_white(img: Image.Image) -> Image.Image:
    """`img` as RGB (or L when it is grey), transparent pixels composited over white.

    Returns `img` itself when it is already RGB or L.
    """
    if has_transparency(img):
        from PIL import Image

        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if img.mode in ("RGB", "L"):
        return img
    return img.convert("L" if img.mode in _GREY_MODES else "RGB")


def fit_within(img: Image.Image, width: int, height: int, *, reuse: bool = False) -> Image.Image:
    """A flattened copy shrunk (never enlarged) to fit `width`×`height`, aspect kept.

    An integer box reduction (an area average) as close to the target as it goes, then
    LANCZOS for the rest (`reducing_gap=1.0`): a 1024² image to 256 costs ~1 ms instead of
    ~5 ms with LANCZOS from twice the size, and looks the same at thumbnail size.
    `reuse=True` lets it shrink `img` itself (a fresh decode nobody else holds): copying a
    1024² image costs as much as shrinking it.
    """
    from PIL import Image

    flat = flatten_on_white(img)
    small = flat.copy() if flat is img and not reuse else flat  # `thumbnail` works in place
    small.thumbnail((max(1, width), max(1, height)), Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    return small


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def make_thumbnails(source: Source, sizes: Sequence[tuple[int, int]]) -> list[bytes]:
    """JPEG thumbnails (longest side ≤ px) for each `(px, quality)`, decoding `source` once
    (a smaller one may differ by a hair from asking for it alone: see `_from_image`).

    `source`: encoded bytes, a path or a PIL image. JPEG sources decode at a reduced scale
    (`draft`) when that is still at least the largest size asked for.
    """
    from PIL import Image

    if isinstance(source, Image.Image):
        return _from_image(source, sizes, owned=False)
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    with Image.open(stream) as img:
        largest = max(px for px, _ in sizes)
        img.draft("RGB", (largest, largest))  # a no-op for everything but JPEG
        img.load()
        return _from_image(img, sizes, owned=True)


def _from_image(img: Image.Image, sizes: Sequence[tuple[int, int]], *, owned: bool) -> list[bytes]:
    """Largest first, each smaller size shrunk from the one before: a second size costs a
    tenth of the first (the decode and the big reduction are shared)."""
    current = flatten_on_white(img)
    reuse = owned or current is not img  # ours to shrink in place
    made: dict[tuple[int, int], bytes] = {}
    for px, quality in sorted(set(sizes), key=lambda size: -size[0]):
        current = fit_within(current, px, px, reuse=reuse)
        reuse = True
        made[(px, quality)] = _jpeg(current, quality)
    return [made[size] for size in sizes]


def make_thumbnail(source: Source, px: int, quality: int) -> bytes:
    """One JPEG thumbnail, longest side ≤ px (never enlarged), transparency on white."""
    return make_thumbnails(source, [(px, quality)])[0]


__all__ = ["fit_within", "flatten_on_white", "has_transparency", "make_thumbnail", "make_thumbnails"]
