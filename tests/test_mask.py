"""Mask: geometry, ops as data, undo/redo, export polarity, reading masks, validation."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from frozen_reference import original_paint
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ideogram_nb._config import MIN_MASK_COVERAGE
from ideogram_nb._errors import IdeogramError, ImageInputError
from ideogram_nb._mask import EDIT_PIXEL, KEEP_PIXEL, Mask

# --- a reference rasteriser with a different formula (three-case segment distance) ---------


def _distance_to_polyline(width: int, height: int, points: list[tuple[float, float]]) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(float)
    pairs = list(zip(points[:-1], points[1:], strict=False)) or [(points[0], points[0])]
    best = np.full((height, width), np.inf)
    for (ax, ay), (bx, by) in pairs:
        to_a = np.hypot(xs - ax, ys - ay)
        to_b = np.hypot(xs - bx, ys - by)
        length = np.hypot(bx - ax, by - ay)
        if length == 0:
            dist = to_a
        else:
            before_a = (xs - ax) * (bx - ax) + (ys - ay) * (by - ay) <= 0
            after_b = (xs - bx) * (ax - bx) + (ys - by) * (ay - by) <= 0
            across = np.abs((xs - ax) * (by - ay) - (ys - ay) * (bx - ax)) / length
            dist = np.where(before_a, to_a, np.where(after_b, to_b, across))
        best = np.minimum(best, dist)
    return best


def _assert_matches_capsule(array: np.ndarray, dist: np.ndarray, radius: float) -> None:
    """Inside the capsule → True, outside → False; a hair's band at the edge may go either way."""
    assert array[dist < radius - 1e-6].all()
    assert not array[dist > radius + 1e-6].any()


def _png_pixels(data: bytes) -> tuple[Image.Image, np.ndarray]:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img, np.asarray(img)


# --- strokes -----------------------------------------------------------------------------------


def test_new_mask_is_empty_at_the_given_size() -> None:
    mask = Mask(30, 20)
    assert mask.size == (30, 20)
    assert (mask.width, mask.height) == (30, 20)
    assert mask.array.shape == (20, 30)
    assert mask.array.dtype == bool
    assert mask.coverage == 0.0
    assert not mask.can_undo and not mask.can_redo
    assert mask.ops == []


def test_a_single_point_paints_a_dot_of_exactly_the_radius() -> None:
    mask = Mask(100, 80)
    mask.stroke([(50, 40)], radius=5)
    arr = mask.array
    assert arr[40, 50] and arr[40, 45] and arr[40, 55] and arr[35, 50] and arr[45, 50]
    assert not arr[40, 44] and not arr[40, 56] and not arr[34, 50]
    # integer points within a disc of radius 5 (Gauss circle count)
    assert arr.sum() == 81


def test_stroke_is_a_polyline_with_round_caps_and_joins() -> None:
    points = [(10.0, 10.0), (60.0, 15.0), (40.0, 50.0)]
    mask = Mask(80, 70)
    mask.stroke(points, radius=6)
    _assert_matches_capsule(mask.array, _distance_to_polyline(80, 70, points), 6)
    assert mask.array[10, 5]  # round cap beyond the first point
    assert not mask.array[10, 3]


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.floats(-20, 70, allow_nan=False), st.floats(-20, 60, allow_nan=False)),
        min_size=1,
        max_size=6,
    ),
    radius=st.floats(0.3, 15),
)
def test_any_stroke_matches_the_reference_capsule(points: list[tuple[float, float]], radius: float) -> None:
    mask = Mask(50, 40)
    mask.stroke(points, radius)
    _assert_matches_capsule(mask.array, _distance_to_polyline(50, 40, points), radius)


def test_stroke_accepts_a_numpy_array_and_rejects_nonsense() -> None:
    mask = Mask(40, 40)
    mask.stroke(np.array([[5, 5], [30, 5]]), 2)
    assert mask.array[5, 20]
    mask.stroke(((x, 20) for x in (5, 30)), 2)  # a generator of points
    assert mask.array[20, 20]
    with pytest.raises(ValueError, match="radius"):
        mask.stroke([(1, 1)], 0)
    with pytest.raises(ValueError, match="at least one point"):
        mask.stroke([], 3)
    with pytest.raises(ValueError, match="finite"):
        mask.stroke([(float("nan"), 1)], 3)
    assert len(mask.ops) == 2  # rejected ops leave no trace


