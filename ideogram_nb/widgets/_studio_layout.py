"""The Studio's tab list as data, the grouped tabs, and its two-column layout.

Why data: the tab row is the first thing a user reads, and it crowds as endpoints are
added. Each entry is a title and the spec classes it holds (by their public name, so a class
this version lacks is simply left out); a title with several classes becomes one tab with a
chooser. The v2-API specs join as one more grouped row, e.g.
`("V4.5", ("Generate45", "PreciseEdit45"))`, without another tab per endpoint.

Why CSS in an HTML widget: ipywidgets' `Layout` has no `position: sticky`, no flex-wrap for
the tab bar and no per-class rules; these few rules only lay out (they run no script), and
they apply to the Studio's own class only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as W

import ideogram_nb as ig

#: (tab title, public names of the spec classes in it, in chooser order).
TAB_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Generate", ("Generate",)),
    ("Remix", ("Remix",)),
    ("Edit", ("Edit",)),
    ("Reframe", ("Reframe",)),
    ("Replace BG", ("ReplaceBackground",)),
    ("Upscale", ("Upscale",)),
    ("Describe", ("Describe",)),
    ("V1/V2", ("LegacyGenerate", "LegacyRemix", "LegacyEdit")),
    # Ideogram's v2 API (direct provider and simulator only): 4.5 first, the rest in the chooser.
    ("4.5 & v2", ("Generate45", "PreciseEdit45", "Inpaint3", "Remix4", "ReplaceBackground3", "Describe4")),
)
#: What the chooser of a grouped tab calls each class (default: the class name).
CHOOSER_LABELS: dict[str, str] = {
    "LegacyGenerate": "Generate (V1/V2 models)",
    "LegacyRemix": "Remix (V1/V2 models)",
    "LegacyEdit": "Edit (V2 models)",
    "Generate45": "Generate with 4.5",
    "PreciseEdit45": "Precise edit with 4.5",
    "Inpaint3": "Inpaint (3.0, v2 API)",
    "Remix4": "Remix with 4.0",
    "ReplaceBackground3": "Replace background (3.0, v2 API)",
    "Describe4": "Describe with 4.0",
}
STUDIO_CLASS = "ideogram-nb-studio"
RESULTS_CLASS = "ideogram-nb-results"
SETTINGS_CLASS = "ideogram-nb-settings"
#: Below this width the results go under the settings (a phone, a narrow side panel).
SETTINGS_MIN_PX = 360
RESULTS_MIN_PX = 360

STYLE = f"""<style>
.{STUDIO_CLASS} .widget-tab > .lm-TabBar .lm-TabBar-content {{ flex-wrap: wrap; }}
.{STUDIO_CLASS} .widget-tab > .lm-TabBar .lm-TabBar-tab {{ flex: 0 0 auto; max-width: none; min-width: 0; }}
.{STUDIO_CLASS} .{RESULTS_CLASS} {{ position: sticky; top: 0; align-self: flex-start; }}
</style>"""


def tab_groups(groups: Sequence[tuple[str, Sequence[str]]] = TAB_GROUPS) -> list[tuple[str, list[type[ig.Spec]]]]:
    """The groups with their classes resolved from the public API; empty groups dropped."""
    out: list[tuple[str, list[type[ig.Spec]]]] = []
    for title, names in groups:
        classes = [getattr(ig, n) for n in names if isinstance(getattr(ig, n, None), type)]
        if classes:
            out.append((title, classes))
    return out


class EndpointGroup(W.VBox):
    """One tab: a single form, or a chooser over several forms (one shown at a time)."""

    def __init__(self, forms: Sequence[W.Widget], endpoints: Sequence[str], labels: Sequence[str]) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.forms = list(forms)
        self.endpoints = list(endpoints)
        self.chooser = W.Dropdown(
            options=list(zip(labels, range(len(forms)), strict=True)), value=0, description="Endpoint",
            style={"description_width": "170px"}, layout=W.Layout(width="95%", max_width="480px"),
            tooltip="Which endpoint of this family to use",
        )  # fmt: skip
        self.chooser.observe(lambda _c: self._show(), "value")
        self._show()

    @property
    def endpoint(self) -> str:
        return self.endpoints[self.chooser.value]

    def choose(self, endpoint: str) -> None:
        self.chooser.value = self.endpoints.index(endpoint)

    def _show(self) -> None:
        form = self.forms[self.chooser.value]
        self.children = (self.chooser, form) if len(self.forms) > 1 else (form,)


def two_columns(settings: W.Widget, results_slot: W.Box) -> W.HBox:
    """Settings on the left, results on the right; they wrap into one column when narrow."""
    settings_box = W.VBox([settings], layout=W.Layout(flex="1 1 400px", min_width=f"{SETTINGS_MIN_PX}px",
                                                      max_width="640px"))  # fmt: skip
    settings_box.add_class(SETTINGS_CLASS)
    results_slot.layout.flex = "1 1 360px"
    results_slot.layout.min_width = f"{RESULTS_MIN_PX}px"
    results_slot.add_class(RESULTS_CLASS)
    layout = W.Layout(flex_flow="row wrap", width="100%", grid_gap="16px", align_items="flex-start")
    return W.HBox([settings_box, results_slot], layout=layout)


def follow_tab(tabs: W.Tab, slots: Sequence[W.Box | None], shared: W.Widget, changed: Callable[[], Any]) -> None:
    """Keep `shared` (the results column) in the slot of the selected tab: one view, moved
    along, instead of a copy of every batch in every tab."""

    def move(_change: Any = None) -> None:
        index = tabs.selected_index
        for i, slot in enumerate(slots):
            if slot is None:
                continue
            wanted = (shared,) if i == index else ()
            if tuple(slot.children) != wanted:
                slot.children = wanted
        changed()

    tabs.observe(move, "selected_index")
    move()
