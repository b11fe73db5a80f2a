"""Rasterising mask strokes as row spans: the cost follows the rows a stroke crosses and the
pixels it paints, never the bounding boxes of its segments.

Why not "distance of every pixel in the segment's box" (the original method): a long
diagonal segment's box is almost all unpainted, so 200 strokes of 8 points spread over a
2048² mask took seconds. Here each segment gives, per pixel row it crosses, the interval of
pixel centres within `radius` from a closed formula (the capsule cut by a row is one
interval: the union of the two end discs' and the band's pieces).

Same bits as the original rule `(pixel - closest point of the segment)² <= r²`: where the
formula lands within `_TOL` of a pixel centre (ties: integer points with an integer radius,
a cap's tip) the pixels around that row's ends are decided by the original expression with
the same floating-point operations; nearly axis-parallel segments, where the formula would
divide by a tiny extent, use the original box method, whose box is then about the painted
area anyway. `tests/test_mask.py` checks the equality against the original code.

Spans are filled pixel by pixel (cost ~ painted area) or, when strokes cover a window many
times over, by a running maximum along each row of the window (cost ~ window area).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

#: A formula row end this close to a pixel centre is re-decided by the exact rule.
_TOL = 1e-6
#: Rows where r² - dy² is this small (relative to r²) graze a cap's tip: re-decided too.
_TIP = 1e-9
#: A segment whose x or y extent is below this fraction of its length (but not zero) is
#: rasterised by the original box method: the formula divides by that extent.
_AXIS = 1e-6
#: Pixels on each side of a formula row end that the exact rule looks at.
_WINDOW = 2
#: Rows computed at once: small enough that every temporary array stays in the CPU cache.
_CHUNK = 16384

Stroke = tuple[Sequence[Sequence[float]], float]


class Spans(NamedTuple):
    """Row `rows[i]` is painted from column `lo[i]` to `hi[i]`, both inclusive."""

    rows: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _empty() -> Spans:
    return Spans(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


class _Segments:
    """Every segment of some strokes, as arrays, with its original box and formula constants."""

    def __init__(self, strokes: Sequence[Stroke], height: int, width: int) -> None:
        heads, tails, radii = [], [], []
        for points, radius in strokes:
            p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
            a, b = (p, p) if len(p) == 1 else (p[:-1], p[1:])  # one point: a dot
            heads.append(a)
            tails.append(b)
            radii.append(np.full(len(a), float(radius)))
        a, b = np.concatenate(heads), np.concatenate(tails)
        self.ax, self.ay, self.bx, self.by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        self.r = r = np.concatenate(radii)
        self.width, self.height = width, height
        ax, ay, bx, by = self.ax, self.ay, self.bx, self.by
        # The original method's boxes, inclusive, clipped to the image (as floats: no overflow).
        self.x0 = np.clip(np.ceil(np.minimum(ax, bx) - r), 0, width).astype(np.int64)
        self.x1 = np.clip(np.floor(np.maximum(ax, bx) + r), -1, width - 1).astype(np.int64)
        self.y0 = np.clip(np.ceil(np.minimum(ay, by) - r), 0, height).astype(np.int64)
        self.y1 = np.clip(np.floor(np.maximum(ay, by) + r), -1, height - 1).astype(np.int64)
        self.vx, self.vy = vx, vy = bx - ax, by - ay
        self.r2 = r * r
        length2 = vx * vx + vy * vy
        length = np.sqrt(length2)
        self.near_axis = ((vx != 0) & (np.abs(vx) < _AXIS * length)) | ((vy != 0) & (np.abs(vy) < _AXIS * length))
        self.inside = (self.x0 <= self.x1) & (self.y0 <= self.y1)
        point = length2 == 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # masked by np.where
            # The band along the segment, 0 <= (x, y)·v <= |v|², as x bounds: y*k1 + [lo1, hi1].
            c1 = np.where(vx != 0, length2 / vx, 0.0)
            self.k1 = np.where(vx != 0, -vy / vx, 0.0)
            self.lo1 = np.where(vx != 0, np.minimum(c1, 0.0), -np.inf)
            self.hi1 = np.where(vx != 0, np.maximum(c1, 0.0), np.inf)
            # The band across, |(x, y) × v| <= r|v|, as x bounds: y*k2 ± half.
            self.k2 = np.where(vy != 0, vx / vy, 0.0)
            self.half = np.where(vy != 0, r * length / np.abs(vy), np.inf)
        # Rows (as y - ay) where the band exists at all, for the axis-parallel cases.
        self.band_y0 = np.where(point, np.inf, np.where(vx == 0, np.minimum(vy, 0.0), np.where(vy == 0, -r, -np.inf)))
        self.band_y1 = np.where(point, -np.inf, np.where(vx == 0, np.maximum(vy, 0.0), np.where(vy == 0, r, np.inf)))

    def painted_estimate(self) -> float:
        """About how many pixels the segments paint, overlaps counted (capsule areas)."""
        length = np.sqrt(self.vx * self.vx + self.vy * self.vy)
        return float(np.sum((2 * self.r * length + np.pi * self.r2)[self.inside]))

    def window(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1), inclusive: the box around every segment's box; None if none is inside."""
        if not self.inside.any():
            return None
        keep = self.inside
        return int(self.x0[keep].min()), int(self.y0[keep].min()), int(self.x1[keep].max()), int(self.y1[keep].max())


