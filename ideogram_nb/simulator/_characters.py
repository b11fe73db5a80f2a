"""Character references (V3 generate, remix and edit): the images, their masks, their rules.

Why a module of their own: they are the one V3 input with a price of its own upstream
("generations with character reference are subject to the character reference pricing"), so
the simulator must both accept them as the schema describes and let them visibly change the
output (the character is drawn into the picture), and the ledger counts them.

Refused (400), as the client refuses them: more than "currently ... 1 character reference
image", more than 10 MB in total, a number of masks that does not "match the number of
character_reference_images", and anything that is not a JPEG/PNG/WebP image. Accepted, as the
client only warns about them (prose, not schema rules; the project's rule is that the simulator
refuses what the client refuses): a mask that is not "a grayscale image of the same dimensions
as the corresponding character reference image" is read as its luminance, stretched to fit.
The mask's polarity is not documented: it is read as an alpha channel (white = the character).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ideogram_nb import _api, _config

from ._reader import InputImage, Reader

IMAGES = "character_reference_images"
MASKS = "character_reference_images_mask"
#: "currently only supports 1 character reference image" (the client's table: one place).
CHARACTER_REFERENCE_MAX: int = _api.CHARACTER_REFERENCE_MAX_COUNT


@dataclass(frozen=True, eq=False)
class Character:
    """The character to draw: its pixels and, when a mask was sent, its alpha (h, w) in 0..1."""

    image: InputImage
    alpha: np.ndarray | None


def read_characters(r: Reader) -> tuple[Character, ...]:
    """Check the character reference parts of one request; the characters to draw."""
    sent = len(r.values.get(IMAGES, ()))
    masks_sent = len(r.values.get(MASKS, ()))
    before = len(r.problems)
    images = r.images(IMAGES)
    masks = r.images(MASKS)
    if sent > CHARACTER_REFERENCE_MAX:
        r.problem(IMAGES, f"{sent} images sent; the service supports at most {CHARACTER_REFERENCE_MAX}")
    if sum(len(img.data) for img in images) > _config.MAX_STYLE_REFERENCE_TOTAL_BYTES:
        r.problem(IMAGES, "the images add up to more than 10 MB")
    if masks_sent and masks_sent != sent:
        r.problem(MASKS, f"{masks_sent} masks for {sent} character reference images; the counts must match")
    if len(r.problems) > before or len(masks) != masks_sent:
        return ()
    if not masks:
        return tuple(Character(image, None) for image in images)
    return tuple(Character(image, _alpha(mask, image)) for image, mask in zip(images, masks, strict=True))


def _alpha(mask: InputImage, image: InputImage) -> np.ndarray:
    """The mask's luminance in 0..1, at the reference image's size."""
    grey = Image.fromarray(mask.pixels).convert("L")
    if grey.size != (image.width, image.height):
        grey = grey.resize((image.width, image.height), Image.Resampling.BILINEAR)
    return np.asarray(grey, np.float32) / 255.0
