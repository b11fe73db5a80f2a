"""A request the simulator accepted, reduced to what the image maker and the answer need.

Why its own module: the routes build it, the image maker and the service read it, and the
way an answer reports sizes (`resolutions`) is a fact of the answer schema, not of any route.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ideogram_nb import _api

from ._characters import Character
from ._reader import InputImage

#: In a prompt: the service refuses it (422). In an uploaded image's bytes (e.g. a PNG text
#: chunk): the image fails the safety check (422). Test hooks, deterministic.
UNSAFE_MARKER = "__unsafe__"
#: In a prompt: the first image is made (and billed) but withheld as unsafe (no URL).
WITHHOLD_MARKER = "__withhold__"
#: The answer's `upscaled_resolution` (FreeformResolution) pattern.
_FREEFORM_RESOLUTION = re.compile(r"\A\d{2,5}x\d{2,5}\Z")


@dataclass(frozen=True, eq=False)
class Job:
    """A valid request, reduced to what the image maker and the answer need."""

    endpoint: str
    raw_prompt: str
    prompt: str  # as the answer reports it (MagicPrompt applied)
    size: tuple[int, int]  # output (width, height)
    num_images: int
    seed: int | None
    style_type: str | None  # as the answer reports it (None: the key is left out)
    fingerprint: str  # hex digest of the request's content, seed and count excluded
    image: InputImage | None = None
    mask: np.ndarray | None = None  # bool (h, w); True = edit (black in the mask)
    weight: int = 50  # remix image_weight, upscale resemblance
    detail: int = 50
    palette: tuple[tuple[int, int, int], ...] = ()
    source_size: tuple[int, int] | None = None  # upscale: the input's size
    characters: tuple[Character, ...] = ()
    rendering_speed: str | None = None  # V3, as sent (the ledger records it)
    model: str | None = None  # legacy, as sent
    describe_version: str | None = None
    negative_prompt: str = ""  # what to leave out: colours it names are kept out of the picture
    unsafe_input: bool = False  # an uploaded image fails the safety check

    @property
    def resolutions(self) -> tuple[str, str | None]:
        """(`resolution`, `upscaled_resolution`) as the answer reports them.

        V3 answers name one of the 69 V3 resolutions (the schema's enum). Edit and
        replace-background keep the input's size, so they report the V3 resolution nearest
        in shape and give the delivered size as `upscaled_resolution` ("output resolution,
        only used if operations alter image dimensions"); upscale reports the input's size
        and the doubled one. A size the schema's pattern cannot spell (under 10 px) is left out.
        """
        width, height = self.size
        delivered = f"{width}x{height}"
        if self.endpoint == "upscale" and self.source_size is not None:
            resolution = "{}x{}".format(*self.source_size)
        elif self.endpoint in ("edit", "replace-background"):
            resolution = nearest_v3_resolution(width, height)
        else:
            return delivered, None
        if delivered == resolution or not _FREEFORM_RESOLUTION.match(delivered):
            return resolution, None
        return resolution, delivered


def nearest_v3_resolution(width: int, height: int) -> str:
    """The V3 resolution closest in shape (then in area) to `width` x `height`."""
    target = math.log(width / height)

    def distance(resolution: str) -> tuple[float, int]:
        w, h = _api.parse_size(resolution)
        return abs(math.log(w / h) - target), abs(w * h - width * height)

    return min(_api.V3_RESOLUTIONS, key=distance)