def _exact_hits(x: np.ndarray, y: np.ndarray, ax: np.ndarray, ay: np.ndarray, vx: np.ndarray,
                vy: np.ndarray, r2: np.ndarray) -> np.ndarray:  # fmt: skip
    """The original per-pixel rule, with the same floating-point operations in the same order."""
    xs = x.astype(np.float64) - ax
    ys = y.astype(np.float64) - ay
    length2 = vx * vx + vy * vy
    point = length2 == 0
    safe = np.where(point, 1.0, length2)
    t = xs * (vx / safe) + ys * (vy / safe)
    np.clip(t, 0.0, 1.0, out=t)
    ex = xs - t * vx
    ey = ys - t * vy
    hit: np.ndarray = np.where(point, xs * xs + ys * ys <= r2, ex * ex + ey * ey <= r2)
    return hit


def _box_spans(seg: _Segments, i: int) -> Spans:
    """Segment `i` by the original method over its bounding box."""
    xs = np.arange(seg.x0[i], seg.x1[i] + 1)
    ys = np.arange(seg.y0[i], seg.y1[i] + 1)
    grid_x = np.broadcast_to(xs[None, :], (len(ys), len(xs)))
    grid_y = np.broadcast_to(ys[:, None], (len(ys), len(xs)))
    hit = _exact_hits(grid_x, grid_y, seg.ax[i], seg.ay[i], seg.vx[i], seg.vy[i], seg.r2[i])
    any_hit = hit.any(axis=1)
    first = hit.argmax(axis=1) + seg.x0[i]
    last = seg.x0[i] + hit.shape[1] - 1 - hit[:, ::-1].argmax(axis=1)
    return Spans(ys[any_hit], first[any_hit], last[any_hit])


def _row_ranges(seg: _Segments, idx: np.ndarray) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Split each segment's box rows into rows that may cross an end disc and the rows in
    between, which only the band reaches (both discs are farther than r): (segment, first
    row, row count) for each group."""
    ymin = np.minimum(seg.ay[idx], seg.by[idx])
    ymax = np.maximum(seg.ay[idx], seg.by[idx])
    y0, y1, r = seg.y0[idx], seg.y1[idx], seg.r[idx]
    m0 = np.maximum(np.floor(ymin + r + _TOL).astype(np.int64) + 1, y0)
    m1 = np.minimum(np.ceil(ymax - r - _TOL).astype(np.int64) - 1, y1)
    middle = m0 <= m1
    # No middle: the whole box is disc rows (as the "low" range); else low = [y0, m0), high = (m1, y1].
    low_end = np.where(middle, m0 - 1, y1)
    disc = (
        np.concatenate([idx, idx[middle]]),
        np.concatenate([y0, m1[middle] + 1]),
        np.concatenate([low_end - y0 + 1, y1[middle] - m1[middle]]),
    )
    band = (idx[middle], m0[middle], m1[middle] - m0[middle] + 1)
    return disc, band


def _chunks(segs: np.ndarray, firsts: np.ndarray, counts: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(segment, row) per row of the ranges, about `_CHUNK` rows at a time."""
    keep = counts > 0
    segs, firsts, counts = segs[keep], firsts[keep], counts[keep]
    if not len(counts):
        return
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(_CHUNK, int(ends[-1]), _CHUNK), side="right").tolist()
    for a, b in zip([0, *cuts], [*cuts, len(counts)], strict=True):
        if a < b:
            c = counts[a:b]
            offsets = np.cumsum(c) - c
            yield np.repeat(segs[a:b], c), np.repeat(firsts[a:b] - offsets, c) + np.arange(int(c.sum()))


