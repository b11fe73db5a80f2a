"""`Mask`: the region of an image to edit, kept as a boolean array built from ops kept as data.

Why a real object and not "whatever the canvas shows": Gradio's editor hands back layers and a
composite but no mask, and every user rebuilds one by hand. Here the edit region lives in
Python at the source image's size (True = edit), every change is a plain-data op (so undo,
redo and saving/rebuilding are exact), and the export converts to the endpoint's polarity in
one place (`EDIT_PIXEL`). The widget (`widgets.MaskPainter`) is only a view over this.

Geometry: coordinates are source-image pixels with pixel (i, j) centred at (i, j). A stroke
covers every pixel whose centre lies within `radius` of its polyline (round caps and joins);
a rect covers pixels with x0 <= i < x1 and y0 <= j < y1, so `rect(0, 0, w, h)` is the whole
image and adjacent rects never overlap. Rasterising is pure numpy (`_mask_raster`: row spans,
so a stroke costs the rows it crosses and the pixels it paints), so the same ops give the same
bits on every machine and Pillow version (the mask's bytes end up in request hashes). Ops are
drawn when the mask is next read, consecutive strokes in one pass.
"""

from __future__ import annotations

import base64
import copy
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ._config import MASK_THRESHOLD
from ._errors import ImageInputError
from ._images import mask_coverage_rule, open_image
from ._mask_raster import Stroke, paint_strokes

#: Pixel value of the edit region in the exported PNG. The seed's edit endpoints use
#: black = edit, white = keep; a service with the other polarity is this one line.
EDIT_PIXEL = 0
KEEP_PIXEL = 255 - EDIT_PIXEL

#: Undo replays ops from the nearest snapshot; one (bit-packed) snapshot every N ops.
_SNAPSHOT_EVERY = 16

Op = dict[str, Any]
_OP_NAMES = ("stroke", "rect", "fill", "clear", "invert", "bitmap")


def _image_size(value: Any) -> tuple[int, int]:
    """The (width, height) of an image-like, reading only a file's header when given a path."""
    width, height = getattr(value, "width", None), getattr(value, "height", None)
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    if isinstance(value, (str, Path)):
        with Image.open(value) as img:
            return img.size
    opened = open_image(value)
    return opened.width, opened.height


def _bits_to_b64png(bits: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(bits, dtype=bool)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _b64png_to_bits(data: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(data))) as img:
        return np.asarray(img.convert("1"), dtype=bool)


def _rect_slices(op: Op, width: int, height: int) -> tuple[slice, slice]:
    lo_x, hi_x = sorted((op["x0"], op["x1"]))
    lo_y, hi_y = sorted((op["y0"], op["y1"]))
    xs = slice(min(max(math.ceil(lo_x), 0), width), min(max(math.ceil(hi_x), 0), width))
    ys = slice(min(max(math.ceil(lo_y), 0), height), min(max(math.ceil(hi_y), 0), height))
    return ys, xs


def _apply_ops(arr: np.ndarray, ops: Sequence[Op]) -> None:
    """Apply ops in order to `arr` in place.

    Why in runs: painting is a union and erasing a union taken away, so consecutive strokes
    and rects of one kind commute; all strokes of a run are rasterised in one pass
    (`_mask_raster`), which is what makes rebuilding, undo and a burst of strokes cheap.
    Ops before the last `fill`/`clear` are skipped (those set every pixel), unless a bitmap
    is among them: its size is still checked, as when it was pushed.
    """
    resets = [i for i, op in enumerate(ops) if op["op"] in ("fill", "clear")]
    start = resets[-1] if resets and all(op["op"] != "bitmap" for op in ops[: resets[-1]]) else 0
    strokes: list[Stroke] = []
    run_value = True

    def flush() -> None:
        paint_strokes(arr, strokes, run_value)
        strokes.clear()

    for op in ops[start:]:
        kind = op["op"]
        if kind in ("stroke", "rect"):
            value = not op["erase"]
            if strokes and value != run_value:
                flush()
            run_value = value
            if kind == "stroke":
                strokes.append((op["points"], op["radius"]))
            else:
                ys, xs = _rect_slices(op, arr.shape[1], arr.shape[0])
                arr[ys, xs] = value
            continue
        flush()
        if kind == "fill":
            arr[...] = True
        elif kind == "clear":
            arr[...] = False
        elif kind == "invert":
            np.logical_not(arr, out=arr)
        elif kind == "bitmap":
            bits = _b64png_to_bits(op["png"])
            if bits.shape != arr.shape:
                raise ValueError(f"bitmap op is {bits.shape[1]}x{bits.shape[0]}, mask is {arr.shape[1]}x{arr.shape[0]}")
            arr[...] = bits
    flush()