def test_eraser_removes_only_along_its_stroke() -> None:
    mask = Mask(60, 60)
    mask.fill()
    mask.stroke([(10, 30), (50, 30)], radius=4, erase=True)
    arr = mask.array
    assert not arr[30, 30] and not arr[26, 10] and not arr[34, 50]
    assert arr[25, 30] and arr[35, 30] and arr[30, 55]
    dist = _distance_to_polyline(60, 60, [(10, 30), (50, 30)])
    _assert_matches_capsule(~arr, dist, 4)


def test_strokes_outside_the_image_are_clipped() -> None:
    mask = Mask(20, 20)
    mask.stroke([(-50, -50), (-30, -30)], radius=5)
    assert mask.coverage == 0
    mask.stroke([(-3, 10)], radius=5)
    assert mask.array[10, 0] and mask.array[10, 2] and not mask.array[10, 3]
    assert mask.array.sum() == 17  # the disc's pixels with x >= 0: rows of 1, 2, 2, 2, 3, 2, 2, 2, 1


# --- rect, fill, clear, invert -----------------------------------------------------------------


def test_rect_is_half_open_and_takes_corners_in_any_order() -> None:
    mask = Mask(100, 100)
    mask.rect(30, 20, 10, 40)  # reversed x
    arr = mask.array
    assert arr[20:40, 10:30].all()
    assert arr.sum() == 20 * 20
    assert mask.coverage == pytest.approx(0.04)


def test_rect_is_clipped_and_the_whole_image_rect_equals_fill() -> None:
    mask = Mask(50, 30)
    mask.rect(40, 25, 500, 500)
    assert mask.array.sum() == 10 * 5
    whole = Mask(50, 30)
    whole.rect(0, 0, 50, 30)
    assert whole.coverage == 1.0
    nothing = Mask(50, 30)
    nothing.rect(60, 60, 90, 90)
    assert nothing.coverage == 0.0


def test_rect_erase() -> None:
    mask = Mask(10, 10)
    mask.fill()
    mask.rect(0, 0, 5, 10, erase=True)
    assert mask.coverage == 0.5
    assert not mask.array[:, :5].any() and mask.array[:, 5:].all()


def test_fill_clear_invert() -> None:
    mask = Mask(10, 10)
    mask.rect(0, 0, 10, 3)
    mask.invert()
    assert mask.coverage == pytest.approx(0.7)
    assert not mask.array[:3].any() and mask.array[3:].all()
    mask.fill()
    assert mask.coverage == 1.0
    mask.clear()
    assert mask.coverage == 0.0
    assert [op["op"] for op in mask.ops] == ["rect", "invert", "fill", "clear"]


# --- undo / redo -------------------------------------------------------------------------------


def test_undo_redo_walk_the_history_and_a_new_op_drops_redo() -> None:
    mask = Mask(20, 20)
    assert mask.undo() is False and mask.redo() is False
    mask.rect(0, 0, 10, 20)
    mask.invert()
    assert mask.coverage == 0.5 and mask.array[0, 15]
    assert mask.undo() is True
    assert mask.array[0, 5] and not mask.array[0, 15]
    assert mask.can_undo and mask.can_redo
    assert mask.undo() is True
    assert mask.coverage == 0 and not mask.can_undo
    assert mask.redo() is True
    assert mask.array[0, 5] and mask.can_redo
    mask.stroke([(15, 15)], 2)
    assert not mask.can_redo
    assert mask.redo() is False
    assert [op["op"] for op in mask.ops] == ["rect", "stroke"]


def test_undo_of_clear_restores_the_painting() -> None:
    mask = Mask(30, 30)
    mask.stroke([(5, 5), (25, 25)], 3)
    before = mask.array.copy()
    mask.clear()
    assert mask.coverage == 0
    mask.undo()
    assert np.array_equal(mask.array, before)


