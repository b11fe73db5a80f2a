"""What a user can do next with one result image, as pure functions.

Why pure and separate from the grid: "remix this", "edit this", "reuse this seed" are
decisions about specs, not about widgets. Keeping them here means each can be tested without
a browser, and the grid, the form and the Studio all open exactly the same prefilled spec.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ideogram_nb as ig

#: action id → button label, in the order buttons are shown.
ACTIONS: dict[str, str] = {
    "remix": "Remix",
    "edit": "Edit",
    "upscale": "Upscale",
    "describe": "Describe",
    "reframe": "Reframe",
    "replace_background": "Replace background",
    "reuse_seed": "Reuse seed",
}
#: Actions that send the image itself, so they need its file.
IMAGE_ACTIONS = ("remix", "edit", "upscale", "describe", "reframe", "replace_background")


def image_size(image: Any) -> tuple[int, int] | None:
    """(width, height) from the result's record, else from the file."""
    size = getattr(image, "size", None)
    if size:
        return size
    if getattr(image, "path", None) is None:
        return None
    try:
        with image.open() as img:
            return img.size
    except (OSError, ValueError):
        return None


def is_square(image: Any) -> bool:
    size = image_size(image)
    return size is not None and size[0] == size[1]


def available_actions(image: Any, source_spec: ig.Spec | None = None) -> list[str]:
    """The actions that make sense for this image (reframe only for square images; nothing
    that sends the image when it was withheld)."""
    found: list[str] = []
    if getattr(image, "path", None) is not None:
        found.extend(a for a in IMAGE_ACTIONS if a != "reframe" or is_square(image))
    if image.seed is not None and source_spec is not None and "seed" in type(source_spec).param:
        found.append("reuse_seed")
    return found


#: Settings an action takes over from the spec that made the image, where the target has the
#: field and accepts the value (a legacy style is no v3 style: it is left out, not forced).
CARRIED_FIELDS = (
    "aspect_ratio", "resolution", "rendering_speed", "style_type", "color_palette", "magic_prompt",
    "magic_prompt_option", "magic_prompt_version", "negative_prompt", "style_codes", "style_preset",
)  # fmt: skip
#: Fields an action must not take over: reframe's resolution is the new canvas, not the old one.
_NOT_CARRIED = {"reframe": ("aspect_ratio", "resolution")}


def carry_settings(target: ig.Spec, source_spec: ig.Spec | None, action: str = "") -> ig.Spec:
    """`target` with the source's settings copied in (`CARRIED_FIELDS`), each one only where
    `target` has that field and takes the value; the rest stay as the target had them.

    Why: "remix this" should start from the look that made the image (its aspect ratio,
    speed, style, palette, magic prompt), not from blanks.
    """
    if source_spec is None:
        return target
    skip = _NOT_CARRIED.get(action, ())
    for name in CARRIED_FIELDS:
        if name in skip or name not in type(source_spec).param or name not in type(target).param:
            continue
        value = getattr(source_spec, name)
        if value is None or value == "" or value == type(source_spec).param[name].default:
            continue
        try:
            setattr(target, name, value)
        except (ValueError, TypeError):  # allowed there, not here (e.g. a legacy style)
            continue
        if any(p.field == name for p in target.problems()):  # e.g. both resolution and aspect ratio
            setattr(target, name, type(target).param[name].default)
    return target


def _prompt(image: Any, source_spec: ig.Spec | None) -> str:
    return image.prompt or (getattr(source_spec, "prompt", "") if source_spec is not None else "") or ""


def action_spec(action: str, image: Any, source_spec: ig.Spec | None = None) -> ig.Spec:
    """The prefilled spec for `action` on `image` (an `ImageResult`), starting from the
    settings of `source_spec` (the spec that made it) where the target has them.

    Raises ValueError for an unknown action or one that does not apply (reframe of a
    non-square image, an image action on a withheld image, reuse_seed without a seed).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if action == "reuse_seed":
        if source_spec is None or "seed" not in type(source_spec).param:
            raise ValueError("reuse_seed needs the spec that made the image, and that spec must take a seed")
        if image.seed is None:
            raise ValueError("this image has no recorded seed")
        return source_spec.copy(seed=image.seed)
    if getattr(image, "path", None) is None:
        raise ValueError(f"{action}: this image was withheld by the service, so there is no file to send")
    spec: ig.Spec
    if action == "remix":
        spec = ig.Remix(image=image, prompt=_prompt(image, source_spec))
    elif action == "edit":
        spec = ig.Edit(image=image, prompt=_prompt(image, source_spec))
    elif action == "upscale":
        spec = ig.Upscale(image=image)
    elif action == "describe":
        return ig.Describe(image=image)
    elif action == "reframe":
        if not is_square(image):
            size = image_size(image)
            shown = f"{size[0]}x{size[1]}" if size else "of unknown size"
            raise ValueError(f"reframe needs a square image; this one is {shown}")
        spec = ig.Reframe(image=image)
    else:
        spec = ig.ReplaceBackground(image=image)
    return carry_settings(spec, source_spec, action)


def save_image(image: Any, target: str | Path) -> Path:
    """Copy the image's file to `target` (a file name, or a folder to put it in); returns
    where it went. The copy is byte-identical, so its embedded record travels with it."""
    if getattr(image, "path", None) is None:
        raise ValueError("this image was withheld by the service: there is no file to save")
    text = str(target).strip()
    if not text:
        raise ValueError("give a file name or a folder to save to")
    source = Path(image.path)
    dest = Path(text).expanduser()
    if dest.is_dir() or text.endswith(("/", "\\")):
        stem = (image.sha256 or source.stem)[:12]
        dest = dest / f"{stem}{source.suffix}"
    elif not dest.suffix:
        dest = dest.with_suffix(source.suffix)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest
