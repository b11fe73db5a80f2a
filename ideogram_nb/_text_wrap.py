"""Word wrap to a pixel width: one wrap for contact-sheet legends and the simulator's lettering.

Why one: measuring text is the cost, and a copy that cut a long word one character at a time
took seconds on a 500-character word (#14); both users now get the binary-search cut and stop
measuring once the lines they keep are known.
"""

from __future__ import annotations

import sys

from PIL import ImageFont


def wrap(
    text: str, f: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float, max_lines: int = sys.maxsize
) -> list[str]:
    """Greedy word wrap to `width` px; words longer than a line are cut; overflow past
    `max_lines` (default: none) ends in '…'.

    Stops measuring once more than `max_lines` lines exist (the rest is cut anyway), and cuts
    a long word with a galloping binary search (`_fit_prefix`): measuring text is the cost, and
    a 500-character word cut one character at a time took seconds.
    """
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        current = ""
        for word in para.split():
            if len(lines) > max_lines:
                break
            trial = f"{current} {word}" if current else word
            if f.getlength(trial) <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            while len(lines) <= max_lines and f.getlength(word) > width and len(word) > 1:  # hard-cut it
                cut = _fit_prefix(word, f, width)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
        if len(lines) > max_lines:
            break
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and f.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def _fit_prefix(word: str, f: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> int:
    """The longest prefix of `word` (at least 1 character) that fits in `width` px.

    Text width grows with every character, so a doubling probe then a binary search find the
    same cut as trying every length from the longest down, in O(log n) measurements of short
    strings.
    """

    def fits(n: int) -> bool:
        return f.getlength(word[:n]) <= width

    if not fits(1):
        return 1
    good, bad = 1, len(word)
    probe = 2
    while probe < bad:
        if not fits(probe):
            bad = probe
            break
        good, probe = probe, probe * 2
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return good
