"""Image inputs in a form: upload + preview, "use an earlier result", and the mask painter.

Why compound widgets with one `value`: the form links every field the same way (observe
`value`, set `value`), so an image field is a box whose `value` is whatever the spec should
get (upload bytes, an earlier `ImageResult`, a `Mask`) and which shows any value the spec
holds. The spec does the checking; these widgets only collect and preview.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W
import traitlets

import ideogram_nb as ig

from .._callbacks import Callbacks
from .._config import FORM_PAINTER_PX, INPUT_PREVIEW_PX
from ._thumbs import preview_jpeg

ACCEPT = ".png,.jpg,.jpeg,.webp,image/png,image/jpeg,image/webp"
PREVIEW_PX = INPUT_PREVIEW_PX
_NO_CHOICE = -1


class ResultShelf:
    """The session's result images a form can reuse as inputs (a Studio shares one).

    Listeners are held weakly: a form that was replaced is not kept alive by the shelf.
    """

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._listeners: list[weakref.ReferenceType[Any]] = []

    @property
    def items(self) -> list[Any]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, image: Any) -> None:
        """Add a result image (withheld ones and repeats are skipped)."""
        if getattr(image, "path", None) is None:
            return
        sha = getattr(image, "sha256", None)
        if any(getattr(i, "sha256", None) == sha for i in self._items):
            return
        self._items.append(image)
        alive = []
        for ref in self._listeners:
            callback = ref()
            if callback is not None:
                alive.append(ref)
                callback()
        self._listeners = alive

    def on_change(self, callback: Callable[[], None], remove: bool = False) -> None:
        """`callback()` when an image is added (held weakly; `remove=True` takes it away)."""
        if remove:
            self._listeners = [r for r in self._listeners if r() not in (None, callback)]
            return
        ref: weakref.ReferenceType[Any]
        try:
            ref = weakref.WeakMethod(callback)
        except TypeError:
            ref = weakref.ref(callback)
        self._listeners.append(ref)

    @staticmethod
    def label(index: int, image: Any) -> str:
        return f"#{index + 1}: seed {image.seed}, {image.resolution or '?'}"


def _upload_bytes(value: Any) -> list[bytes]:
    """ipywidgets 8: a tuple of dicts whose `content` is a memoryview."""
    return [bytes(item["content"]) for item in value or () if item.get("content") is not None]


def field_title(label: str, doc: str) -> W.HTML:
    """A label that lines up with the other fields' descriptions (170 px, right-aligned)."""
    return W.HTML(
        f"<div style='text-align:right;line-height:28px'>{escape(label)}</div>",
        tooltip=doc, layout=W.Layout(width="170px", min_width="170px", margin="0 8px 0 0"),
    )  # fmt: skip


class _ImageBox(W.VBox):
    """Shared parts: a label with the doc as tooltip, an upload, an earlier-result chooser."""

    value = traitlets.Any(None)

    def __init__(self, label: str, doc: str, *, multiple: bool, shelf: ResultShelf | None) -> None:
        # No tooltip on a Box: ipywidgets 8.1's front end fails to draw a Box that has one
        # (jupyter-widgets/ipywidgets#3860); the title and upload carry the doc instead.
        super().__init__()
        self.doc = doc
        self.shelf = shelf
        self.title = field_title(label, doc)
        self.upload = W.FileUpload(
            accept=ACCEPT, multiple=multiple, description="Add" if multiple else "Upload",
            tooltip=doc, layout=W.Layout(width="auto"),
        )  # fmt: skip
        self.earlier = W.Dropdown(
            options=[("use an earlier result…", _NO_CHOICE)], value=_NO_CHOICE,
            tooltip="Use one of this session's results", layout=W.Layout(width="240px", display="none"),
        )  # fmt: skip
        self.clear = W.Button(description="Clear", icon="times", tooltip="Remove", layout=W.Layout(width="auto"))
        self.info = W.HTML()
        self.upload.observe(self._on_upload, "value")
        self.earlier.observe(self._on_earlier, "value")
        self.clear.on_click(lambda _b: setattr(self, "value", None))
        self.observe(lambda _c: self._render(), "value")
        if shelf is not None:
            shelf.on_change(self._refresh_choices)
            self._refresh_choices()

    def buttons(self) -> W.HBox:
        """Upload, earlier result and clear: they wrap beside the label, never under it."""
        return W.HBox([self.upload, self.earlier, self.clear], layout=W.Layout(flex_flow="row wrap", flex="1 1 0"))

    def _refresh_choices(self) -> None:
        items = self.shelf.items if self.shelf is not None else []
        options = [("use an earlier result…", _NO_CHOICE)]
        options += [(ResultShelf.label(i, im), i) for i, im in enumerate(items)]
        self.earlier.options = options  # resets to the first option: "use an earlier result…"
        self.earlier.layout.display = None if items else "none"

    def _on_earlier(self, change: Any) -> None:
        index = change["new"]
        if index in (None, _NO_CHOICE) or self.shelf is None:
            return
        self._take(self.shelf.items[index])
        self.earlier.value = _NO_CHOICE

    def _on_upload(self, change: Any) -> None:
        contents = _upload_bytes(change["new"])
        if not contents:
            return
        self.upload.value = ()  # so the same file can be chosen again
        for data in contents:
            self._take(data)

    def _take(self, item: Any) -> None:
        raise NotImplementedError

    def _render(self) -> None:
        raise NotImplementedError