def test_long_histories_undo_exactly_across_snapshots() -> None:
    rng = np.random.default_rng(1)
    mask = Mask(64, 48)
    states = [mask.array.copy()]
    for i in range(45):
        if i % 7 == 3:
            mask.invert()
        else:
            mask.stroke(rng.uniform(0, 64, (3, 2)), float(rng.uniform(1, 6)), erase=bool(i % 5 == 4))
        states.append(mask.array.copy())
    for expected in reversed(states[:-1]):
        assert mask.undo()
        assert np.array_equal(mask.array, expected)
    assert not mask.can_undo
    for expected in states[1:]:
        assert mask.redo()
        assert np.array_equal(mask.array, expected)
    # branch off mid-history: later snapshots must not leak into the new branch
    for _ in range(30):
        mask.undo()
    mask.fill()
    for _ in range(20):
        mask.invert()
    assert mask.coverage == 1.0
    mask.undo()
    assert mask.coverage == 0.0


# --- ops as data -------------------------------------------------------------------------------


def test_ops_round_trip_through_json_bit_for_bit() -> None:
    mask = Mask(120, 90)
    mask.stroke([(10, 10), (100, 80)], 7)
    mask.rect(5, 50, 40, 85)
    mask.stroke([(60, 20)], 9, erase=True)
    mask.invert()
    mask.undo()
    text = json.dumps(mask.ops)
    rebuilt = Mask.from_ops(120, 90, json.loads(text))
    assert np.array_equal(rebuilt.array, mask.array)
    assert rebuilt.to_png() == mask.to_png()
    assert rebuilt.ops == mask.ops
    assert rebuilt.can_undo  # a rebuilt history is undoable
    rebuilt.undo()
    assert rebuilt.array[60, 20]


def test_ops_and_array_cannot_change_the_mask_behind_its_back() -> None:
    mask = Mask(10, 10)
    mask.stroke([(5, 5)], 2)
    ops = mask.ops
    ops[0]["radius"] = 50
    ops.append({"op": "fill"})
    assert mask.ops[0]["radius"] == 2 and len(mask.ops) == 1
    with pytest.raises(ValueError):
        mask.array[0, 0] = True
    assert not mask.array[0, 0]


def test_from_ops_rejects_unknown_ops() -> None:
    with pytest.raises(ValueError, match="not a mask op"):
        Mask.from_ops(10, 10, [{"op": "blur"}])
    with pytest.raises(ValueError, match="radius"):
        Mask.from_ops(10, 10, [{"op": "stroke", "points": [[1, 1]], "radius": -1}])
    with pytest.raises(ValueError):
        Mask(0, 10)


# --- export ------------------------------------------------------------------------------------


def test_polarity_constants_are_black_edit_white_keep() -> None:
    assert (EDIT_PIXEL, KEEP_PIXEL) == (0, 255)


def test_to_png_is_pure_black_where_edit_and_white_elsewhere_at_source_size() -> None:
    mask = Mask(200, 150)
    mask.stroke([(20, 20), (180, 130), (30, 140)], 11.3)
    mask.rect(100, 10, 190, 40)
    data = mask.to_png()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img, pixels = _png_pixels(data)
    assert img.format == "PNG" and img.mode == "L" and img.size == (200, 150)
    assert set(np.unique(pixels).tolist()) == {0, 255}  # never antialiased grey
    assert np.array_equal(pixels == 0, mask.array)
    assert mask._repr_png_() == data


def test_to_image_is_the_selection_255_where_edit() -> None:
    mask = Mask(8, 4)
    mask.rect(0, 0, 2, 4)
    img = mask.to_image()
    assert img.mode == "L" and img.size == (8, 4)
    pixels = np.asarray(img)
    assert (pixels[:, :2] == 255).all() and (pixels[:, 2:] == 0).all()


def test_repr_names_size_and_coverage() -> None:
    mask = Mask(100, 50)
    mask.rect(0, 0, 25, 50)
    assert repr(mask) == "Mask(100x50, coverage=25.0 %, ops=1)"


# --- reading -----------------------------------------------------------------------------------


