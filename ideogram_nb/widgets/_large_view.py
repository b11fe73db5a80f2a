"""`LargeView`: one image at full resolution (scaled to fit), previous/next, its words and actions.

Why an anywidget: keyboard navigation (← → Esc), a before/after slider and a browser download
are not in ipywidgets' box of parts; a small front end (`_ESM`) draws them in Lab, Notebook 7
and Voilà alike. Why it stays thin: what is shown and what a button does are decided by the
`Gallery` controller and by Python methods (`next`, `prev`, `hide`, `trigger`, `save`), which
tests call directly; the browser only sends their names as messages.

Why only the image in view travels: a grid of eight 1024² PNGs is ~15 MB; the front end gets
the one file in view when it is shown (the stored file itself, so Download saves exactly those
bytes, metadata included), and nothing while the view is closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as W
import traitlets as T

from .._callbacks import Callbacks
from .._config import SERVER_SAVE_FOLDER
from ._actions import ACTIONS, action_spec, save_image
from ._before_after import BEFORE_AFTER_CSS, BEFORE_AFTER_JS
from ._download import SAVE_BLOB_JS, download_name, image_mime
from ._followup import FollowUp, FormFactory
from ._gallery import Gallery
from ._thumbs import placeholder

#: act(action, image) -> spec: what a host (a `ResultGrid`) does with a per-image action.
ActFunction = Callable[[str, Any], Any]
ActionCallback = Callable[[str, Any], Any]

_PLACEHOLDER_PX = 512

_ESM = (
    SAVE_BLOB_JS
    + BEFORE_AFTER_JS
    + """
function button(label, title, cls) {
  const b = document.createElement("button");
  b.className = "jupyter-widgets jupyter-button widget-button " + (cls || "");
  b.textContent = label;
  b.title = title || "";
  return b;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "ig-lv";
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("role", "dialog");
  root.setAttribute("aria-label", "Large view");
  const bar = document.createElement("div");
  bar.className = "ig-lv-bar";
  const prev = button("‹ Previous", "Previous image (←)", "ig-lv-prev");
  const next = button("Next ›", "Next image (→)", "ig-lv-next");
  const position = document.createElement("span");
  position.className = "ig-lv-position";
  const compare = button("", "Compare with the image it was made from", "ig-lv-compare");
  const close = button("✕ Close", "Close the large view (Esc)", "ig-lv-close");
  const spacer = document.createElement("span");
  spacer.style.flex = "1";
  bar.append(prev, position, next, spacer, compare, close);
  const stage = document.createElement("div");
  stage.className = "ig-lv-stage";
  const meta = document.createElement("div");
  meta.className = "ig-lv-meta";
  const prompt = document.createElement("div");
  prompt.className = "ig-lv-prompt";
  const actions = document.createElement("div");
  actions.className = "ig-lv-actions";
  const message = document.createElement("div");
  message.className = "ig-lv-message";
  root.append(bar, stage, meta, prompt, actions, message);
  el.appendChild(root);

  let urls = [];
  let showCompare = true;
  const send = (event, extra) => model.send(Object.assign({ event }, extra || {}));
  const blobUrl = (name, mime) => {
    const url = URL.createObjectURL(new Blob([model.get(name)], { type: mime }));
    urls.push(url);
    return url;
  };
  let shown = null;  // what the stage shows now: [src, before, layout, showCompare]
  const drawStage = (cap) => {
    const layout = model.get("compare");
    const want = [model.get("src"), model.get("before"), layout, showCompare];
    if (shown && want.every((v, i) => v === shown[i])) return;  // same pictures: keep them
    shown = want;
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    const after = blobUrl("src", model.get("mime"));
    if (layout && showCompare) {
      drawCompare(stage, blobUrl("before", model.get("before_mime")), after, layout);
    } else {
      const img = document.createElement("img");
      img.className = "ig-lv-image";
      img.src = after;
      img.alt = cap.prompt || "image";
      stage.replaceChildren(img);
    }
  };
  const draw = () => {
    const open = model.get("visible");
    root.style.display = open ? "" : "none";
    if (!open) {
      urls.forEach((u) => URL.revokeObjectURL(u));
      urls = [];
      shown = null;
      stage.replaceChildren();
      armed = false;
      return;
    }
    const cap = model.get("caption");
    position.textContent = cap.position || "";
    prev.disabled = !model.get("has_prev");
    next.disabled = !model.get("has_next");
    const layout = model.get("compare");
    compare.style.display = layout ? "" : "none";
    compare.textContent = showCompare ? "Result only" : "Before / after";
    drawStage(cap);
    const words = [];
    if (cap.seed) words.push("seed " + cap.seed);
    if (cap.size) words.push(cap.size);
    if (cap.cost) words.push(cap.cost);
    if (cap.endpoint) words.push(cap.endpoint);
    if (cap.withheld) words.push(cap.withheld);
    meta.textContent = words.join(" · ");
    prompt.textContent = cap.prompt || "";
    const buttons = model.get("actions").map(([id, label]) => {
      const b = button(label, "Open a " + label + " form for this image", "ig-lv-action");
      b.dataset.action = id;
      b.addEventListener("click", () => send("action", { action: id }));
      return b;
    });
    const download = button("Download", "Save this image on your computer, with its settings inside",
                            "mod-primary ig-lv-download");
    download.disabled = !model.get("filename");
    download.addEventListener("click", () => saveBlob(model.get("src"), model.get("filename"), model.get("mime")));
    const save = button("Save to server", "Copy the image file to a folder beside the notebook", "ig-lv-save");
    save.disabled = !model.get("filename");
    save.addEventListener("click", () => send("save"));
    actions.replaceChildren(download, ...buttons, save);
    message.textContent = model.get("message");
    if (!root.contains(document.activeElement)) root.focus({ preventScroll: true });
  };
  prev.addEventListener("click", () => send("prev"));
  next.addEventListener("click", () => send("next"));
  close.addEventListener("click", () => send("close"));
  compare.addEventListener("click", () => { showCompare = !showCompare; draw(); });
  // Keys reach the view while it has the focus, and also when the focus fell back to the page
  // (a front end may take it away after a kernel message) as long as the view was the last
  // thing clicked: never while the user types in an input or a cell editor.
  let armed = false;
  const onPointer = (e) => { armed = root.contains(e.target) || el.contains(e.target); };
  const editable = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
    || t.closest(".jp-Cell .cm-editor"));
  const onKey = (e) => {
    const keys = { ArrowLeft: "prev", ArrowRight: "next", Escape: "close" };
    if (!model.get("visible") || !(e.key in keys) || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = document.activeElement;
    const inside = root.contains(t);
    if (!inside && !(armed && !editable(t) && !(t && t.closest(".ig-lv")))) return;
    e.preventDefault();
    e.stopPropagation();
    send(keys[e.key]);
  };
  document.addEventListener("pointerdown", onPointer, true);
  document.addEventListener("keydown", onKey, true);
  // one redraw per message from the kernel, however many traits it changed
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; draw(); });
  };
  model.on("change:visible", () => {
    draw();
    if (model.get("visible")) {
      armed = true;  // just opened: the keys are for it until something else is clicked
      root.scrollIntoView({ block: "nearest" });
    }
  });
  for (const name of ["src", "caption", "actions", "message", "compare", "has_prev", "has_next"]) {
    model.on("change:" + name, schedule);
  }
  draw();
  return () => {
    urls.forEach((u) => URL.revokeObjectURL(u));
    document.removeEventListener("pointerdown", onPointer, true);
    document.removeEventListener("keydown", onKey, true);
  };
}
export default { render };
"""
)

_CSS = (
    BEFORE_AFTER_CSS
    + """
