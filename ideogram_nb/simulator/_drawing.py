"""What a simulated picture looks like: a backdrop per style and speed, and the prompt's words.

Why: a demo on the offline simulator must look like it answered *this* request. Ideogram's
strength is text in images, so text in quotes is drawn large and legible (dark on a light band
across the picture, or light on a dark one; wrapped to fit, never cut: an OCR test reads it
back), and the rest of the prompt becomes a small caption. The settings show: the palette's
colours fill most of the picture (mostly flat areas of exactly those colours, so a colour
metric finds them), each style has its own backdrop, TURBO is blocky and QUALITY has fine
hatching.

Why this drawing: everything but the text is computed on a coarse grid and resized once
(Pillow's resize is fast C), so a 1024² picture takes about 10 ms.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from ideogram_nb._text_wrap import wrap

Colour = tuple[int, int, int]

#: Grid cell (pixels) per speed: the backdrop is computed on a grid this coarse, then resized.
ROUGH_CELL, DEFAULT_CELL, FINE_CELL = 32, 8, 4
#: Hardness above which bands have hard edges (no blending, no smoothing when resized).
HARD = 50
#: A palette with fewer colours gets tones of its first one, up to this many.
MIN_TONES, TONE_STEP = 3, 0.35
#: QUALITY's fine hatching: one darker line every `HATCH_PERIOD` pixels, this much darker.
HATCH_PERIOD, HATCH_DEPTH = 4, 14
#: Quoted text: the largest font, as a fraction of the shorter side, and the smallest (pixels).
TEXT_MAX_SCALE, TEXT_MIN_PX = 0.2, 6
#: ...and never larger than this (pixels): Tesseract starts misreading letters above ~120 px.
TEXT_MAX_PX = 110
#: Quoted text fits in this fraction of the width and of the height (the panel's inside).
TEXT_BOX_WIDTH, TEXT_BOX_HEIGHT = 0.84, 0.5
#: Caption: font size as a fraction of the shorter side, at most this many lines.
CAPTION_SCALE, CAPTION_LINES = 1 / 30, 2
#: The panel's margin around the text (a fraction of the font size). The panel is a band
#: across the whole width: Tesseract misses a short word on a small panel over a coloured
#: backdrop (it reads "OPEN" in 9 of 24 test pictures that way, in 24 of 24 on a band).
PANEL_PAD = 1 / 3
LIGHT_PANEL, DARK_INK = (248, 247, 242), (18, 18, 24)
DARK_PANEL, LIGHT_INK = (22, 22, 30), (250, 250, 250)
#: Styles drawn light-on-dark (the rest dark-on-light).
DARK_STYLES = frozenset({"FICTION", "RENDER_3D"})
_KERNING = bool(features.check("raqm"))
#: Text in straight or curly double quotes, or guillemets.
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»')


def quoted_text(prompt: str) -> list[str]:
    """The prompt's texts in quotes ("…", “…” or «…»), in order: what the picture spells."""
    return [text.strip() for groups in _QUOTED.findall(prompt) if (text := "".join(groups)).strip()]


def caption_text(prompt: str) -> str:
    """The prompt without its quoted texts: the words drawn small under the picture."""
    return " ".join(_QUOTED.sub(" ", prompt).split()).strip(" ,.;:")


def detail_of(rendering_speed: str | None, model: str | None) -> str:
    """The backdrop's detail: rough (TURBO, FLASH, legacy *_TURBO models), fine (QUALITY) or default."""
    if rendering_speed in ("TURBO", "FLASH") or (model or "").endswith("_TURBO"):
        return "rough"
    return "fine" if rendering_speed == "QUALITY" else "default"