def test_from_image_reads_a_black_and_white_mask_black_is_edit(tmp_path: Path) -> None:
    original = Mask(64, 32)
    original.stroke([(10, 10), (50, 20)], 6)
    path = tmp_path / "m.png"
    path.write_bytes(original.to_png())
    with Image.open(path) as opened:
        opened.load()
    for source in (path, str(path), original.to_png(), opened):
        loaded = Mask.from_image(source)
        assert loaded.size == (64, 32)
        assert np.array_equal(loaded.array, original.array)


def test_from_image_thresholds_grey_and_colour_at_128() -> None:
    grey = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    assert Mask.from_image(Image.fromarray(grey)).array.tolist() == [[True, True, False, False]]
    rgb = Image.new("RGB", (2, 1), "white")
    rgb.putpixel((0, 0), (0, 0, 0))
    assert Mask.from_image(rgb).array.tolist() == [[True, False]]


def test_from_image_uses_alpha_when_transparent_transparent_is_edit() -> None:
    rgba = np.zeros((10, 20, 4), dtype=np.uint8)  # black everywhere: colour alone would say "all edit"
    rgba[..., 3] = 255
    rgba[2:6, 5:15, 3] = 0
    rgba[7, 0, 3] = 100  # mostly transparent → edit
    rgba[8, 0, 3] = 200  # mostly opaque → keep
    mask = Mask.from_image(Image.fromarray(rgba))
    expected = np.zeros((10, 20), dtype=bool)
    expected[2:6, 5:15] = True
    expected[7, 0] = True
    assert np.array_equal(mask.array, expected)


def test_from_image_of_an_opaque_rgba_reads_the_colours() -> None:
    img = Image.new("RGBA", (4, 4), (255, 255, 255, 255))
    img.putpixel((1, 1), (0, 0, 0, 255))
    mask = Mask.from_image(img)
    assert mask.array.sum() == 1 and mask.array[1, 1]


def test_a_loaded_mask_is_the_starting_point_undo_stops_there() -> None:
    img = Image.new("L", (40, 40), 255)
    img.paste(0, (0, 0, 20, 40))
    mask = Mask.from_image(img)
    assert mask.coverage == 0.5 and not mask.can_undo
    mask.fill()
    assert mask.undo() and mask.coverage == 0.5
    assert mask.undo() is False and mask.coverage == 0.5
    rebuilt = Mask.from_ops(40, 40, json.loads(json.dumps(mask.ops)))
    assert np.array_equal(rebuilt.array, mask.array) and not rebuilt.can_undo


def test_for_image_takes_the_size_from_any_image_like(tmp_path: Path) -> None:
    img = Image.new("RGB", (33, 22))
    path = tmp_path / "a.png"
    img.save(path)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    result_like = SimpleNamespace(path=path)
    opener = SimpleNamespace(open=lambda: img)
    for source in (img, path, str(path), buf.getvalue(), result_like, opener):
        assert Mask.for_image(source).size == (33, 22)
    with pytest.raises(ImageInputError, match="cannot read an image"):
        Mask.for_image(42)


def test_copy_is_independent() -> None:
    mask = Mask(10, 10)
    mask.rect(0, 0, 5, 5)
    twin = mask.copy()
    twin.invert()
    assert mask.coverage == 0.25 and twin.coverage == 0.75
    assert twin.undo() and twin.coverage == 0.25


# --- validation --------------------------------------------------------------------------------


def test_validate_refuses_a_pure_white_mask() -> None:
    with pytest.raises(ImageInputError, match="pure white"):
        Mask(100, 100).validate()
    assert issubclass(ImageInputError, ValueError) and issubclass(ImageInputError, IdeogramError)


def test_validate_refuses_less_than_the_minimum_and_says_the_actual_percentage() -> None:
    mask = Mask(100, 100)
    mask.rect(0, 0, 10, 50)  # 5 %
    with pytest.raises(ImageInputError, match=r"5\.0 % of the image.*at least 10 %"):
        mask.validate()
    nearly = Mask(100, 100)
    nearly.rect(0, 0, 100, 10)
    nearly.rect(0, 10, 99, 11, erase=False)  # 10.99 %
    nearly.rect(0, 0, 1, 1, erase=True)
    nearly.rect(0, 10, 100, 11, erase=True)  # 9.99 %
    with pytest.raises(ImageInputError, match=r"9\.9 %"):
        nearly.validate()