class ImageField(_ImageBox):
    """One image: upload or pick an earlier result; a thumbnail shows what the spec holds.

    An uploaded image made by ideogram_nb carries the request that made it: "Use its settings"
    hands that spec to `on_settings` listeners (a form fills itself, the Studio opens its tab).
    """

    def __init__(self, label: str, doc: str, value: Any = None, *, shelf: ResultShelf | None = None) -> None:
        super().__init__(label, doc, multiple=False, shelf=shelf)
        self.preview = W.Image(format="jpeg", layout=W.Layout(max_width=f"{PREVIEW_PX}px", display="none"))
        self.settings_button = W.Button(
            description="Use its settings", icon="sliders", layout=W.Layout(width="auto", display="none"),
            tooltip="This image was made by ideogram_nb: fill a form with the settings that made it",
        )  # fmt: skip
        self.settings_button.on_click(lambda _b: self.use_settings())
        self._settings_callbacks = Callbacks()
        #: (the upload's sha256, the spec embedded in it): shown while that image is the value.
        self._embedded: tuple[str, ig.Spec] | None = None
        row = W.HBox([self.title, self.buttons()])
        details = W.VBox([self.info, self.settings_button])
        self.children = (row, W.HBox([self.preview, details], layout=W.Layout(margin="0 0 0 178px")))
        self.value = value
        self._render()

    @property
    def embedded_spec(self) -> ig.Spec | None:
        """The request that made the uploaded image (None: not uploaded, or no record in it)."""
        if self._embedded is None:
            return None
        value = self.value
        sha = value.sha256 if isinstance(value, ig.ImageInput) else None
        if isinstance(value, bytes):
            sha = hashlib.sha256(value).hexdigest()
        return self._embedded[1] if sha == self._embedded[0] else None

    def on_settings(self, callback: Callable[[ig.Spec], Any], remove: bool = False) -> None:
        """Call `callback(spec)` when "Use its settings" is clicked."""
        self._settings_callbacks.register(callback, remove=remove)

    def use_settings(self) -> ig.Spec:
        spec = self.embedded_spec
        if spec is None:
            raise ValueError("This image carries no ideogram_nb settings.")
        self._settings_callbacks(spec.copy())
        return spec

    def _take(self, item: Any) -> None:
        self._embedded = None
        if isinstance(item, bytes):  # an upload: it may carry the request that made it
            try:
                self._embedded = (hashlib.sha256(item).hexdigest(), ig.spec_from_image(item))
            except (ig.MetadataError, ValueError, TypeError, OSError):
                self._embedded = None
        self.value = item

    def _render(self) -> None:
        value = self.value
        spec = self.embedded_spec
        self.settings_button.layout.display = None if spec is not None else "none"
        if spec is not None:
            self.settings_button.description = f"Use its settings ({type(spec).__name__})"
        if value is None:
            self.preview.layout.display = "none"
            self.info.value = "<i>no image</i>"
            return
        jpeg = preview_jpeg(value, PREVIEW_PX)
        if jpeg is None:
            self.preview.layout.display = "none"
            self.info.value = "<i>cannot preview this file</i>"
            return
        self.preview.value = jpeg
        self.preview.layout.display = None
        size = getattr(value, "size", None) or getattr(value, "resolution", None)
        self.info.value = f"<small>{size[0]}×{size[1]}</small>" if isinstance(size, tuple) else ""


