"""`text_accuracy`: the text a prompt quotes, read back from the image by tesseract.

Why tesseract through `subprocess`: it is Debian's packaged OCR engine, runs offline with its
models installed by apt (nothing downloaded at run time) and needs no Python binding (no new
dependency). When it is missing the metric is None with one clear warning: a score that was not
measured is never made up, on the simulator or anywhere else.

Why a fuzzy word match and not equality: generated lettering is often read with one wrong glyph;
scoring each quoted word by its closest word read (difflib's ratio) rewards the nearly right,
ignores other text in the picture and stays 0 for an image with no text at all. Case is ignored.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import shutil
import subprocess
import threading
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _config

if TYPE_CHECKING:
    from PIL import Image

#: "…", “…” and «…» quote text the image should show (single quotes are apostrophes too often).
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»')
_warned: set[str] = set()
_warn_lock = threading.Lock()


def quoted_text(prompt: str | None) -> list[str]:
    """The phrases a prompt puts in quotes: what the picture is asked to spell."""
    if not prompt:
        return []
    return [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(prompt)]


def prompt_of(spec: Any) -> str | None:
    """The prompt of a spec, of its `to_dict()`, or None."""
    value = spec.get("prompt") if isinstance(spec, Mapping) else getattr(spec, "prompt", None)
    return value if isinstance(value, str) else None


def _fold(text: str) -> str:
    return " ".join(text.upper().split())


def match_fraction(expected: str, read: str) -> float:
    """How well `read` spells `expected`: each expected word scores its best difflib ratio
    against any word read (1 = found exactly), averaged weighted by word length; case ignored.
    Other text in the picture (a caption, a logo) neither helps nor hurts."""
    want, got = _fold(expected).split(), set(_fold(read).split())
    if not want:
        return 1.0
    if not got:
        return 0.0
    best = [max(difflib.SequenceMatcher(None, w, r, autojunk=False).ratio() for r in got) for w in want]
    return sum(len(w) * b for w, b in zip(want, best, strict=True)) / sum(len(w) for w in want)


def _warn_once(key: str, message: str) -> None:
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, RuntimeWarning, stacklevel=4)


#: How each OCR attempt reads the picture: (scale, tesseract page segmentation mode). Its layout
#: analysis is fickle on busy backdrops (a legible word can be missed whole in one mode and read
#: exactly in another), so another look is taken while a quoted word is still missing. Half
#: scale first: lettering an image is bought for reads as well there, in about half the time
#: (0.14 s against 0.26 s for a 1024² picture here).
OCR_ATTEMPTS = ((2, "3"), (1, "3"), (2, "11"))


def ocr(img: Image.Image, *, reduce: int = 1, psm: str = "3") -> str | None:
    """The text tesseract reads in `img` (shrunk by `reduce`, in page segmentation mode `psm`),
    or None (warned once) when it cannot run."""
    binary = shutil.which(_config.TESSERACT_BINARY)
    if binary is None:
        _warn_once(
            "missing",
            f"text_accuracy is None: the OCR engine {_config.TESSERACT_BINARY!r} is not installed "
            "(Debian/Ubuntu: apt-get install tesseract-ocr); it is never estimated without it",
        )
        return None
    # colour, not grey: tesseract's own binarisation separates lettering from a backdrop of the
    # same luminance better than a plain grey conversion does
    rgb = img.convert("RGB")
    if max(rgb.size) > _config.OCR_MAX_PX:
        rgb.thumbnail((_config.OCR_MAX_PX, _config.OCR_MAX_PX))
    if reduce > 1:
        rgb = rgb.reduce(reduce)
    buf = io.BytesIO()
    rgb.save(buf, format="PNG", compress_level=1)
    # one thread per call, at a lower priority (`nice`): scores run beside a grid on few cores,
    # and the grid's own work must not wait for them
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    nice = shutil.which("nice")
    command = ([nice, "-n", "10"] if nice else []) + [binary, "stdin", "stdout", "--psm", psm]
    try:
        done = subprocess.run(
            command, input=buf.getvalue(), capture_output=True,
            timeout=_config.OCR_TIMEOUT_S, env=env, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        _warn_once("failed", f"text_accuracy is None: {binary} could not read the image ({exc})")
        return None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        _warn_once("failed", f"text_accuracy is None: {binary} exited with {done.returncode} ({why[0]})")
        return None
    return done.stdout.decode("utf-8", "replace")


def text_accuracy(img: Image.Image, spec: Any) -> float | None:
    """0–1: how much of the prompt's quoted text the image shows; None without quotes or OCR."""
    phrases = quoted_text(prompt_of(spec)) if spec is not None else []
    if not phrases:
        return None
    best: float | None = None
    for reduce, psm in OCR_ATTEMPTS:
        read = ocr(img, reduce=reduce, psm=psm)
        if read is None:
            return None
        score = match_fraction(" ".join(phrases), read)
        best = score if best is None else max(best, score)
        if best >= 1.0:
            break
    return None if best is None else round(best, 4)