def test_validate_accepts_exactly_the_minimum() -> None:
    mask = Mask(100, 100)
    mask.rect(0, 0, 100, 100 * MIN_MASK_COVERAGE)
    assert mask.coverage == pytest.approx(MIN_MASK_COVERAGE)
    mask.validate()
    mask.validate(image_size=(100, 100))


def test_validate_checks_the_image_size() -> None:
    mask = Mask(100, 80)
    mask.fill()
    with pytest.raises(ImageInputError, match="100x80 but the image is 80x100"):
        mask.validate(image_size=(80, 100))


# --- big masks ---------------------------------------------------------------------------------


def test_a_2048_mask_with_200_strokes_is_exact() -> None:
    rng = np.random.default_rng(7)
    size, radius = 2048, 20.0
    strokes = []
    for _ in range(200):
        start = rng.uniform(0, size, 2)
        strokes.append(np.vstack([start, start + np.cumsum(rng.normal(0, 30, (9, 2)), axis=0)]))
    mask = Mask(size, size)
    for i, points in enumerate(strokes):
        mask.stroke(points, radius)
        if i == 198:
            before_last = mask.array.copy()
    # check each stroke's neighbourhood against the reference
    for points in strokes[::10]:
        x0 = int(max(points[:, 0].min() - 25, 0))
        y0 = int(max(points[:, 1].min() - 25, 0))
        x1 = int(min(points[:, 0].max() + 25, size))
        y1 = int(min(points[:, 1].max() + 25, size))
        if x0 >= x1 or y0 >= y1:
            continue
        local = [(x - x0, y - y0) for x, y in points]
        dist = _distance_to_polyline(x1 - x0, y1 - y0, local)
        assert mask.array[y0:y1, x0:x1][dist < radius - 1e-6].all()
    covered = mask.array.sum()
    assert 0.2 < mask.coverage < 0.6
    mask.undo()
    assert np.array_equal(mask.array, before_last)
    assert mask.array.sum() < covered
    mask.redo()
    rebuilt = Mask.from_ops(size, size, mask.ops)
    assert np.array_equal(rebuilt.array, mask.array)
    _, pixels = _png_pixels(mask.to_png())
    assert np.array_equal(pixels == 0, mask.array)


# --- span rasteriser: the same bits as the original box method ---------------------------------


def _awkward_stroke(rng: np.random.Generator, kind: int, size: int) -> tuple[list[list[float]], float]:
    """Strokes that stress the closed formula: ties, axis-parallel and nearly so, repeats, dots."""
    n = int(rng.integers(1, 6))
    if kind == 0:  # anywhere, also off the image
        pts = rng.uniform(-20, size + 20, (n, 2))
    elif kind == 1:  # integer points: row ends land exactly on pixel centres
        pts = rng.integers(-10, size + 10, (n, 2)).astype(float)
    elif kind == 2:  # half-integer points
        pts = rng.integers(-10, 2 * size + 10, (n, 2)) / 2.0
    elif kind == 3:  # vertical
        pts = rng.integers(0, size, (n, 2)).astype(float)
        pts[:, 0] = pts[0, 0]
    elif kind == 4:  # horizontal, or a hair off it
        pts = rng.uniform(0, size, (n, 2))
        pts[1:, 1] = pts[0, 1] + rng.choice([0.0, 1e-12, 1e-9, 1e-7, 1e-3], n - 1)
    elif kind == 5:  # repeated points: zero-length segments
        pts = np.repeat(rng.integers(0, size, (1, 2)).astype(float), n, axis=0)
        pts[-1] += rng.integers(0, 3, 2)
    else:  # diagonals at 45 degrees through pixel centres
        start = rng.integers(0, size, 2).astype(float)
        pts = start + np.outer(np.arange(n), rng.choice([-1.0, 1.0], 2) * rng.integers(1, 9))
    radius = float(rng.choice([0.3, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 7.5, 20.0, rng.uniform(0.1, 30)]))
    return pts.tolist(), radius


@pytest.mark.parametrize("kind", range(7))
def test_span_rasteriser_paints_exactly_the_original_pixels(kind: int) -> None:
    rng = np.random.default_rng(100 + kind)
    for _ in range(300):
        width, height = (int(v) for v in rng.integers(1, 90, 2))
        points, radius = _awkward_stroke(rng, kind, max(width, height))
        expected = np.zeros((height, width), dtype=bool)
        original_paint(expected, points, radius, True)
        mask = Mask(width, height)
        mask.stroke(points, radius)
        assert np.array_equal(mask.array, expected), (width, height, points, radius)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-40, 240), st.integers(-40, 240)), min_size=1, max_size=6),
    st.sampled_from([0.5, 1.0, 2.0, 3.0, 4.5, 10.0, 17.0]),
    st.sampled_from([1.0, 2.0, 4.0]),
)
def test_span_rasteriser_matches_the_original_on_grid_ties(points, radius, scale) -> None:
    """Points on a 1/scale grid with round radii: the formula's row ends sit exactly on pixels."""
    pts = [[x / scale, y / scale] for x, y in points]
    expected = np.zeros((60, 70), dtype=bool)
    original_paint(expected, pts, radius, True)
    mask = Mask(70, 60)
    mask.stroke(pts, radius)
    assert np.array_equal(mask.array, expected)


def test_a_burst_of_paint_and_erase_strokes_equals_applying_them_one_by_one() -> None:
    """Strokes are drawn in batches when the mask is read; order across paint/erase must hold."""
    rng = np.random.default_rng(3)
    size = 160
    expected = np.zeros((size, size), dtype=bool)
    mask = Mask(size, size)
    for i in range(120):
        points, radius = _awkward_stroke(rng, i % 7, size)
        erase = i % 9 in (4, 5)  # runs of erasing between runs of painting
        original_paint(expected, points, radius, not erase)
        mask.stroke(points, radius, erase=erase)
        if i % 40 == 39:
            mask.rect(10, 10, 50, 30, erase=True)
            expected[10:30, 10:50] = False
    assert np.array_equal(mask.array, expected)
    assert np.array_equal(Mask.from_ops(size, size, mask.ops).array, expected)


def test_long_strokes_spread_over_a_2048_mask_are_exact() -> None:
    """The shape that used to take seconds: long segments in every direction."""
    rng = np.random.default_rng(11)
    size = 2048
    strokes = [rng.uniform(0, size, (8, 2)).tolist() for _ in range(6)]
    expected = np.zeros((size, size), dtype=bool)
    mask = Mask(size, size)
    for k, points in enumerate(strokes):
        original_paint(expected, points, 20.0, k != 4)
        mask.stroke(points, 20.0, erase=k == 4)
    assert np.array_equal(mask.array, expected)


def test_strokes_drawn_lazily_still_undo_redo_and_copy_exactly() -> None:
    """Ops are drawn when read: undo past undrawn ops, redo, copy and snapshots stay exact."""
    rng = np.random.default_rng(5)
    mask = Mask(96, 64)
    states = [np.zeros((64, 96), dtype=bool)]
    for i in range(40):
        points, radius = _awkward_stroke(rng, i % 7, 96)
        mask.stroke(points, radius, erase=i % 6 == 5)
        if i % 3 == 0:  # read only now and then: several ops drawn in one batch
            states.append(mask.array.copy())
        else:
            states.append(Mask.from_ops(96, 64, mask.ops).array.copy())
    twin = mask.copy()
    for expected in reversed(states[:-1]):
        assert mask.undo()
        if rng.random() < 0.5:
            assert np.array_equal(mask.array, expected)
    assert np.array_equal(mask.array, states[0])
    for _ in states[1:]:
        assert mask.redo()
    assert np.array_equal(mask.array, states[-1])
    assert np.array_equal(twin.array, states[-1])


def test_from_ops_still_refuses_a_bitmap_of_the_wrong_size() -> None:
    small = Mask.from_image(Image.new("L", (4, 4), 0))
    with pytest.raises(ValueError, match="bitmap op is 4x4"):
        Mask.from_ops(8, 8, small.ops)
