"""What the large view shows, as plain Python: a list of images, the one in view, its words.

Why a controller apart from the widget: "next", "previous", "which image", "which actions",
"is there a source to compare with" are decisions, testable without a browser; `LargeView`
only draws them and sends the one full-resolution file in view.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._actions import ACTIONS, available_actions, image_size

#: (ImageResult, the Result it came from or None)
Entry = tuple[Any, Any]

#: Two pictures whose shapes differ by less than this share one slider; others go side by side.
_SAME_SHAPE = 0.02


def as_entries(items: Iterable[Any]) -> list[Entry]:
    """Results (each image of each), `ImageResult`s and (image, result) pairs, as entries."""
    out: list[Entry] = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            out.append((item[0], item[1]))
        elif hasattr(item, "images") and hasattr(item, "spec"):
            out.extend((image, item) for image in item.images)
        else:
            out.append((item, None))
    return out


def source_image(result: Any) -> Any:
    """The image a result was made from (edit, remix, upscale, reframe, replace background),
    as the `ImageInput` that was sent; None for text-to-image results."""
    spec = getattr(result, "spec", None)
    if spec is None or getattr(spec, "endpoint", "") == "describe":
        return None
    return getattr(spec, "image", None)


def size_text(size: tuple[int, int] | None) -> str:
    return f"{size[0]}×{size[1]}" if size else ""


class Gallery:
    """Images in order, one of them in view (`index`), open or closed.

    Navigation stops at both ends (`has_prev`, `has_next`) rather than wrapping: the
    position "3 / 8" then always means the same thing as the grid's order.
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self.entries: list[Entry] = as_entries(items)
        self.index = 0
        self.is_open = False

    # --- moving -----------------------------------------------------------------------------
    def show(self, items: Iterable[Any] | None = None, index: int = 0) -> Entry:
        """Open on image `index` (of `items`, or of the images already held)."""
        if items is not None:
            self.entries = as_entries(items)
        if not self.entries:
            raise ValueError("There is no image to show.")
        if not 0 <= index < len(self.entries):
            raise ValueError(
                f"index={index} is out of range: there are {len(self.entries)} images (0 to {len(self.entries) - 1})."
            )
        self.index = index
        self.is_open = True
        return self.entries[index]

    def go(self, index: int) -> int:
        """Move to `index`, kept within the images; returns the index now in view."""
        if self.entries:
            self.index = min(max(0, index), len(self.entries) - 1)
        return self.index

    def next(self) -> int:
        return self.go(self.index + 1)

    def prev(self) -> int:
        return self.go(self.index - 1)

    def close(self) -> None:
        self.is_open = False

    @property
    def has_prev(self) -> bool:
        return self.index > 0

    @property
    def has_next(self) -> bool:
        return self.index < len(self.entries) - 1

    # --- what is in view --------------------------------------------------------------------
    @property
    def current(self) -> Entry | None:
        return self.entries[self.index] if self.entries else None

    @property
    def image(self) -> Any:
        return self.current[0] if self.current else None

    @property
    def result(self) -> Any:
        return self.current[1] if self.current else None

    def caption(self) -> dict[str, str]:
        """The words shown under the image: position, seed, size, cost, prompt, endpoint."""
        image, result = self.current or (None, None)
        if image is None:
            return {}
        cost = ""
        if result is not None:
            per_image = result.cost_usd / len(result.images) if result.images else result.cost_usd
            cost = f"${per_image:.3f}"
        prompt = image.prompt or getattr(getattr(result, "spec", None), "prompt", None) or ""
        return {
            "position": f"{self.index + 1} / {len(self.entries)}",
            "seed": "" if image.seed is None else str(image.seed),
            "size": size_text(image_size(image)),
            "cost": cost,
            "prompt": str(prompt),
            "endpoint": result.endpoint if result is not None else "",
            "withheld": "withheld by the service (unsafe); still billed" if image.withheld else "",
        }

    def actions(self) -> list[tuple[str, str]]:
        """(action id, button label) for the image in view: the same ones a `ResultGrid` offers."""
        image, result = self.current or (None, None)
        if image is None:
            return []
        spec = result.spec if result is not None else None
        return [(a, ACTIONS[a]) for a in available_actions(image, spec)]

    def source(self) -> Any:
        """The `ImageInput` the image in view was made from, or None."""
        return source_image(self.result)

    def compare_layout(self) -> str:
        """'slider' when source and result have the same shape, else 'side' (side by side),
        or '' with no source."""
        source = self.source()
        if source is None:
            return ""
        size = image_size(self.image)
        if not size or not source.height or not size[1]:
            return "side"
        same = abs(size[0] / size[1] - source.width / source.height) < _SAME_SHAPE
        return "slider" if same else "side"
