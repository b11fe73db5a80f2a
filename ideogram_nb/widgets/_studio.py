"""`Studio`: every endpoint in one tabbed app, with the provider in plain sight.

Why a banner and a key field here: the most expensive mistake in a notebook is not knowing
whether a click costs money. The banner always names the provider (the offline simulator is
labelled as synthetic); a key typed into the password field lives only in this kernel's
memory (a new `Client`), is never written anywhere, and the field is emptied at once.
Per-image actions from any grid (remix, edit, …) open the matching tab, prefilled.
"""

from __future__ import annotations

from html import escape

import ipywidgets as W

import ideogram_nb as ig

from ._comparison_grid import ComparePanel
from ._form import SpecForm
from ._history_browser import HistoryBrowser
from ._image_fields import ResultShelf

#: The ten endpoints, in tab order, with their tab titles.
SPEC_TABS: tuple[tuple[type[ig.Spec], str], ...] = (
    (ig.Generate, "Generate"),
    (ig.Remix, "Remix"),
    (ig.Edit, "Edit"),
    (ig.Reframe, "Reframe"),
    (ig.ReplaceBackground, "Replace BG"),
    (ig.LegacyGenerate, "Legacy generate"),
    (ig.LegacyRemix, "Legacy remix"),
    (ig.LegacyEdit, "Legacy edit"),
    (ig.Upscale, "Upscale"),
    (ig.Describe, "Describe"),
)
#: Providers a key can be entered for (plus the simulator, which needs none).
KEY_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("Ideogram", "ideogram"),
    ("AiHubMix", "aihubmix"),
    ("Offline simulator (no key)", "offline"),
)
OFFLINE_BANNER = "Offline simulator — images are synthetic"


def banner_text(client: ig.Client) -> tuple[str, str]:
    """(kind, text) for the provider banner: kind is 'offline', 'replay' or 'live'."""
    provider = client.provider
    if provider == "offline":
        return "offline", f"{OFFLINE_BANNER} (no key needed, nothing is billed)"
    if provider == "replay":
        return "replay", "Replay — answers come only from the run history; nothing is sent"
    if provider == "record_or_replay":
        return "live", f"Record or replay — new requests go to {client.base_url} and are billed"
    return "live", f"Provider: {provider} ({client.base_url}) — real calls, billed to your key"


class StudioController:
    """Which client the Studio uses, and what this session has cost across clients."""

    def __init__(self, client: ig.Client | None = None) -> None:
        self.client = client if client is not None else ig.Client()
        self._spent_before = 0.0

    @property
    def total_cost(self) -> float:
        return self._spent_before + float(self.client.session_cost_usd)

    def use_key(self, provider: str, key: str | None) -> ig.Client:
        """A new client for `provider` with `key` (memory only), sharing the same history."""
        key = (key or "").strip() or None
        if provider != "offline" and key is None:
            raise ValueError(f"enter a key for {provider} first")
        client = ig.Client(provider=provider, api_key=key if provider != "offline" else None,
                           history=self.client.history)  # fmt: skip
        self._spent_before += float(self.client.session_cost_usd)
        self.client = client
        return client