.ig-lv { --ig-stage-height: max(240px, calc(100vh - 360px));
  border: 1px solid #d0d0d0; border-radius: 4px; padding: 8px; margin: 8px 0;
  background: var(--jp-layout-color1, #fff); outline: none; }
.ig-lv:focus-visible { box-shadow: 0 0 0 2px #1976d2; }
.ig-lv-bar, .ig-lv-actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.ig-lv-bar .jupyter-button, .ig-lv-actions .jupyter-button { width: auto; padding: 0 12px; }
.ig-lv-position { min-width: 4em; text-align: center; }
.ig-lv-stage { display: flex; justify-content: center; align-items: center; margin: 8px 0;
  background: var(--jp-layout-color2, #f3f3f3); height: var(--ig-stage-height); overflow: hidden; }
.ig-lv-image { display: block; max-width: 100%; max-height: var(--ig-stage-height); object-fit: contain; }
.ig-lv-meta { font-weight: bold; margin-top: 4px; }
.ig-lv-prompt { color: #333; margin: 4px 0 8px; white-space: pre-wrap; }
.ig-lv-message { margin-top: 6px; }
"""
)


class LargeViewer(anywidget.AnyWidget):
    """The front end of `LargeView`: what is drawn, as synced traits; clicks come back as messages."""

    _esm = _ESM
    _css = _CSS
    visible = T.Bool(False).tag(sync=True)
    src = T.Bytes(b"").tag(sync=True)
    mime = T.Unicode("image/png").tag(sync=True)
    filename = T.Unicode("").tag(sync=True)
    caption = T.Dict().tag(sync=True)
    actions: T.List[list[str]] = T.List().tag(sync=True)
    has_prev = T.Bool(False).tag(sync=True)
    has_next = T.Bool(False).tag(sync=True)
    before = T.Bytes(b"").tag(sync=True)
    before_mime = T.Unicode("image/png").tag(sync=True)
    #: '' (no source image), 'slider' or 'side'
    compare = T.Unicode("").tag(sync=True)
    message = T.Unicode("").tag(sync=True)


class LargeView(W.VBox):
    """One image large, with previous/next (buttons, ← →), Esc to close, its seed, size,
    prompt and cost, the per-image actions, Download (to the browser), Save to server, and
    before/after when the image was made from another.

    `view.show(images, index)` opens it (`images`: `Result`s, `ImageResult`s or (image,
    result) pairs); `view.on_action(cb)` calls `cb(action, spec)` with the prefilled spec of
    an action, like `ResultGrid.on_action`. A host passes `act(action, image)` instead to
    route actions through itself. With neither, the prefilled form opens under the view.
    """

    def __init__(
        self,
        images: Iterable[Any] = (),
        *,
        act: ActFunction | None = None,
        save_folder: str | Path = SERVER_SAVE_FOLDER,
        make_form: FormFactory | None = None,
    ) -> None:
        super().__init__()
        self.gallery = Gallery(images)
        self.viewer = LargeViewer()
        self.save_folder = Path(save_folder)
        self._act = act
        self._action_callbacks = Callbacks()
        #: Where a prefilled form opens when nothing else takes the action.
        self.followup = FollowUp(make_form)
        self.viewer.on_msg(self._handle_message)
        self.children = (self.viewer, self.followup)

    # --- public API -----------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.gallery.is_open

    @property
    def index(self) -> int:
        return self.gallery.index

    @property
    def image(self) -> Any:
        """The `ImageResult` in view (None when there is none)."""
        return self.gallery.image

    def show(self, images: Iterable[Any] | None = None, index: int = 0) -> Any:
        """Open on image `index` of `images` (default: the images already held); returns it."""
        self.gallery.show(images, index)
        self._draw()
        return self.image

    def next(self) -> int:
        self.gallery.next()
        self._draw()
        return self.index

    def prev(self) -> int:
        self.gallery.prev()
        self._draw()
        return self.index

    def go(self, index: int) -> int:
        self.gallery.go(index)
        self._draw()
        return self.index

    def hide(self) -> None:
        """Close the view (Esc, or its Close button): its full-resolution bytes leave the front
        end; `show` opens it again. (`close()` stays ipywidgets' "end this widget for good".)"""
        self.gallery.close()
        self._draw()

    def on_action(self, callback: ActionCallback, remove: bool = False) -> None:
        """Call `callback(action, spec)` with the prefilled spec of a per-image action."""
        self._action_callbacks.register(callback, remove=remove)

    def trigger(self, action: str) -> Any:
        """Do `action` (one of the grid's: remix, edit, …, reuse_seed) on the image in view."""
        image = self.image
        if image is None:
            raise ValueError("There is no image in view.")
        if self._act is not None:
            return self._act(action, image)
        result = self.gallery.result
        spec = action_spec(action, image, result.spec if result is not None else None)
        if self._action_callbacks:
            self._action_callbacks(action, spec)
        else:
            self.followup.open_form(ACTIONS[action], spec)
        return spec

    def save(self, target: str | Path | None = None) -> Path:
        """Copy the image in view to `target` (default: the save folder, under its download name)."""
        image = self.image
        if image is None:
            raise ValueError("There is no image in view.")
        dest = Path(target) if target is not None else self.save_folder / download_name(image, self.gallery.result)
        return save_image(image, dest)

    # --- drawing ---------------------------------------------------------------------------------
    def _draw(self) -> None:
        v, g = self.viewer, self.gallery
        if not g.is_open or g.current is None:
            with v.hold_sync():
                v.visible = False
                v.src = v.before = b""  # nothing large stays in the front end while closed
            return
        image, result = g.current
        source = g.source()
        layout = g.compare_layout() if image.path is not None else ""
        with v.hold_sync():
            if image.path is None:
                v.src, v.mime, v.filename = placeholder(_PLACEHOLDER_PX, "withheld"), "image/jpeg", ""
            else:
                v.src, v.mime = self._read(image.path), image_mime(image.path)
                v.filename = download_name(image, result) if v.src else ""
            v.before = source.data if layout else b""
            v.before_mime = source.mime if layout else "image/png"
            v.compare = layout
            v.caption = g.caption()
            v.actions = [list(pair) for pair in g.actions()]
            v.has_prev, v.has_next = g.has_prev, g.has_next
            v.visible = True

    def _read(self, path: Path) -> bytes:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self.viewer.message = f"The image file cannot be read: {exc}"
            return placeholder(_PLACEHOLDER_PX, "missing")
        self.viewer.message = ""
        return data

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event = content.get("event")
        if event == "next":
            self.next()
        elif event == "prev":
            self.prev()
        elif event == "close":
            self.hide()
        elif event == "action":
            try:
                self.trigger(str(content.get("action")))
            except ValueError as exc:
                self.viewer.message = str(exc)
        elif event == "save":
            try:
                self.viewer.message = f"Saved to {self.save()}"
            except (ValueError, OSError) as exc:
                self.viewer.message = f"Not saved: {exc}"


def open_large_view(images: Iterable[Any], index: int = 0, *, on_action: ActionCallback | None = None) -> LargeView:
    """A `LargeView` opened on image `index` of `images` (display it): for any list of images,
    e.g. a comparison's cells. `on_action(action, spec)` gets the per-image actions."""
    view = LargeView()
    if on_action is not None:
        view.on_action(on_action)
    view.show(images, index)
    return view