class ImageListField(_ImageBox):
    """Several images (style references): each upload or earlier result is appended."""

    def __init__(self, label: str, doc: str, value: Any = None, *, shelf: ResultShelf | None = None) -> None:
        super().__init__(label, doc, multiple=True, shelf=shelf)
        self.previews = W.HBox(layout=W.Layout(flex_flow="row wrap", margin="0 0 0 178px"))
        row = W.HBox([self.title, self.buttons()])
        self.children = (row, self.previews, self.info)
        self.value = value
        self._render()

    def _take(self, item: Any) -> None:
        self.value = [*(self.value or ()), item]

    def _render(self) -> None:
        items = list(self.value or ())
        thumbs = []
        for item in items:
            jpeg = preview_jpeg(item, 96)
            if jpeg is not None:
                thumbs.append(W.Image(value=jpeg, format="jpeg", layout=W.Layout(max_width="96px")))
        self.previews.children = tuple(thumbs)
        self.info.value = f"<small style='margin-left:178px'>{len(items)} image(s)</small>" if items else ""


class PainterMaskField(W.VBox):
    """The mask, painted over the spec's image. `value` is the painter's `Mask` once painted."""

    value = traitlets.Any(None)

    def __init__(self, label: str, doc: str, value: Any, image: Any, painter_cls: type) -> None:
        self._painter_cls = painter_cls
        self.painter: Any = None
        self._image: Any = None
        self.title = field_title(label, doc)
        self.info = W.HTML()
        self.holder = W.VBox()
        # the painter right under the image field, its own label in line with the others
        super().__init__([W.HBox([self.title, self.info], layout=W.Layout(align_items="center")), self.holder])
        self.doc = doc
        self.observe(self._on_value, "value")
        self.set_image(image)
        if value is not None:
            self.value = value

    def set_image(self, image: Any) -> None:
        """A new image to paint on: the mask starts empty (and the spec's mask is cleared)."""
        if image is self._image:
            return
        self._image = image
        if image is None:
            self.holder.children = ()
            self.info.value = "<i>Choose the image above first, then paint the region to edit.</i>"
            self.value = None
            return
        try:
            if self.painter is None:
                self.painter = self._painter_cls(image, max_display=FORM_PAINTER_PX)
                self.painter.on_change(self._painted)
            else:
                self.painter.set_image(image, notify=False)
        except (ValueError, OSError) as exc:
            self.info.value = f"<span style='color:#d32f2f'>cannot paint on this image: {exc}</span>"
            self.holder.children = ()
            return
        self.holder.children = (self.painter,)
        self.info.value = "<small>Paint the region to edit (black in the mask that is sent).</small>"
        self.value = None

    def _painted(self, mask: Any) -> None:
        if self.value is mask:  # same object, changed in place: traitlets would stay silent
            self.notify_change(traitlets.Bunch(name="value", old=None, new=mask, owner=self, type="change"))
        else:
            self.value = mask

    def _on_value(self, change: Any) -> None:
        """A mask set from code (spec → widget): load it into the painter when it fits."""
        new = change["new"]
        if new is None or self.painter is None or new is self.painter.mask:
            return
        try:
            from .. import Mask

            mask = Mask.from_image(new.open() if hasattr(new, "open") else new)
            if mask.size == self.painter.image_size:
                self.painter.set_image(self._image, mask=mask, notify=False)
        except (ValueError, OSError, TypeError):
            pass  # shown as it is; the spec's own check reports a bad mask


def make_mask_field(label: str, doc: str, value: Any, *, image: Any) -> W.DOMWidget:
    """The painter when `widgets._painter` exists, else an upload of a mask file."""
    try:
        from ._painter import MaskPainter
    except ImportError:
        return ImageField(label, doc + " Upload a black-and-white PNG.", value)
    return PainterMaskField(label, doc, value, image, MaskPainter)
