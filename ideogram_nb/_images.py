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

Edit masks are the one input that is changed: a mask with grey (or coloured) pixels, which
every JPEG mask has, is thresholded at mid-grey into a clean black-and-white PNG, and the
`ImageInput` records how many pixels moved so the spec can warn. Refusing such masks would
refuse a format the service documents for masks; sending them as they are would leave the
service to guess.

Pillow and numpy are imported by the functions that decode, not with the module: specs
import this module, and `import ideogram_nb` should not pay for either (an `ImageInput`
passed around as bytes never needs them).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._api import LARGER_IMAGE_LIMITS
from ._config import MASK_THRESHOLD, MAX_IMAGE_BYTES, MIN_MASK_COVERAGE
from ._errors import ImageInputError
from ._thumbnails import flatten_on_white

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

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
#: No endpoint takes a larger file (per-endpoint limits are checked by the specs): refused at
#: once, before decoding.
MAX_IMAGE_BYTES_ANY_ENDPOINT = max(MAX_IMAGE_BYTES, *LARGER_IMAGE_LIMITS.values())

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
    #: Edit masks only: pixels that were neither pure black nor pure white before the mask
    #: was thresholded into these bytes (0: sent as given).
    moved_pixels: int = 0

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
        from PIL import Image

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
def to_image_input(value: object, *, field: str = "image", mask: bool = False, grey: bool | None = None) -> ImageInput:
    """Normalise any accepted image value to the bytes that will be sent.

    Accepts a path (str/Path), bytes, a PIL image, an `ImageInput`, a `"sha256:<hex>"` ref,
    anything with `.to_png()` (a Mask), anything whose `.mask` has `.to_png()` (a
    MaskPainter), or anything with `.path` (a result image). `mask=True` marks an edit mask:
    encoded greyscale, and thresholded to pure black and white (see `binarize_mask`).
    `grey` (default: `mask`) encodes a PIL image as greyscale L instead of RGB.
    """
    found = _to_image_input(value, field=field, grey=mask if grey is None else grey)
    return binarize_mask(found) if mask else found


def _to_image_input(value: object, *, field: str, grey: bool) -> ImageInput:
    if isinstance(value, ImageInput):
        return value
    from PIL import Image  # every other kind of value is decoded or encoded

    if isinstance(value, Image.Image):
        return _from_pil(value, field=field, grey=grey)
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


def open_image(value: Any, *, flatten: bool = False) -> Image.Image:
    """Load anything the toolkit calls an image as PIL, with no file left open.

    Accepts a PIL image, a path, bytes, an object with `.open()` (an `ImageResult`, an
    `ImageInput`), `.to_png()` (a `Mask`) or `.path`. Unlike `to_image_input` it applies no
    endpoint rules (format, size limit): it is for looking at an image, not for sending it.
    `flatten=True` gives it as RGB (or L) with transparency composited over white: the one
    rule every preview, thumbnail and the mask painter show transparent pixels by.
    """
    img = _open_any(value)
    return flatten_on_white(img) if flatten else img


def _open_any(value: Any) -> Image.Image:
    from PIL import Image

    if isinstance(value, Image.Image):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _load(io.BytesIO(bytes(value)))
    if isinstance(value, (str, Path)):
        return _load(value)
    opener = getattr(value, "open", None)
    if callable(opener):
        img = opener()
        if isinstance(img, Image.Image):
            return img
    to_png = getattr(value, "to_png", None)
    if callable(to_png):
        return _load(io.BytesIO(bytes(to_png())))
    path = getattr(value, "path", None)
    if isinstance(path, (str, Path)):
        return _load(path)
    raise ImageInputError(
        f"cannot read an image from {type(value).__name__}: give a path, bytes, a PIL image or a result image"
    )


def _load(source: str | Path | io.BytesIO) -> Image.Image:
    from PIL import Image

    with Image.open(source) as img:
        img.load()
        return img


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _too_big(field: str, n: int) -> ImageInputError:
    return ImageInputError(
        f"{field}: the image is {_mb(n)}; no endpoint takes more than {_mb(MAX_IMAGE_BYTES_ANY_ENDPOINT)} per "
        f"image (most take {_mb(MAX_IMAGE_BYTES)})"
    )


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
    if size > MAX_IMAGE_BYTES_ANY_ENDPOINT:
        raise _too_big(field, size)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageInputError(f"{field}: cannot read {str(path)!r} ({exc.strerror or exc})") from None


def _decode(data: bytes, *, field: str) -> Image.Image:
    """Fully decode `data` (so truncation shows now, not at the service) or raise."""
    from PIL import Image, UnidentifiedImageError

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
    if len(data) > MAX_IMAGE_BYTES_ANY_ENDPOINT:  # before decoding: a 50 MB upload is refused at once
        raise _too_big(field, len(data))
    if not data:
        raise ImageInputError(f"{field}: the image is empty (0 bytes)")
    img = _decode(data, field=field)
    mime = _ACCEPTED[img.format or ""][0]
    return ImageInput(data, mime, img.width, img.height, hashlib.sha256(data).hexdigest())