def _finite(value: Any, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _normalise(op: Any) -> Op:
    """Check an op and return a fresh, JSON-able copy (floats, lists, bools)."""
    if not isinstance(op, dict) or op.get("op") not in _OP_NAMES:
        raise ValueError(f"not a mask op: {op!r} (expected a dict with 'op' in {_OP_NAMES})")
    kind = op["op"]
    if kind == "stroke":
        points = [[_finite(x, "x"), _finite(y, "y")] for x, y in op["points"]]
        if not points:
            raise ValueError("a stroke needs at least one point")
        radius = _finite(op["radius"], "radius")
        if radius <= 0:
            raise ValueError(f"radius must be > 0, got {radius}")
        return {"op": "stroke", "points": points, "radius": radius, "erase": bool(op.get("erase", False))}
    if kind == "rect":
        coords = {k: _finite(op[k], k) for k in ("x0", "y0", "x1", "y1")}
        return {"op": "rect", **coords, "erase": bool(op.get("erase", False))}
    if kind == "bitmap":
        if not isinstance(op.get("png"), str):
            raise ValueError("a bitmap op needs 'png': base64 PNG text")
        return {"op": "bitmap", "png": op["png"]}
    return {"op": kind}


class Mask:
    """The edit region of one image: `array[y, x]` is True where the service may repaint.

    Build it with `stroke`, `rect`, `fill`, `clear`, `invert` (each one undoable op), export
    it with `to_png()` (black = edit, white = keep: what the edit endpoints want) and check
    it with `validate()`. `ops` is the whole history as JSON-able data;
    `Mask.from_ops(width, height, ops)` rebuilds the same mask bit for bit.
    """

    def __init__(self, width: int, height: int) -> None:
        width, height = int(width), int(height)
        if width <= 0 or height <= 0:
            raise ValueError(f"mask size must be positive, got {width}x{height}")
        self._width = width
        self._height = height
        self._array = np.zeros((height, width), dtype=bool)
        self._ops: list[Op] = []
        self._redo: list[Op] = []
        # Ops before this index are the mask's starting point (a loaded image): never undone.
        self._floor = 0
        self._snapshots: dict[int, np.ndarray] = {}
        # `_array` shows the first `_done` ops; the rest are applied, in one batch, when read.
        self._done = 0

    # --- construction -------------------------------------------------------------------
    @classmethod
    def for_image(cls, image: Any) -> Mask:
        """An empty mask at the size of `image` (path, bytes, PIL, result image, ...)."""
        return cls(*_image_size(image))

    @classmethod
    def from_ops(cls, width: int, height: int, ops: Iterable[Op]) -> Mask:
        """Rebuild a mask from `mask.ops` (e.g. after a JSON round trip)."""
        mask = cls(width, height)
        for op in ops:
            mask._push(_normalise(op))
        leading = 0
        while leading < len(mask._ops) and mask._ops[leading]["op"] == "bitmap":
            leading += 1
        mask._floor = leading
        mask._bits()  # rebuild now: a broken op (a bitmap of the wrong size) raises here
        return mask

    @classmethod
    def from_image(cls, image: Any) -> Mask:
        """Read an existing mask: black = edit, white = keep (grey splits at 128).

        An image whose alpha channel has any transparency is read by its alpha instead:
        transparent = edit (the convention of A1111's uploads and OpenAI's edit endpoint), so
        a photo with an erased hole works as its own mask. The loaded region is the mask's
        starting point: `undo()` never goes back past it.
        """
        img = open_image(image)
        if img.mode in ("P", "PA", "LA", "La", "RGBa") or "transparency" in img.info:
            img = img.convert("RGBA")
        alpha = np.asarray(img.getchannel("A")) if "A" in img.getbands() else None
        if alpha is not None and int(alpha.min()) < 255:
            bits = alpha < MASK_THRESHOLD
        else:
            grey = np.asarray(img.convert("L"))
            bits = grey < MASK_THRESHOLD if EDIT_PIXEL < MASK_THRESHOLD else grey >= MASK_THRESHOLD
        mask = cls(img.width, img.height)
        mask._push({"op": "bitmap", "png": _bits_to_b64png(bits)})
        mask._floor = 1
        return mask

    def copy(self) -> Mask:
        """An independent mask with the same ops, undo floor and redo stack."""
        other = Mask(self._width, self._height)
        other._array = self._bits().copy()
        other._done = self._done
        other._ops = copy.deepcopy(self._ops)
        other._redo = copy.deepcopy(self._redo)
        other._floor = self._floor
        other._snapshots = dict(self._snapshots)
        return other

    # --- ops ----------------------------------------------------------------------------
    def stroke(self, points: Iterable[Sequence[float]], radius: float, erase: bool = False) -> None:
        """Paint (or erase) a polyline of (x, y) source pixels with round caps; one point = a dot."""
        if not isinstance(points, np.ndarray):
            points = list(points)  # generators too
        pts = np.asarray(points, dtype=float).reshape(-1, 2).tolist()
        self._push(_normalise({"op": "stroke", "points": pts, "radius": radius, "erase": erase}))

    def rect(self, x0: float, y0: float, x1: float, y1: float, erase: bool = False) -> None:
        """Paint (or erase) the pixels with x0 <= x < x1 and y0 <= y < y1 (corners in any order)."""
        self._push(_normalise({"op": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "erase": erase}))

    def fill(self) -> None:
        """Mark the whole image for editing."""
        self._push({"op": "fill"})

    def clear(self) -> None:
        """Keep the whole image (undoable, like every op)."""
        self._push({"op": "clear"})

    def invert(self) -> None:
        """Swap edit and keep."""
        self._push({"op": "invert"})

    def _push(self, op: Op) -> None:
        self._ops.append(op)
        self._redo.clear()

    def _bits(self) -> np.ndarray:
        """The current edit region, applying the ops not yet drawn (all at once: a burst of
        strokes, a rebuild or an undo costs one pass, see `_apply_ops`)."""
        count = len(self._ops)
        if self._done < count:
            _apply_ops(self._array, self._ops[self._done :])
            self._done = count
            if count - max(self._snapshots, default=0) >= _SNAPSHOT_EVERY:
                self._snapshots[count] = np.packbits(self._array)
        return self._array

    # --- history ------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return len(self._ops) > self._floor

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        """Take back the last op. Returns False (and changes nothing) when there is none."""
        if not self.can_undo:
            return False
        self._redo.append(self._ops.pop())
        count = len(self._ops)
        for key in [k for k in self._snapshots if k > count]:
            del self._snapshots[key]
        if self._done > count:  # drawn past the new end: start again from the nearest snapshot
            self._rewind()
        return True

    def redo(self) -> bool:
        """Re-apply the last undone op. Returns False when there is none."""
        if not self._redo:
            return False
        self._ops.append(self._redo.pop())
        return True

    def _rewind(self) -> None:
        """Restart `_array` from the newest snapshot within the ops (replayed when next read)."""
        count = len(self._ops)
        start = max((k for k in self._snapshots if k <= count), default=0)
        if start:
            size = self._width * self._height
            bits = np.unpackbits(self._snapshots[start], count=size).view(bool)
            self._array = bits.reshape(self._height, self._width)
        else:
            self._array = np.zeros((self._height, self._width), dtype=bool)
        self._done = start

    @property
    def ops(self) -> list[Op]:
        """Every op since the mask was made, oldest first, as JSON-able dicts (a copy)."""
        return copy.deepcopy(self._ops)

    # --- reading ------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in source pixels, like PIL's `size`."""
        return self._width, self._height

    @property
    def array(self) -> np.ndarray:
        """The edit region, shape (height, width), True = edit. Read-only: change it through ops."""
        view = self._bits().view()
        view.flags.writeable = False
        return view

    @property
    def coverage(self) -> float:
        """The fraction of the image to edit, 0..1."""
        bits = self._bits()
        return np.count_nonzero(bits) / bits.size

    def to_image(self) -> Image.Image:
        """The edit region as a PIL mode-L image: 255 where edit, 0 where keep (a selection).

        Not the export polarity: use `to_png()` for what the endpoints want.
        """
        return Image.fromarray(self._bits().astype(np.uint8) * 255)

    def to_png(self) -> bytes:
        """The mask as the edit endpoints want it: a lossless grey PNG at the source size with
        only pure `EDIT_PIXEL` (black) where edit and `KEEP_PIXEL` (white) where keep."""
        pixels = np.where(self._bits(), np.uint8(EDIT_PIXEL), np.uint8(KEEP_PIXEL))
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        return buf.getvalue()

    def validate(self, image_size: tuple[int, int] | None = None) -> None:
        """Raise `ImageInputError` if the edit endpoints would refuse this mask.

        Rules: the same size as the image (when `image_size` is given), something to edit
        (not pure white), and an edit area of at least `MIN_MASK_COVERAGE` of the image.
        """
        if image_size is not None and tuple(image_size) != self.size:
            iw, ih = image_size
            raise ImageInputError(
                f"mask is {self._width}x{self._height} but the image is {iw}x{ih}; they must be exactly the same size"
            )
        problem = self.coverage_problem()
        if problem is not None:
            raise ImageInputError(problem)

    def coverage_problem(self) -> str | None:
        """What is wrong with the edit area, as a sentence (`None` when the endpoints accept it)."""
        rule = mask_coverage_rule(self.coverage)
        return None if rule is None else f"The mask {rule}"

    def __repr__(self) -> str:
        return f"Mask({self._width}x{self._height}, coverage={self.coverage * 100:.1f} %, ops={len(self._ops)})"

    def _repr_png_(self) -> bytes:
        return self.to_png()