def _disc_rows(seg: _Segments, s: np.ndarray, rows: np.ndarray) -> Spans:
    """Rows that may cross an end disc: union of both discs' and the band's pieces."""
    ay, r2, vx, vy, ax = seg.ay[s], seg.r2[s], seg.vx[s], seg.vy[s], seg.ax[s]
    ys = rows - ay
    tip = _TIP * r2
    qa = r2 - ys * ys
    yb = ys - vy
    qb = r2 - yb * yb
    ha = np.sqrt(np.maximum(qa, 0.0))
    hb = np.sqrt(np.maximum(qb, 0.0))
    in_a = qa >= -tip
    in_b = qb >= -tip
    # Relative to ax until the end.
    lo = np.minimum(np.where(in_a, -ha, np.inf), np.where(in_b, vx - hb, np.inf))
    hi = np.maximum(np.where(in_a, ha, -np.inf), np.where(in_b, vx + hb, -np.inf))
    band_lo, band_hi = _band(seg, s, ys)
    band = (band_lo <= band_hi) & (ys >= seg.band_y0[s]) & (ys <= seg.band_y1[s])
    lo = np.minimum(lo, np.where(band, band_lo, np.inf))
    hi = np.maximum(hi, np.where(band, band_hi, -np.inf))
    lo += ax
    hi += ax
    some = lo <= hi
    lo = np.where(some, lo, 0.0)
    hi = np.where(some, hi, -1.0)
    tips = (np.abs(qa) <= tip) | (np.abs(qb) <= tip)
    return _to_spans(seg, s, rows, lo, hi, some, tips)


