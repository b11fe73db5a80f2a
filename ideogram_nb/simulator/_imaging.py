"""The simulator's images: procedural, deterministic, and meaningful enough to test against.

Why procedural and not random noise: tests (and people reading a demo notebook) need to see
that an edit touched only the masked region, that remix leans toward its input as
`image_weight` grows, that reframe kept the original in the middle. Smooth gradients and flat
shapes make those properties measurable with numpy, compress well (fast PNGs, small memory),
and follow the prompt's colour words, so `describe` has something true to say. What a new
picture looks like (style, speed, the prompt's words) is `_drawing`'s; this module applies
each endpoint's operation to it.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from . import _drawing
from ._characters import Character
from ._job import Job
from ._reader import InputImage

#: Named colours: prompt words pick palettes, and `describe` names the nearest one.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 40), "orange": (240, 140, 30), "yellow": (235, 215, 50),
    "green": (50, 160, 70), "teal": (30, 150, 150), "blue": (40, 80, 200),
    "purple": (130, 60, 170), "pink": (240, 130, 180), "brown": (120, 80, 40),
    "black": (15, 15, 15), "white": (240, 240, 240), "grey": (128, 128, 128),
}  # fmt: skip
_ALIASES = {"gray": "grey", "violet": "purple", "cyan": "teal", "gold": "yellow", "crimson": "red"}
#: Pixels farther than this (max channel difference) from the border colour are foreground.
FOREGROUND_THRESHOLD = 40
#: zlib level for the PNGs: the fastest; these images compress well anyway.
PNG_COMPRESS_LEVEL = 1
#: A character reference is drawn this tall, relative to the output's shorter side.
CHARACTER_SCALE = 0.4
#: Upscale's UnsharpMask percent: this much at detail 0, plus this much per point of detail.
UPSCALE_SHARPEN_MIN, UPSCALE_SHARPEN_PER_DETAIL = 60, 1.5
#: Upscale at resemblance 0 shows this share of a new picture (none at 100).
UPSCALE_NEW_SHARE = 0.25
#: Reframe's extension: this share is the input continued, the rest a new backdrop.
REFRAME_CONTINUATION = 0.6


def make_image(job: Job, seed: int, offset: int) -> np.ndarray:
    """Pixels (h, w, 3 uint8) of image `offset` of `job`, made with `seed`."""
    rng = _generator(job.fingerprint, seed, offset)
    width, height = job.size
    if job.endpoint in ("edit", "legacy-edit"):
        assert job.image is not None and job.mask is not None
        return _edit(job, rng)
    if job.endpoint == "upscale":
        assert job.image is not None
        return _upscale(job, rng)
    palette = _palette(job, rng)
    if job.endpoint == "reframe":
        assert job.image is not None
        return _reframe(job.image.pixels, rng, palette, width, height)
    generated = picture(job, rng, palette, width, height)
    if job.endpoint in ("generate", "legacy-generate"):
        return generated
    assert job.image is not None
    source = job.image.pixels
    if job.endpoint in ("remix", "legacy-remix"):
        fitted = np.asarray(ImageOps.fit(Image.fromarray(source), (width, height), Image.Resampling.BICUBIC))
        return _mix(fitted, generated, job.weight / 100.0)
    if job.endpoint == "replace-background":
        return np.where(foreground(source)[..., None], source, generated)
    raise ValueError(f"no image maker for endpoint {job.endpoint!r}")


def picture(
    job: Job, rng: np.random.Generator, palette: list[tuple[int, int, int]], width: int, height: int
) -> np.ndarray:
    """A whole new picture for `job`: its style's backdrop in its palette, at its speed's
    detail, the prompt's words, and the character reference in the middle (the words stay
    above it, so neither hides the other)."""
    detail = _drawing.detail_of(job.rendering_speed, job.model)
    out = _drawing.backdrop(rng, palette, job.style_type, detail, width, height)
    for shape in range(int(rng.integers(2, 5)) if detail != "rough" else 0):
        _shape(out, rng, palette[(shape + 1) % len(palette)])
    return _with_words_and_characters(out, job, job.prompt, top=0.06, bottom=0.9)


def _with_words_and_characters(canvas: np.ndarray, job: Job, words: str, *, top: float, bottom: float) -> np.ndarray:
    """`words` drawn between fractions `top` and `bottom` of the height (above the character
    when there is one), then the character references on top, whole."""
    height, width = canvas.shape[:2]
    if job.characters:
        bottom = min(bottom, (1 - CHARACTER_SCALE * min(width, height) / height) / 2)
    _drawing.draw_words(canvas, words, job.style_type, top=top, bottom=bottom)
    for character in job.characters:
        canvas = place_character(canvas, character)
    return canvas


def render(rng: np.random.Generator, palette: list[tuple[int, int, int]], width: int, height: int) -> np.ndarray:
    """A wordless picture in `palette` (the default style and detail)."""
    return _drawing.backdrop(rng, palette, None, "default", width, height)


def _shape(out: np.ndarray, rng: np.random.Generator, colour: tuple[int, int, int]) -> None:
    """A flat disc or square in a palette colour, drawn in place: something to look at."""
    height, width = out.shape[:2]
    short = min(width, height)
    cx, cy = int(rng.integers(width)), int(rng.integers(height))
    r = int(rng.integers(max(short // 20, 1), max(short // 9, 2)))
    x0, x1, y0, y1 = max(cx - r, 0), min(cx + r, width), max(cy - r, 0), min(cy + r, height)
    if x0 >= x1 or y0 >= y1:
        return
    if rng.random() < 0.5:
        yy, xx = np.ogrid[y0:y1, x0:x1]
        out[y0:y1, x0:x1][(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = colour
    else:
        out[y0:y1, x0:x1] = colour


def _edit(job: Job, rng: np.random.Generator) -> np.ndarray:
    """The source with only the masked pixels repainted: a picture of the prompt (its colours,
    its quoted text or else its words) fitted to the mask's bounding box."""
    assert job.image is not None and job.mask is not None
    source, mask = job.image.pixels, job.mask
    out = source.copy()
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return out
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    chosen = prompt_colours(job.raw_prompt) + list(job.palette)
    palette = chosen or [_far_colour(source[mask])]
    detail = _drawing.detail_of(job.rendering_speed, job.model)
    patch = _drawing.backdrop(rng, palette, job.style_type, detail, int(x1 - x0), int(y1 - y0))
    words = job.raw_prompt if _drawing.quoted_text(job.raw_prompt) else f'"{_drawing.caption_text(job.raw_prompt)}"'
    patch = _with_words_and_characters(patch, job, words if words.strip('" ') else "", top=0.05, bottom=0.95)
    region = mask[y0:y1, x0:x1]
    out[y0:y1, x0:x1][region] = patch[region]
    return out


