"""Before and after: the image a result was made from, and the result, under one slider.

Why: an edit, a remix or an upscale is judged against its source. Two pictures of the same
shape lie on top of each other and a slider uncovers the source from the left (CSS
`clip-path`, no canvas); pictures of different shapes (a reframe, a remix to another aspect
ratio) stand side by side. The drawing code is shared with the large view (`BEFORE_AFTER_JS`);
`BeforeAfter` is the same thing as a widget of its own.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets as T

from ._download import image_mime
from ._gallery import source_image

#: drawCompare(stage, beforeUrl, afterUrl, layout): fills `stage` with both pictures, as a
#: 'slider' (stacked, the source uncovered up to the slider) or 'side' (side by side).
BEFORE_AFTER_JS = """
function drawCompare(stage, beforeUrl, afterUrl, layout) {
  stage.replaceChildren();
  if (layout === "side") {
    const row = document.createElement("div");
    row.className = "ig-ba-side";
    for (const [url, label] of [[beforeUrl, "Before"], [afterUrl, "After"]]) {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.src = url;
      img.alt = label;
      const cap = document.createElement("figcaption");
      cap.textContent = label;
      fig.append(img, cap);
      row.appendChild(fig);
    }
    stage.appendChild(row);
    return;
  }
  const box = document.createElement("div");
  box.className = "ig-ba-slider";
  const after = document.createElement("img");
  after.src = afterUrl;
  after.alt = "After";
  after.className = "ig-ba-after";
  const before = document.createElement("img");
  before.src = beforeUrl;
  before.alt = "Before";
  before.className = "ig-ba-before";
  const line = document.createElement("div");
  line.className = "ig-ba-line";
  const range = document.createElement("input");
  range.type = "range";
  range.min = "0";
  range.max = "100";
  range.value = "50";
  range.className = "ig-ba-range";
  range.setAttribute("aria-label", "Before / after");
  const labels = document.createElement("div");
  labels.className = "ig-ba-labels";
  labels.innerHTML = "<span>Before</span><span>After</span>";
  const place = () => {
    const p = Number(range.value);
    before.style.clipPath = `inset(0 ${100 - p}% 0 0)`;
    line.style.left = `${p}%`;
  };
  range.addEventListener("input", place);
  range.addEventListener("keydown", (e) => e.stopPropagation());
  place();
  box.append(after, before, line, range, labels);
  stage.appendChild(box);
}
"""

BEFORE_AFTER_CSS = """
.ig-ba-slider { position: relative; display: inline-block; max-width: 100%; line-height: 0; }
.ig-ba-slider img { display: block; max-width: 100%; max-height: var(--ig-stage-height, 70vh); }
.ig-ba-slider .ig-ba-before { position: absolute; left: 0; top: 0; width: 100%; height: 100%; object-fit: fill; }
.ig-ba-line { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: #fff;
  box-shadow: 0 0 3px rgba(0,0,0,.7); pointer-events: none; }
.ig-ba-range { position: absolute; left: 0; right: 0; bottom: 8px; width: 100%; margin: 0; }
.ig-ba-labels { position: absolute; left: 8px; right: 8px; top: 8px; display: flex; justify-content: space-between;
  line-height: normal; font-size: 12px; pointer-events: none; }
.ig-ba-labels span { background: rgba(0,0,0,.55); color: #fff; padding: 1px 6px; border-radius: 3px; }
.ig-ba-side { display: flex; gap: 12px; justify-content: center; align-items: flex-start; }
.ig-ba-side figure { margin: 0; flex: 1 1 0; min-width: 0; text-align: center; }
.ig-ba-side img { max-width: 100%; max-height: calc(var(--ig-stage-height, 70vh) - 24px); object-fit: contain; }
.ig-ba-side figcaption { font-size: 12px; color: #555; }
"""

_ESM = (
    BEFORE_AFTER_JS
    + """
function render({ model, el }) {
  const stage = document.createElement("div");
  stage.className = "ig-ba";
  el.appendChild(stage);
  let urls = [];
  const draw = () => {
    urls.forEach((u) => URL.revokeObjectURL(u));
    const blob = (name) => URL.createObjectURL(new Blob([model.get(name)], { type: model.get(name + "_mime") }));
    urls = [blob("before"), blob("after")];
    drawCompare(stage, urls[0], urls[1], model.get("layout_mode"));
  };
  draw();
  for (const name of ["before", "after", "layout_mode"]) model.on("change:" + name, draw);
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}
export default { render };
"""
)


class BeforeAfter(anywidget.AnyWidget):
    """A source image and its result under one slider (or side by side).

    `BeforeAfter.for_result(result, image)` builds it for a result made from an image; the
    large view shows the same comparison for any such result it opens.
    """

    _esm = _ESM
    _css = BEFORE_AFTER_CSS
    before = T.Bytes(b"").tag(sync=True)
    before_mime = T.Unicode("image/png").tag(sync=True)
    after = T.Bytes(b"").tag(sync=True)
    after_mime = T.Unicode("image/png").tag(sync=True)
    #: 'slider' or 'side'
    layout_mode = T.Unicode("slider").tag(sync=True)

    @classmethod
    def for_result(cls, result: Any, image: Any = None) -> BeforeAfter:
        """The comparison of `result`'s source image with `image` (default: its first)."""
        from ._gallery import Gallery

        source = source_image(result)
        if source is None:
            raise ValueError(
                f"This {getattr(result, 'endpoint', 'result')} result was not made from an image, "
                "so it has no 'before'."
            )
        image = image if image is not None else result.images[0]
        if image.path is None:
            raise ValueError("This image was withheld by the service, so there is no 'after' to show.")
        gallery = Gallery([(image, result)])
        return cls(before=source.data, before_mime=source.mime, after=image.path.read_bytes(),
                   after_mime=image_mime(image.path), layout_mode=gallery.compare_layout())  # fmt: skip