def _band(seg: _Segments, s: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band's x interval on each row, relative to ax (empty when lo > hi)."""
    along = ys * seg.k1[s]
    across = ys * seg.k2[s]
    half = seg.half[s]
    lo = np.maximum(along + seg.lo1[s], across - half)
    hi = np.minimum(along + seg.hi1[s], across + half)
    return lo, hi


def _band_rows(seg: _Segments, s: np.ndarray, rows: np.ndarray) -> Spans:
    """Rows strictly between the discs: the band alone, never empty (the segment crosses them)."""
    ys = rows - seg.ay[s]
    lo, hi = _band(seg, s, ys)
    ax = seg.ax[s]
    lo += ax
    hi += ax
    return _to_spans(seg, s, rows, lo, hi, None, None)


def _to_spans(seg: _Segments, s: np.ndarray, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray,
              some: np.ndarray | None, tips: np.ndarray | None) -> Spans:  # fmt: skip
    """Round formula ends to pixels inside them; rows with an end on a tie go to `_decide_ends`."""
    ambiguous = (np.abs(lo - np.rint(lo)) < _TOL) | (np.abs(hi - np.rint(hi)) < _TOL)
    if tips is not None:
        ambiguous |= tips
    if some is not None:
        ambiguous &= some
    left = np.maximum(np.ceil(lo), seg.x0[s]).astype(np.int64)
    right = np.minimum(np.floor(hi), seg.x1[s]).astype(np.int64)
    clear = ~ambiguous & (left <= right)
    out = Spans(rows[clear], left[clear], right[clear])
    pick = np.flatnonzero(ambiguous)
    if not len(pick):
        return out
    fixed = _decide_ends(seg, s[pick], rows[pick], left[pick], right[pick])
    return Spans(*(np.concatenate([a, b]) for a, b in zip(out, fixed, strict=True)))


def _decide_ends(seg: _Segments, s: np.ndarray, rows: np.ndarray, left: np.ndarray, right: np.ndarray) -> Spans:
    """Rows whose ends sit on a tie: test the pixels around each end with the exact rule.

    The formula is within a hair of the truth, so the true ends lie in these windows and the
    pixels strictly between them are inside (the capsule is convex).
    """
    offsets = np.arange(-_WINDOW, _WINDOW + 1)
    cand = np.concatenate([left[:, None] + offsets, right[:, None] + offsets], axis=1)
    cand = np.clip(cand, seg.x0[s][:, None], seg.x1[s][:, None])
    col = (slice(None), None)
    hits = _exact_hits(cand, rows[col], seg.ax[s][col], seg.ay[s][col], seg.vx[s][col], seg.vy[s][col],
                       seg.r2[s][col])  # fmt: skip
    big = np.iinfo(np.int64).max
    inner_lo, inner_hi = left + _WINDOW + 1, right - _WINDOW - 1
    has_inner = inner_lo <= inner_hi
    new_left = np.minimum(np.where(hits, cand, big).min(axis=1), np.where(has_inner, inner_lo, big))
    new_right = np.maximum(np.where(hits, cand, -1).max(axis=1), np.where(has_inner, inner_hi, -1))
    ok = new_left <= new_right
    return Spans(rows[ok], new_left[ok], new_right[ok])


def _iter_spans(seg: _Segments) -> Iterator[Spans]:
    """Every painted row interval of the segments, a chunk at a time (spans may overlap)."""
    for i in np.flatnonzero(seg.inside & seg.near_axis):
        yield _box_spans(seg, int(i))
    disc, band = _row_ranges(seg, np.flatnonzero(seg.inside & ~seg.near_axis))
    for s, rows in _chunks(*disc):
        yield _disc_rows(seg, s, rows)
    for s, rows in _chunks(*band):
        yield _band_rows(seg, s, rows)


def stroke_spans(strokes: Sequence[Stroke], height: int, width: int) -> Spans:
    """Every painted row interval of `strokes` ((points, radius) pairs), clipped to the image.

    Spans may overlap; their union is exactly the pixels whose centre lies within the radius
    of a stroke's polyline (round caps and joins).
    """
    if not strokes:
        return _empty()
    parts = list(_iter_spans(_Segments(strokes, height, width)))
    if not parts:
        return _empty()
    return Spans(*(np.concatenate([getattr(p, f) for p in parts]) for f in Spans._fields))


def paint_strokes(arr: np.ndarray, strokes: Sequence[Stroke], value: bool) -> None:
    """Paint (or erase) every stroke into the C-contiguous bool image `arr`.

    Strokes of one value commute (a union, or a union taken away), so a batch is one pass.
    """
    if not strokes:
        return
    if not arr.flags.c_contiguous:
        raise ValueError("paint_strokes needs a C-contiguous image (it writes through a flat view)")
    height, width = arr.shape
    seg = _Segments(strokes, height, width)
    box = seg.window()
    if box is None:
        return
    x0, y0, x1, y1 = box
    if seg.painted_estimate() <= (x1 - x0 + 1) * (y1 - y0 + 1):
        flat = arr.reshape(-1)
        for spans in _iter_spans(seg):
            _fill_pixels(flat, width, spans, value)
        return
    view = arr[y0 : y1 + 1, x0 : x1 + 1]
    reach = _Reach(view.shape, x0, y0)
    for spans in _iter_spans(seg):
        reach.add(spans)
    covered = reach.covered()
    if value:
        view |= covered
    else:
        view &= ~covered


def _fill_pixels(flat: np.ndarray, width: int, spans: Spans, value: bool) -> None:
    """Write each span's pixels by flat index: cost ~ the pixels painted."""
    rows, lo, hi = spans
    lengths = hi - lo + 1
    total = int(lengths.sum())
    if not total:
        return
    first = rows * width + lo
    flat[np.repeat(first - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)] = value


class _Reach:
    """Many overlapping spans over a window: at each span's first pixel keep the farthest
    last pixel starting there; a running maximum along each row then covers every span."""

    def __init__(self, shape: tuple[int, int], x0: int, y0: int) -> None:
        height, width = shape
        self.dtype = np.int16 if width < np.iinfo(np.int16).max else np.int32
        self.reach = np.full(shape, -1, dtype=self.dtype)
        self.x0, self.y0, self.width = x0, y0, width

    def add(self, spans: Spans) -> None:
        rows, lo, hi = spans
        flat = self.reach.reshape(-1)
        where = (rows - self.y0) * self.width + (lo - self.x0)
        ends = np.maximum((hi - self.x0).astype(self.dtype), flat[where])
        while len(where):  # spans starting at the same pixel: the longest must win
            flat[where] = ends
            lost = flat[where] < ends
            where, ends = where[lost], ends[lost]

    def covered(self) -> np.ndarray:
        np.maximum.accumulate(self.reach, axis=1, out=self.reach)
        return self.reach >= np.arange(self.width, dtype=self.dtype)


__all__ = ["Spans", "paint_strokes", "stroke_spans"]