def _upscale(job: Job, rng: np.random.Generator) -> np.ndarray:
    """The input, resampled to the output size and sharpened (more `detail`, more sharpening);
    less `resemblance` lets a little of a new picture of the prompt show through."""
    assert job.image is not None
    width, height = job.size
    enlarged = Image.fromarray(job.image.pixels).resize((width, height), Image.Resampling.LANCZOS)
    percent = int(UPSCALE_SHARPEN_MIN + job.detail * UPSCALE_SHARPEN_PER_DETAIL)
    sharpened = np.asarray(enlarged.filter(ImageFilter.UnsharpMask(radius=2, percent=percent, threshold=2)))
    if job.weight >= 100:
        return sharpened
    generated = render(rng, _palette(job, rng), width, height)
    return _mix(sharpened, generated, 1.0 - (100 - job.weight) / 100.0 * UPSCALE_NEW_SHARE)


def _reframe(
    source: np.ndarray, rng: np.random.Generator, palette: list[tuple[int, int, int]], width: int, height: int
) -> np.ndarray:
    """The square input in the middle (scaled to the shorter side), the canvas around it
    continued from its edges: mirrored, softened, and tinted toward a new backdrop."""
    side = min(width, height)
    placed = np.asarray(Image.fromarray(source).resize((side, side), Image.Resampling.BICUBIC))
    x0, y0 = (width - side) // 2, (height - side) // 2
    mirrored = np.pad(placed, ((y0, height - side - y0), (x0, width - side - x0), (0, 0)), mode="symmetric")
    small = Image.fromarray(mirrored).resize((max(width // 16, 1), max(height // 16, 1)), Image.Resampling.BOX)
    soft = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR))
    out = _mix(soft, render(rng, palette, width, height), REFRAME_CONTINUATION)
    out[y0 : y0 + side, x0 : x0 + side] = placed
    return out


def _far_colour(pixels: np.ndarray) -> tuple[int, int, int]:
    """A named colour far from the mean of `pixels`: an edit without colour words still shows."""
    mean = pixels.reshape(-1, 3).mean(axis=0) if pixels.size else np.zeros(3)
    return max(_COLOUR_LIST, key=lambda c: float(np.abs(np.array(c) - mean).sum()))


def place_character(canvas: np.ndarray, character: Character) -> np.ndarray:
    """The character reference drawn in the middle of `canvas` (`CHARACTER_SCALE` of its
    shorter side), blended through its mask where one was sent: the same character appears
    in every image of the call, so a test can find it."""
    height, width = canvas.shape[:2]
    source = character.image
    scale = CHARACTER_SCALE * min(width, height) / max(source.width, source.height)
    w, h = max(int(source.width * scale), 1), max(int(source.height * scale), 1)
    sprite = np.asarray(Image.fromarray(source.pixels).resize((w, h), Image.Resampling.BILINEAR), np.float32)
    if character.alpha is None:
        alpha = np.ones((h, w, 1), np.float32)
    else:
        grey = Image.fromarray(np.rint(character.alpha * 255).astype(np.uint8))
        alpha = np.asarray(grey.resize((w, h), Image.Resampling.BILINEAR), np.float32)[..., None] / 255.0
    x0, y0 = (width - w) // 2, (height - h) // 2
    out = canvas.copy()
    region = out[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
    out[y0 : y0 + h, x0 : x0 + w] = np.clip(np.rint(sprite * alpha + region * (1 - alpha)), 0, 255).astype(np.uint8)
    return out


def foreground(pixels: np.ndarray) -> np.ndarray:
    """Pixels far from the border's median colour: what replace-background keeps."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    distance = np.abs(pixels.astype(np.int16) - background.astype(np.int16)).max(axis=2)
    result: np.ndarray = distance > FOREGROUND_THRESHOLD
    return result


def describe(image: InputImage, version: str | None = None) -> list[str]:
    """Deterministic descriptions: size, shape, dominant colours and brightness.

    The model version changes the answer as a real one would: V_3 (the service default) gives
    two descriptions, V_2 only the first, CUSTOM the two in the custom model's words."""
    pixels = image.pixels[::4, ::4].reshape(-1, 3).astype(np.int32)
    table = np.array(list(COLOURS.values()), dtype=np.int32)
    nearest = ((pixels[:, None, :] - table[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(table))
    names = list(COLOURS)
    ranked = [names[i] for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    first = ranked[0]
    second = ranked[1] if len(ranked) > 1 else first
    w, h = image.width, image.height
    shape = "square" if w == h else ("landscape" if w > h else "portrait")
    luminance = float((pixels @ np.array([299, 587, 114])).mean() / 1000)
    light = "bright" if luminance > 170 else ("dark" if luminance < 85 else "evenly lit")
    texts = [
        f"A {shape} {w}x{h} image dominated by {first} tones, {light} overall.",
        f"An abstract {shape} composition in {first} and {second}, with soft gradients and simple shapes.",
    ]
    if version == "V_2":
        return texts[:1]
    if version == "CUSTOM":
        return [f"{text[:-1]}, in the custom model's style." for text in texts]
    return texts


def encode_png(pixels: np.ndarray) -> bytes:
    """An RGB PNG: IHDR, one IDAT, IEND, and nothing that varies (same pixels, same bytes).

    Written by hand because it is about twice as fast as Pillow's encoder for these images:
    every row uses PNG's `Sub` filter (one numpy subtraction; smooth gradients become runs
    of small constants) and zlib's fastest level. A 1024² image takes well under 50 ms.
    """
    height, width, _ = pixels.shape
    flat = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(height, width * 3)
    rows = np.empty((height, width * 3 + 1), np.uint8)
    rows[:, 0] = 1  # filter type Sub: each byte minus the byte one pixel to the left, mod 256
    rows[:, 1:4] = flat[:, :3]
    np.subtract(flat[:, 3:], flat[:, :-3], out=rows[:, 4:])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESS_LEVEL)),
        _chunk(b"IEND", b""),
    ))  # fmt: skip


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def prompt_colours(prompt: str) -> list[tuple[int, int, int]]:
    """Colours named in the prompt, in order ("a red fox on blue snow" → red, blue)."""
    found: list[tuple[int, int, int]] = []
    for word in "".join(c.lower() if c.isalpha() else " " for c in prompt).split():
        name = _ALIASES.get(word, word)
        if name in COLOURS and COLOURS[name] not in found:
            found.append(COLOURS[name])
    return found


_COLOUR_LIST = list(COLOURS.values())


def _palette(job: Job, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    # The negative prompt shows as colours it names kept out ("a fox, no red": no red).
    unwanted = set(prompt_colours(job.negative_prompt))
    chosen = [c for c in prompt_colours(job.raw_prompt) + list(job.palette) if c not in unwanted]
    if chosen:
        return chosen
    if job.image is not None:  # reframe, upscale: a backdrop in the input's own colours
        return _image_colours(job.image.pixels)
    drawn = [(int(r), int(g), int(b)) for r, g, b in rng.integers(40, 230, (4, 3))]
    return [c for c in drawn if not any(_close(c, u) for u in unwanted)] or drawn


def _close(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) < 90**2


def _generator(fingerprint: str, seed: int, offset: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{fingerprint}:{seed}:{offset}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _image_colours(pixels: np.ndarray) -> list[tuple[int, int, int]]:
    """The mean colours of an image's top, middle and bottom thirds."""
    thirds = np.array_split(pixels[::4, ::4].astype(np.float32), 3, axis=0)
    return [(int(r), int(g), int(b)) for r, g, b in (part.reshape(-1, 3).mean(axis=0) for part in thirds if part.size)]


def _mix(source: np.ndarray, generated: np.ndarray, weight: float) -> np.ndarray:
    """`weight` of the source, the rest generated (weight 1 → the source exactly)."""
    mixed = source.astype(np.float32) * weight + generated.astype(np.float32) * (1.0 - weight)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