class Studio(W.VBox):
    """Tabs for the ten endpoints plus History and Compare, a provider banner, a key field
    (memory only) and the session's running cost. `studio.forms[endpoint]` is each tab's
    `SpecForm`; `studio.show_spec(spec)` opens a spec in its tab."""

    def __init__(self, client: ig.Client | None = None) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.controller = StudioController(client)
        self.shelf = ResultShelf()
        self.banner = W.HTML()
        self.cost_label = W.HTML()
        self.key_field = W.Password(placeholder="API key — kept in this kernel's memory only",
                                    layout=W.Layout(width="340px"))  # fmt: skip
        self.provider_choice = W.Dropdown(options=KEY_PROVIDERS, value="ideogram", layout=W.Layout(width="220px"))
        self.use_key_button = W.Button(description="Use", icon="key", tooltip="Use this provider (and key) now")
        self.key_message = W.HTML()
        self.use_key_button.on_click(lambda _b: self._use_key_clicked())
        self.forms: dict[str, SpecForm] = {}
        for spec_cls, _title in SPEC_TABS:
            form = SpecForm(spec_cls(), self.client, shelf=self.shelf, on_action=self._open_action)
            form.on_result(lambda _result: self._update_cost())
            self.forms[spec_cls.endpoint] = form
        self.history_panel = HistoryBrowser(self.client.history, client=self.client)
        self.history_panel.on_rerun(self.show_spec)
        self.compare_panel = ComparePanel(client=self.client)
        titles = [t for _, t in SPEC_TABS] + ["Compare", "History"]
        self.tabs = W.Tab(children=[*self.forms.values(), self.compare_panel, self.history_panel], titles=titles)
        self.tabs.selected_index = 0
        key_row = W.HBox([self.provider_choice, self.key_field, self.use_key_button, self.key_message],
                         layout=W.Layout(flex_flow="row wrap", align_items="center"))  # fmt: skip
        self.children = (W.HBox([self.banner, self.cost_label], layout=W.Layout(justify_content="space-between")),
                         key_row, self.tabs)  # fmt: skip
        self._update_banner()
        self._update_cost()

    # --- public API ----------------------------------------------------------------------------
    @property
    def client(self) -> ig.Client:
        return self.controller.client

    @property
    def total_cost(self) -> float:
        """US $ this Studio's runs have cost, across every provider used."""
        return self.controller.total_cost

    @property
    def selected_endpoint(self) -> str | None:
        index = self.tabs.selected_index
        return SPEC_TABS[index][0].endpoint if index is not None and index < len(SPEC_TABS) else None

    def show_spec(self, spec: ig.Spec) -> SpecForm:
        """Load `spec` into its endpoint's tab (that tab keeps its grid) and switch to it."""
        form = self.forms[type(spec).endpoint]
        form.load(spec)
        self.tabs.selected_index = [c.endpoint for c, _ in SPEC_TABS].index(type(spec).endpoint)
        return form

    def use_key(self, provider: str, key: str | None = None) -> ig.Client:
        """Switch every tab to a new client for `provider` (the key stays in memory only)."""
        client = self.controller.use_key(provider, key)
        for form in self.forms.values():
            form.client = client
        self.compare_panel.client = client
        self.history_panel.client = client
        self._update_banner()
        self._update_cost()
        return client

    # --- inner workings ------------------------------------------------------------------------
    def _open_action(self, _action: str, spec: ig.Spec) -> None:
        self.show_spec(spec)

    def _use_key_clicked(self) -> None:
        key = self.key_field.value
        self.key_field.value = ""  # never left in the widget (or a saved notebook's state)
        try:
            self.use_key(self.provider_choice.value, key)
        except Exception as exc:  # a wrong provider or a missing key: a message, no traceback
            self.key_message.value = f"<span style='color:#b00020'>{escape(str(exc))}</span>"
            return
        self.key_message.value = f"<span style='color:#1b5e20'>now using {escape(self.client.provider)}</span>"

    def _update_banner(self) -> None:
        kind, text = banner_text(self.client)
        colours = {"offline": ("#fff3e0", "#e65100"), "replay": ("#e3f2fd", "#0d47a1"), "live": ("#e8f5e9", "#1b5e20")}
        bg, fg = colours[kind]
        self.banner.value = (
            f"<div style='background:{bg};color:{fg};padding:4px 10px;border-radius:4px;font-weight:600'>"
            f"{escape(text)}</div>"
        )

    def _update_cost(self) -> None:
        note = " (simulated, nothing billed)" if self.client.provider == "offline" else " (estimate)"
        self.cost_label.value = f"<b>Session cost: ${self.total_cost:.2f}</b><small>{note}</small>"
        self.history_panel.refresh()