def backdrop(
    rng: np.random.Generator, palette: list[Colour], style: str | None, detail: str, width: int, height: int
) -> np.ndarray:
    """The picture without words: bands of the palette's colours in a layout per style."""
    cell = {"rough": ROUGH_CELL, "fine": FINE_CELL}.get(detail, DEFAULT_CELL)
    gw, gh = max(-(-width // cell), 2), max(-(-height // cell), 2)
    y, x = np.mgrid[0:gh, 0:gw].astype(np.float32)
    x, y = x / (gw - 1), y / (gh - 1)
    colours = tones(palette)[rng.permutation(max(len(palette), MIN_TONES))]
    field, hardness, shade = _layout(rng, style or "GENERAL", x, y)
    grid = _bands(colours, field, hardness) * shade[..., None]
    image = Image.fromarray(np.clip(grid, 0, 255).astype(np.uint8))
    smooth = detail != "rough" and hardness <= HARD
    out = np.array(image.resize((width, height), Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST))
    if detail == "fine":
        rows = out[::HATCH_PERIOD]
        np.subtract(rows, np.minimum(rows, HATCH_DEPTH), out=rows)
    return out


def tones(palette: list[Colour]) -> np.ndarray:
    """The palette as float colours, with a lighter and a darker tone of its first colour
    added when it has fewer than `MIN_TONES` (one colour would give a blank picture)."""
    colours = np.array(palette, np.float32)
    if len(colours) >= MIN_TONES:
        return colours
    first = colours[0]
    extra = [first + (255 - first) * TONE_STEP, first * (1 - TONE_STEP)]
    return np.vstack([colours, *extra[: MIN_TONES - len(colours)]])


def _layout(rng: np.random.Generator, style: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(field, hardness, shade) for a style: the field picks a palette band per point (its
    integer part), hardness sharpens the blend between bands, shade darkens or lightens."""
    one = np.ones_like(x)
    if style == "REALISTIC":  # a horizon: sky above, ground below, soft light
        horizon = rng.uniform(0.45, 0.7)
        field = np.where(y < horizon, 0.2 * y / horizon, 1.0 + 0.6 * (y - horizon) / (1 - horizon))
        sun_x, sun_y = rng.uniform(0.2, 0.8), rng.uniform(0.1, horizon - 0.1)
        glow = np.exp(-((x - sun_x) ** 2 + (y - sun_y) ** 2) / 0.02)
        return field, 3.0, 0.85 + 0.15 * (1 - y) + 0.25 * glow
    if style == "DESIGN":  # flat, hard-edged stripes: a poster
        angle = rng.choice([0.0, np.pi / 2, np.pi / 4])
        t = x * np.cos(angle) + y * np.sin(angle)
        return np.floor(t * rng.integers(3, 6)), 100.0, one
    if style in ("FICTION", "RENDER_3D"):  # rings round a lit centre, dark at the far edges
        cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)
        r = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        shade = 1 - 0.6 * np.clip((r - 0.5) / 0.4, 0, 1)
        if style == "RENDER_3D":  # a highlight, as on a sphere
            shade = shade + 0.35 * np.clip(1 - r / 0.2, 0, 1)
        return r * rng.uniform(3, 5), 4.0, shade
    if style in ("STYLIZED", "ANIME"):  # a sunburst of flat rays
        cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.4, 0.8)
        angle = np.arctan2(y - cy, x - cx) / (2 * np.pi) + 0.5
        return np.floor(angle * 2 * rng.integers(5, 9)), 100.0, one
    # GENERAL, AUTO, CUSTOM: soft diagonal waves
    angle, phase = rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)
    t = x * np.cos(angle) + y * np.sin(angle)
    light = 0.92 + 0.16 * (x * np.sin(angle) + (1 - y) * np.cos(angle) + 1) / 3  # soft light across it
    return (t + 0.08 * np.sin(6 * (x + y) + phase)) * rng.uniform(2.5, 4), 3.0, light


def _bands(colours: np.ndarray, field: np.ndarray, hardness: float) -> np.ndarray:
    """Colour per point: band `floor(field)` of the palette (cycled), blended into the next
    band only near the boundary (`hardness` 1: a plain gradient; large: hard edges)."""
    index = np.floor(field).astype(np.int64)
    blend = np.clip((field - index - 0.5) * hardness + 0.5, 0.0, 1.0)[..., None]
    n = len(colours)
    return colours[index % n] * (1 - blend) + colours[(index + 1) % n] * blend  # type: ignore[no-any-return]


def draw_words(canvas: np.ndarray, prompt: str, style: str | None, *, top: float = 0.06, bottom: float = 0.9) -> None:
    """Draw the quoted text large (in a panel between fractions `top` and `bottom` of the
    height) and the other words as a caption at the foot, onto `canvas` in place."""
    height, width = canvas.shape[:2]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    texts = quoted_text(prompt)
    caption = caption_text(prompt)
    caption_px = max(int(min(width, height) * CAPTION_SCALE), TEXT_MIN_PX)
    foot = (caption_px * 1.25 * CAPTION_LINES + caption_px) if caption else 0
    if texts:
        box_h = min(TEXT_BOX_HEIGHT * height, (bottom - top) * height - foot)
        _panel(draw, "\n".join(texts), width, height, top, box_h, style)
    if caption:
        _caption(image, draw, caption, caption_px)
    canvas[...] = np.asarray(image)


def _panel(
    draw: ImageDraw.ImageDraw, text: str, width: int, height: int, top: float, box_h: float, style: str | None
) -> None:
    box_w = TEXT_BOX_WIDTH * width
    size, lines = fit_text(text, box_w, box_h, min(int(TEXT_MAX_SCALE * min(width, height)), TEXT_MAX_PX))
    font = _font(size)
    line_h = _line_height(size)
    pad = max(int(size * PANEL_PAD), 2)
    panel_h = line_h * len(lines) + 2 * pad
    y0 = top * height + max(box_h - panel_h, 0) / 2
    panel, ink = (DARK_PANEL, LIGHT_INK) if style in DARK_STYLES else (LIGHT_PANEL, DARK_INK)
    draw.rectangle((0, y0, width, y0 + panel_h), fill=panel)
    for i, line in enumerate(lines):
        draw.text((width / 2, y0 + pad + i * line_h), line, font=font, fill=ink, anchor="ma")


def _caption(image: Image.Image, draw: ImageDraw.ImageDraw, caption: str, size: int) -> None:
    width, height = image.size
    font = _font(size)
    lines = wrap(caption, font, width * 0.92)
    if len(lines) > CAPTION_LINES:
        lines = lines[:CAPTION_LINES]
        lines[-1] = lines[-1].rstrip() + "…"
    band_h = int(_line_height(size) * len(lines) + size * 0.8)
    band = image.crop((0, height - band_h, width, height))
    dark = Image.blend(band, Image.new("RGB", band.size, (0, 0, 0)), 0.6)
    image.paste(dark, (0, height - band_h))
    for i, line in enumerate(lines):
        draw.text((width / 2, height - band_h + size * 0.4 + i * _line_height(size)), line, font=font,
                  fill=LIGHT_INK, anchor="ma")  # fmt: skip


def fit_text(text: str, box_w: float, box_h: float, largest: int) -> tuple[int, list[str]]:
    """The largest font size (≤ `largest`) at which `text`, wrapped, fits the box, and its
    lines. Below `TEXT_MIN_PX` the box is ignored: the text is drawn whole, never cut."""
    lo, hi = TEXT_MIN_PX, max(largest, TEXT_MIN_PX)
    best = wrap(text, _font(lo), box_w)
    while lo < hi:  # taller text never fits where shorter did not: bisect
        mid = (lo + hi + 1) // 2
        lines = wrap(text, _font(mid), box_w)
        if len(lines) * _line_height(mid) <= box_h and all(_font(mid).getlength(s) <= box_w for s in lines):
            lo, best = mid, lines
        else:
            hi = mid - 1
    return lo, best


@lru_cache(maxsize=128)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's built-in scalable font (Aileron): no font file to ship or find. Kerned
    (Raqm layout) where Pillow has Raqm: "AY" without a gap reads as one word to OCR."""
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont)
    return font.font_variant(layout_engine=ImageFont.Layout.RAQM) if _KERNING else font


def _line_height(size: int) -> int:
    return int(size * 1.25)
