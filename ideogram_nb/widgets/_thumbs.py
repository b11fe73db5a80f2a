"""Small JPEGs for grids and previews: never the full PNG in the notebook.

Why: a notebook that embeds eight 1024×1024 PNGs per run grows by tens of megabytes and
stalls the browser. Grids show thumbnails (a few kB each); the full file stays in the image
store, one click away. Thumbnails of stored images come from the store (made ahead when the
image was stored, cached on disk, shared with exports), also when no store is given but the
file lies in one; others are made by the same maker (`ImageStore.make_thumbnail`:
transparency on white). All are kept in a small in-memory cache keyed by content hash.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

import ideogram_nb as ig

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


def shrink_to_jpeg(source: bytes | Path | Image.Image, px: int, quality: int = THUMBNAIL_JPEG_QUALITY) -> bytes:
    """Fit within px×px (never enlarge); transparency over white, since JPEG has none.

    The package's one maker (`ImageStore.make_thumbnail`); give it bytes or a path when you
    can: it then decodes JPEGs at a reduced scale and shrinks without a copy.
    """
    return ig.ImageStore.make_thumbnail(source, px, quality)


def _store_holding(image: Any) -> Any:
    """The `ImageStore` whose layout (`<root>/<sha[:2]>/<sha>.<ext>`) holds this result's
    file, or None: a result from a store has its thumbnails there, made when it was stored."""
    sha, path = getattr(image, "sha256", None), getattr(image, "path", None)
    if not isinstance(sha, str) or path is None:
        return None
    path = Path(path)
    if path.stem != sha or path.parent.name != sha[:2] or not path.is_file():
        return None
    return ig.ImageStore(path.parent.parent, fsync=False)


def preview_jpeg(value: Any, px: int = 160) -> bytes | None:
    """A small JPEG of an image value (upload, result, path, PIL…); None if unreadable.

    Anything image-like is read by the package's one reader, `ig.open_image`; a value that
    carries its content hash (`sha256`) is cached by it, any other by the decoded pixels'.
    """
    if value is None:
        return None
    sha = getattr(value, "sha256", None)
    key = (str(sha), px) if isinstance(sha, str) else None
    if key is not None and (hit := _cached(key)) is not None:
        return hit
    try:
        img = ig.open_image(value)
        if key is None:
            digest = hashlib.sha256(f"{img.mode}{img.size}".encode())
            digest.update(img.tobytes())
            key = (digest.hexdigest(), px)
            if (hit := _cached(key)) is not None:
                return hit
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
    if store is None:
        store = _store_holding(image)
    if store is not None and sha:
        try:
            return _remember(key, store.thumbnail(sha, px))
        except (KeyError, OSError, ValueError):
            pass
    try:
        return _remember(key, shrink_to_jpeg(Path(image.path), px))
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
