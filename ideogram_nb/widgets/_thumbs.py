"""Small JPEGs for grids and previews: never the full PNG in the notebook.

Why: a notebook that embeds eight 1024×1024 PNGs per run grows by tens of megabytes and
stalls the browser. Grids show thumbnails (a few kB each); the full file stays in the image
store, one click away. Thumbnails come from the history's store when one is given (cached on
disk, shared with exports), else are made here from the file, and are kept in a small
in-memory cache keyed by content hash.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .._config import THUMBNAIL_JPEG_QUALITY, THUMBNAIL_PX

_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
_lock = threading.Lock()


def _cached(key: tuple[str, int]) -> bytes | None:
    with _lock:
        data = _cache.get(key)
        if data is not None:
            _cache.move_to_end(key)
        return data


def _remember(key: tuple[str, int], data: bytes) -> bytes:
    with _lock:
        _cache[key] = data
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return data


def shrink_to_jpeg(img: Image.Image, px: int, quality: int = THUMBNAIL_JPEG_QUALITY) -> bytes:
    """Fit within px×px (never enlarge); transparency over white, since JPEG has none."""
    img.draft("RGB", (px, px))  # JPEG sources decode at a reduced scale: much faster
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.thumbnail((px, px), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def image_bytes(value: Any) -> bytes | None:
    """The encoded bytes behind any accepted image value, or None if there are none."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    data = getattr(value, "data", None)  # ImageInput
    if isinstance(data, bytes):
        return data
    if isinstance(value, Image.Image):
        buf = io.BytesIO()
        value.save(buf, format="PNG")
        return buf.getvalue()
    to_png = getattr(value, "to_png", None)  # Mask
    if callable(to_png):
        return bytes(to_png())
    path = getattr(value, "path", None) if not isinstance(value, (str, Path)) else value
    if path is not None:
        try:
            return Path(path).read_bytes()
        except OSError:
            return None
    return None


def preview_jpeg(value: Any, px: int = 160) -> bytes | None:
    """A small JPEG of an image value (upload, result, path, PIL…); None if unreadable."""
    sha = getattr(value, "sha256", None)
    key = (str(sha), px) if isinstance(sha, str) else None
    if key is not None and (hit := _cached(key)) is not None:
        return hit
    data = image_bytes(value)
    if data is None:
        return None
    if key is None:
        key = (hashlib.sha256(data).hexdigest(), px)
        if (hit := _cached(key)) is not None:
            return hit
    try:
        with Image.open(io.BytesIO(data)) as img:
            return _remember(key, shrink_to_jpeg(img, px))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def result_thumbnail(image: Any, px: int = THUMBNAIL_PX, store: Any = None) -> bytes:
    """Thumbnail of an `ImageResult`: from the store's disk cache if possible, else made here.

    A withheld or missing image gets the grey placeholder, never an exception.
    """
    if getattr(image, "path", None) is None:
        return placeholder(px, "withheld")
    sha = getattr(image, "sha256", None)
    key = (str(sha), px)
    if sha and (hit := _cached(key)) is not None:
        return hit
    if store is not None and sha:
        try:
            return _remember(key, store.thumbnail(sha, px))
        except (KeyError, OSError, ValueError):
            pass
    try:
        with Image.open(image.path) as img:
            return _remember(key, shrink_to_jpeg(img, px))
    except (OSError, ValueError, Image.DecompressionBombError):
        return placeholder(px, "missing")


def placeholder(px: int, text: str, ratio: float = 1.0) -> bytes:
    """A grey JPEG saying `text` (withheld by the safety check, or missing)."""
    key = (f"placeholder:{text}:{ratio:.3f}", px)
    if (hit := _cached(key)) is not None:
        return hit
    w, h = (px, max(1, round(px / ratio))) if ratio >= 1 else (max(1, round(px * ratio)), px)
    img = Image.new("RGB", (w, h), (200, 200, 200))
    draw = ImageDraw.Draw(img)
    box = draw.textbbox((0, 0), text)
    draw.text(((w - (box[2] - box[0])) / 2, (h - (box[3] - box[1])) / 2), text, fill=(90, 90, 90))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=THUMBNAIL_JPEG_QUALITY)
    return _remember(key, out.getvalue())
