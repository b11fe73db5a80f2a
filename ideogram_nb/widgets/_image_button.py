"""`ImageButton`: a picture you can click (a thumbnail that opens the large view).

Why a custom widget: `ipywidgets.Image` has no click event in every front end, so grids used
to put a "Select" button under each picture. An anywidget draws an `<img>` inside a real
`<button>` (keyboard-focusable, Enter and Space click it) and tells the kernel with a custom
message. It keeps `value` and `format` like `ipywidgets.Image`, so code that reads a tile's
picture reads both alike. `click()` does from Python what a click does in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets as T

from .._callbacks import Callbacks

_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "ig-image-button";
  const img = document.createElement("img");
  button.appendChild(img);
  el.appendChild(button);
  let url = null;
  const draw = () => {
    if (url) URL.revokeObjectURL(url);
    const data = model.get("value");
    const type = "image/" + model.get("format");
    url = data && data.byteLength ? URL.createObjectURL(new Blob([data], { type })) : null;
    img.src = url || "";
    img.alt = model.get("alt");
    button.title = model.get("hint");
    button.disabled = model.get("disabled");
  };
  draw();
  for (const name of ["value", "format", "alt", "hint", "disabled"]) model.on("change:" + name, draw);
  button.addEventListener("click", () => model.send({ event: "click" }));
  return () => { if (url) URL.revokeObjectURL(url); };
}
export default { render };
"""

_CSS = """
.ig-image-button { display: block; width: 100%; padding: 0; margin: 0; border: 0; background: none;
  cursor: zoom-in; line-height: 0; }
.ig-image-button:disabled { cursor: default; }
.ig-image-button:focus-visible { outline: 2px solid #1976d2; outline-offset: 2px; }
.ig-image-button img { width: 100%; height: auto; object-fit: contain; }
"""

ClickCallback = Callable[["ImageButton"], Any]


class ImageButton(anywidget.AnyWidget):
    """An image (JPEG or PNG bytes) that calls `on_click` listeners when clicked."""

    _esm = _ESM
    _css = _CSS
    value = T.Bytes(b"").tag(sync=True)
    format = T.Unicode("jpeg").tag(sync=True)
    alt = T.Unicode("").tag(sync=True)
    hint = T.Unicode("Open this image large").tag(sync=True)
    disabled = T.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._click_callbacks = Callbacks()
        self.on_msg(self._handle_message)

    def on_click(self, callback: ClickCallback, remove: bool = False) -> None:
        """Call `callback(button)` on every click (ipywidgets' `Button.on_click` idiom)."""
        self._click_callbacks.register(callback, remove=remove)

    def click(self) -> None:
        """What a click in the browser does (a disabled button does nothing)."""
        if not self.disabled:
            self._click_callbacks(self)

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "click":
            self.click()