def _from_pil(img: Image.Image, *, field: str, grey: bool) -> ImageInput:
    """Encode a PIL image as PNG: L for masks, RGB (transparency over white) otherwise."""
    try:
        if grey:
            out = img if img.mode == "L" else img.convert("L")
        else:
            out = flatten_on_white(img)
            out = out if out.mode == "RGB" else out.convert("RGB")
        buf = io.BytesIO()
        out.save(buf, format="PNG")
    except (OSError, ValueError) as exc:
        raise ImageInputError(f"{field}: cannot encode this PIL image (mode {img.mode}): {exc}") from None
    data = buf.getvalue()
    if len(data) > MAX_IMAGE_BYTES_ANY_ENDPOINT:
        raise _too_big(field, len(data))
    return ImageInput(data, "image/png", out.width, out.height, hashlib.sha256(data).hexdigest())


# --- mask pixel rules -----------------------------------------------------------------------
@dataclass(frozen=True)
class MaskStats:
    """What the mask rules need from a mask's pixels."""

    width: int
    height: int
    off_pixels: int  # neither pure black nor pure white
    edit_fraction: float  # black (= edit) pixels after thresholding / all pixels


def _mask_grey(data: bytes) -> tuple[np.ndarray, int]:
    """The mask as greyscale values, and how many pixels are neither pure black nor white."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgb_img = img.convert("RGB")
    rgb, grey = np.asarray(rgb_img), np.asarray(rgb_img.convert("L"))
    pure = np.all(rgb == 0, axis=2) | np.all(rgb == 255, axis=2)
    return grey, int(pure.size - pure.sum())


@lru_cache(maxsize=16)
def _mask_stats(sha256: str, data: bytes) -> MaskStats:
    # Keyed on the hash too: forms re-validate on every keystroke, masks decode once.
    grey, off = _mask_grey(data)
    total = grey.size
    black = int((grey < MASK_THRESHOLD).sum())
    return MaskStats(grey.shape[1], grey.shape[0], off, black / total if total else 0.0)


def binarize_mask(mask: ImageInput) -> ImageInput:
    """The mask as pure black (edit) and white (keep): unchanged when it already is, else a
    greyscale PNG thresholded at `MASK_THRESHOLD`, recording the pixels that moved.

    Why threshold rather than refuse: Ideogram's schema documents JPEG masks, and a JPEG can
    never hold only pure black and white; the seed's "only black and white" rule is met by
    sending a clean mask.
    """
    stats = _mask_stats(mask.sha256, mask.data)
    if not stats.off_pixels:
        return mask
    import numpy as np
    from PIL import Image

    grey, _ = _mask_grey(mask.data)
    clean = Image.fromarray(np.where(grey < MASK_THRESHOLD, 0, 255).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    clean.save(buf, format="PNG")
    data = buf.getvalue()
    return ImageInput(
        data, "image/png", clean.width, clean.height, hashlib.sha256(data).hexdigest(),
        moved_pixels=mask.moved_pixels + stats.off_pixels,
    )  # fmt: skip


def mask_rule_violations(mask: ImageInput, image: ImageInput | None) -> list[str]:
    """The mask rules (black = edit, white = keep) this mask breaks, in words.

    Exactly the image's size, not pure white, and at least `MIN_MASK_COVERAGE` of it black,
    judged on the mask as it is sent (grey pixels thresholded, see `binarize_mask`).
    """
    stats = _mask_stats(mask.sha256, mask.data)
    rules: list[str] = []
    if image is not None and (stats.width, stats.height) != (image.width, image.height):
        rules.append(f"must be exactly the image's size {image.width}x{image.height}, not {stats.width}x{stats.height}")
    coverage = mask_coverage_rule(stats.edit_fraction)
    if coverage is not None:
        rules.append(coverage)
    return rules


def mask_coverage_rule(edit_fraction: float) -> str | None:
    """The edit-area rule in words (`None` when met): the one wording everywhere.

    Why one function: the rule used to be written three times (specs, `Mask`, painter) and
    the copies disagreed at the edge -- 9.97 % shown as "10.0 %, must be at least 10 %". The
    share is cut, never rounded, to one decimal, so a refused mask never reads as passing.
    """
    minimum = f"{100 * MIN_MASK_COVERAGE:g} %"
    if edit_fraction <= 0.0:
        return f"is pure white: nothing to edit (paint the area to change black, at least {minimum} of the image)"
    if edit_fraction < MIN_MASK_COVERAGE:
        shown = math.floor(edit_fraction * 1000) / 10
        return f"covers {shown:.1f} % of the image; paint at least {minimum} (black = edit)"
    return None


def mask_warnings(mask: ImageInput) -> list[str]:
    """What was changed in the mask before sending, in words (empty when nothing was)."""
    moved = mask.moved_pixels or _mask_stats(mask.sha256, mask.data).off_pixels
    if not moved:
        return []
    share = 100 * moved / (mask.width * mask.height)
    return [
        f"{moved} grey or coloured pixels ({share:.1f} %) were set to pure black (below {MASK_THRESHOLD}) or "
        "white: the mask is sent as a clean black-and-white PNG (JPEG adds such pixels: save masks as PNG)"
    ]
