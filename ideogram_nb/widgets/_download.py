"""Download to the user's own computer: the browser saves the stored file, bytes unchanged.

Why through the browser: in Voilà and on Binder the server's disk is out of the user's reach,
so "save to a path" is not a download. The kernel sends the stored image (the file the image
store keeps, whose embedded metadata records the run) to the front end, which wraps it in a
Blob and clicks an `<a download=NAME>`: the browser's own download, named readably from the
prompt's first words and the seed (`red-fox-in-snow_seed1234.png`).

Why the button is drawn by the front end: browsers let a page start a download from script
only shortly after a user gesture. The click happens in the browser, the bytes come back in
the kernel's answer a moment later, well within that window.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets as T

from .._config import DOWNLOAD_NAME_WORDS

#: Saves `bytes` (a DataView or ArrayBuffer) as a file named `name` through the browser.
SAVE_BLOB_JS = """
function saveBlob(bytes, name, mime) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mime || "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
"""

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_MAX_STEM_CHARS = 60
#: Words that say nothing in a file name ("a red fox in the snow" → red-fox-in-snow).
_FILLER = frozenset({"a", "an", "the"})


def image_mime(path: str | Path) -> str:
    """The MIME type of an image file, from its suffix (the store names files by format)."""
    return _MIME.get(Path(path).suffix.lower(), "application/octet-stream")


def slug(text: str, words: int = DOWNLOAD_NAME_WORDS) -> str:
    """The first `words` words of `text` (without a/an/the) as a safe file-name part: ASCII
    letters and digits joined by hyphens (accents folded, everything else dropped), at most
    60 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    parts = [w for w in re.findall(r"[a-z0-9]+", ascii_text) if w not in _FILLER][:words]
    return "-".join(parts)[:_MAX_STEM_CHARS].strip("-")


def download_name(image: Any, result: Any = None) -> str:
    """A readable, safe file name for an image: prompt words + seed + the file's suffix.

    `a red fox in the snow` with seed 1234 → `red-fox-in-snow_seed1234.png`; no prompt gives
    `ideogram`, no seed the content hash's first 8 characters.
    """
    prompt = getattr(image, "prompt", None) or getattr(getattr(result, "spec", None), "prompt", None) or ""
    stem = slug(str(prompt)) or "ideogram"
    seed = getattr(image, "seed", None)
    sha = getattr(image, "sha256", None) or ""
    tag = f"seed{seed}" if seed is not None else (sha[:8] or "image")
    path = getattr(image, "path", None)
    suffix = Path(path).suffix.lower() if path is not None else ".png"
    return f"{stem}_{tag}{suffix}"


def download_payload(image: Any, result: Any = None) -> tuple[str, str, bytes]:
    """(file name, MIME type, the stored file's bytes) for one image; ValueError when the
    service withheld it (there is no file), OSError when the file is gone."""
    path = getattr(image, "path", None)
    if path is None:
        raise ValueError("This image was withheld by the service, so there is no file to download.")
    return download_name(image, result), image_mime(path), Path(path).read_bytes()


_BUTTON_ESM = (
    SAVE_BLOB_JS
    + """
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "jupyter-widgets jupyter-button widget-button ig-download";
  const draw = () => {
    button.textContent = model.get("description");
    button.title = model.get("hint");
    button.disabled = model.get("disabled");
  };
  draw();
  for (const name of ["description", "hint", "disabled"]) model.on("change:" + name, draw);
  button.addEventListener("click", () => model.send({ event: "download" }));
  const onMessage = (msg, buffers) => {
    if (msg && msg.event === "file" && buffers.length) saveBlob(buffers[0], msg.name, msg.mime);
  };
  model.on("msg:custom", onMessage);
  el.appendChild(button);
  return () => model.off("msg:custom", onMessage);
}
export default { render };
"""
)

Payload = Callable[[], tuple[str, str, bytes]]


class DownloadButton(anywidget.AnyWidget):
    """A button that downloads a file to the user's computer through the browser.

    `DownloadButton(image, result)` downloads that `ImageResult`'s stored file; `set_image`
    points it at another one (a grid's selected image). `download()` sends the file from
    Python, as a click does. `message` says what went wrong, in a sentence, or is empty.
    """

    _esm = _BUTTON_ESM
    description = T.Unicode("Download").tag(sync=True)
    hint = T.Unicode("Save this image on your computer, with its settings inside").tag(sync=True)
    disabled = T.Bool(True).tag(sync=True)
    filename = T.Unicode("").tag(sync=True)
    message = T.Unicode("")

    def __init__(self, image: Any = None, result: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._image: Any = None
        self._result: Any = None
        self.on_msg(self._handle_message)
        self.set_image(image, result)

    def set_image(self, image: Any, result: Any = None) -> None:
        """Download this image from now on (None: nothing, the button is disabled)."""
        self._image, self._result = image, result
        usable = image is not None and getattr(image, "path", None) is not None
        self.disabled = not usable
        self.filename = download_name(image, result) if usable else ""
        self.message = ""

    def download(self) -> str | None:
        """Send the image's file to the browser, which saves it; returns its name, or None
        (with `message` set) when there is nothing to send."""
        if self._image is None:
            self.message = "Choose an image first."
            return None
        try:
            name, mime, data = download_payload(self._image, self._result)
        except (ValueError, OSError) as exc:
            self.message = f"Not downloaded: {exc}"
            return None
        self.send({"event": "file", "name": name, "mime": mime}, buffers=[data])
        self.message = ""
        return name

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "download":
            self.download()
