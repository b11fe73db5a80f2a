"""Image inputs: the exact bytes one `image`, `mask` or style reference sends.

Why normalise once, here: an input's identity is the SHA-256 of the bytes that go on the
wire. History, replay and `to_dict()` all key on it, so the conversion must happen exactly
once and be deterministic. JPEG, PNG and WebP files are sent untouched (their hash is the
file's hash); PIL images are encoded to PNG; every other format is refused with the rule
rather than silently converted, so the user knows what was sent. An `ImageInput` holds
bytes, never a PIL image: PIL objects are lazy, mutable and hold file handles.

`"sha256:<hex>"` references (what `to_dict()` writes) are resolved through pluggable
resolvers; the history's image store registers one, so `spec_from_dict` can rebuild specs
without this module knowing where images live.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ._config import MAX_IMAGE_BYTES, MIN_MASK_COVERAGE
from ._errors import ImageInputError

#: PIL format → (MIME type, file extension). MPO is the multi-picture JPEG phones write:
#: a plain JPEG to every decoder, so it is accepted as one.
_ACCEPTED: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_ALLOWED_TEXT = "allowed JPEG, PNG, WebP"
_REF_RE = re.compile(r"^sha256:([0-9a-f]{64})$")

#: A resolver gets the hex digest (no "sha256:" prefix) and returns the bytes or None.
ImageResolver = Callable[[str], bytes | None]
_RESOLVERS: list[ImageResolver] = []
#: `warnings.catch_warnings` swaps process-wide state; two threads decoding at once could
#: leave a filter behind. Decoding is serialised so our own calls never interleave.
_DECODE_LOCK = threading.Lock()


@dataclass(frozen=True, repr=False, eq=False)
class ImageInput:
    """One normalised image input: exactly the bytes that are sent, and what they are."""

    data: bytes
    mime: str
    width: int
    height: int
    sha256: str

    @property
    def ref(self) -> str:
        """The id `to_dict()` stores and `to_image_input` resolves back."""
        return f"sha256:{self.sha256}"

    @property
    def filename(self) -> str:
        """A stable upload name: content-addressed, so it leaks no local path."""
        ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[self.mime]
        return f"{self.sha256[:12]}.{ext}"

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def open(self) -> Image.Image:
        """A fresh PIL image of the bytes (callers may mutate it freely)."""
        return Image.open(io.BytesIO(self.data))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageInput) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __repr__(self) -> str:
        kb = len(self.data) / 1024
        return f"<ImageInput sha256:{self.sha256[:12]}… {self.width}x{self.height} {self.mime} {kb:.1f} kB>"


# --- resolving "sha256:<hex>" references ----------------------------------------------------
def register_image_resolver(fn: ImageResolver) -> ImageResolver:
    """Add a source for `sha256:` refs (tried in registration order); returns `fn`.

    `fn(hex_digest)` returns the bytes or None. Registering the same function twice is a
    no-op, so stores may call this on every open.
    """
    if fn not in _RESOLVERS:
        _RESOLVERS.append(fn)
    return fn


def unregister_image_resolver(fn: ImageResolver) -> None:
    """Remove a resolver (tests use this to leave no global state behind)."""
    if fn in _RESOLVERS:
        _RESOLVERS.remove(fn)


def is_image_ref(value: object) -> bool:
    return isinstance(value, str) and _REF_RE.match(value) is not None


def resolve_image_ref(ref: str, *, field: str = "image") -> bytes:
    """The bytes behind `sha256:<hex>`, checked against the hash; ImageInputError if none."""
    match = _REF_RE.match(ref)
    if match is None:
        raise ImageInputError(f"{field}: {ref!r} is not an image reference (expected 'sha256:' and 64 hex digits)")
    digest = match.group(1)
    for resolver in list(_RESOLVERS):
        try:
            data = resolver(digest)
        except (LookupError, FileNotFoundError):  # a store that signals "not here" by raising
            data = None
        if data is None:
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            raise ImageInputError(f"{field}: the stored image {ref} does not match its hash (the file was changed)")
        return bytes(data)
    raise ImageInputError(f"{field}: no stored image {ref} (was the history moved?)")


# --- normalisation --------------------------------------------------------------------------
def to_image_input(value: object, *, field: str = "image", mask: bool = False) -> ImageInput:
    """Normalise any accepted image value to the bytes that will be sent.

    Accepts a path (str/Path), bytes, a PIL image, an `ImageInput`, a `"sha256:<hex>"` ref,
    anything with `.to_png()` (a Mask), anything whose `.mask` has `.to_png()` (a
    MaskPainter), or anything with `.path` (a result image). `mask=True` only changes how a
    PIL image is encoded (greyscale L instead of RGB).
    """
    if isinstance(value, ImageInput):
        return value
    if isinstance(value, Image.Image):
        return _from_pil(value, field=field, mask=mask)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(value), field=field)
    if isinstance(value, str) and value.startswith("sha256:"):
        return _from_bytes(resolve_image_ref(value, field=field), field=field)
    if isinstance(value, (str, os.PathLike)):
        return _from_bytes(_read_file(Path(value), field=field), field=field)
    to_png = getattr(value, "to_png", None)
    if callable(to_png):
        return _from_bytes(bytes(to_png()), field=field)
    inner = getattr(value, "mask", None)
    if inner is not None and callable(getattr(inner, "to_png", None)):
        return _from_bytes(bytes(inner.to_png()), field=field)
    if hasattr(value, "path"):
        path = value.path
        if path is None:
            raise ImageInputError(f"{field}: this result image has no file (it was withheld as unsafe)")
        return _from_bytes(_read_file(Path(path), field=field), field=field)
    raise ImageInputError(
        f"{field}: cannot use a {type(value).__name__} as an image; give a file path, bytes, "
        "a PIL image, a result image or a 'sha256:' reference"
    )


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _too_big(field: str, n: int) -> ImageInputError:
    return ImageInputError(f"{field}: the image is {_mb(n)}; the limit is {_mb(MAX_IMAGE_BYTES)} per image")


def _read_file(path: Path, *, field: str) -> bytes:
    """Read a file, checking its size before reading so a huge file costs nothing."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageInputError(f"{field}: no such file: {str(path)!r}") from None
    except OSError as exc:
        raise ImageInputError(f"{field}: cannot read {str(path)!r} ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ImageInputError(f"{field}: {str(path)!r} is a folder, not an image file")
    if size > MAX_IMAGE_BYTES:
        raise _too_big(field, size)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageInputError(f"{field}: cannot read {str(path)!r} ({exc.strerror or exc})") from None


def _decode(data: bytes, *, field: str) -> Image.Image:
    """Fully decode `data` (so truncation shows now, not at the service) or raise."""
    # PIL reports huge pixel counts with a DecompressionBombWarning; record it instead of
    # letting a Python warning escape (callers treat warnings as errors).
    with _DECODE_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            img = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageInputError(f"{field}: not a readable image (unknown or corrupt data); {_ALLOWED_TEXT}") from None
        except Image.DecompressionBombError:
            raise ImageInputError(f"{field}: the image has too many pixels to be safe to decode") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageInputError(f"{field}: the image file is truncated or corrupt ({exc})") from None
        fmt = img.format or "unknown"
        if fmt not in _ACCEPTED:
            shown = "WebP" if fmt == "WEBP" else fmt
            raise ImageInputError(f"{field}: {shown} is not accepted; {_ALLOWED_TEXT} (convert the file first)")
        try:
            img.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageInputError(f"{field}: the {fmt} file is truncated or corrupt ({exc})") from None
    if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
        raise ImageInputError(f"{field}: the image has too many pixels ({img.width}x{img.height}) to be useful")
    return img


def _from_bytes(data: bytes, *, field: str) -> ImageInput:
    if len(data) > MAX_IMAGE_BYTES:  # before decoding: a 50 MB upload is refused at once
        raise _too_big(field, len(data))
    if not data:
        raise ImageInputError(f"{field}: the image is empty (0 bytes)")
    img = _decode(data, field=field)
    mime = _ACCEPTED[img.format or ""][0]
    return ImageInput(data, mime, img.width, img.height, hashlib.sha256(data).hexdigest())


def _from_pil(img: Image.Image, *, field: str, mask: bool) -> ImageInput:
    """Encode a PIL image as PNG: L for masks, RGB (transparency over white) otherwise."""
    try:
        if mask:
            out = img if img.mode == "L" else img.convert("L")
        elif img.mode == "RGB":
            out = img
        elif img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            out = Image.new("RGB", rgba.size, (255, 255, 255))
            out.paste(rgba, mask=rgba.getchannel("A"))
        else:
            out = img.convert("RGB")
        buf = io.BytesIO()
        out.save(buf, format="PNG")
    except (OSError, ValueError) as exc:
        raise ImageInputError(f"{field}: cannot encode this PIL image (mode {img.mode}): {exc}") from None
    data = buf.getvalue()
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_big(field, len(data))
    return ImageInput(data, "image/png", out.width, out.height, hashlib.sha256(data).hexdigest())


# --- mask pixel rules -----------------------------------------------------------------------
@dataclass(frozen=True)
class MaskStats:
    """What the mask rules need from a mask's pixels."""

    width: int
    height: int
    off_pixels: int  # neither pure black nor pure white
    edit_fraction: float  # pure black (= edit) pixels / all pixels


@lru_cache(maxsize=16)
def _mask_stats(sha256: str, data: bytes) -> MaskStats:
    # Keyed on the hash too: forms re-validate on every keystroke, masks decode once.
    with Image.open(io.BytesIO(data)) as img:
        rgb = np.asarray(img.convert("RGB"))
    black = np.all(rgb == 0, axis=2)
    white = np.all(rgb == 255, axis=2)
    total = rgb.shape[0] * rgb.shape[1]
    off = int(total - black.sum() - white.sum())
    return MaskStats(rgb.shape[1], rgb.shape[0], off, float(black.sum()) / total if total else 0.0)


def mask_rule_violations(mask: ImageInput, image: ImageInput | None) -> list[str]:
    """The mask rules (black = edit, white = keep) this mask breaks, in words.

    Only pure black and white pixels (RGB, RGBA or grey), exactly the image's size, not
    pure white, and at least `MIN_MASK_COVERAGE` of it black.
    """
    stats = _mask_stats(mask.sha256, mask.data)
    rules: list[str] = []
    if image is not None and (stats.width, stats.height) != (image.width, image.height):
        rules.append(
            f"must be exactly the image's size {image.width}x{image.height}, not {stats.width}x{stats.height}"
        )
    if stats.off_pixels:
        share = 100 * stats.off_pixels / (stats.width * stats.height)
        rules.append(
            f"must contain only pure black (edit) and pure white (keep) pixels; {stats.off_pixels} "
            f"pixels ({share:.1f} %) are grey or coloured (JPEG adds such pixels: save masks as PNG)"
        )
    if stats.edit_fraction == 0.0:
        rules.append("is pure white: nothing to edit (paint the region to edit black)")
    elif stats.edit_fraction < MIN_MASK_COVERAGE:
        rules.append(
            f"the black (edit) area is {100 * stats.edit_fraction:.1f} % of the image; "
            f"it must be at least {100 * MIN_MASK_COVERAGE:.0f} %"
        )
    return rules
