"""`Studio`: every endpoint in one app: settings on the left, results on the right.

Why a banner and a key field here: the most expensive mistake in a notebook is not knowing
whether a click costs money. The banner always names the provider in use (the offline
simulator is labelled as synthetic), and so does the provider control; a key typed into the
password field lives only in this kernel's memory (a new `Client`), is never written
anywhere, and the field is emptied at once.

Why the session cost is read from the client and redrawn on every event: the client counts
each call once, as it is recorded (`Client.session_cost_usd`), whoever made it (a form, a
comparison cell, a re-run from History); the Studio only redraws that number, so nothing is
counted twice. Per-image actions from any batch open the matching tab, prefilled with the
source's settings (`_actions.carry_settings`).
"""

from __future__ import annotations

import contextlib
import io
from html import escape
from typing import Any

import ipywidgets as W

import ideogram_nb as ig

from ._batches import Batches
from ._comparison_grid import ComparePanel
from ._form import SpecForm
from ._history_browser import HistoryBrowser
from ._image_fields import ResultShelf, _upload_bytes
from ._studio_layout import (
    CHOOSER_LABELS,
    STUDIO_CLASS,
    STYLE,
    TAB_GROUPS,
    EndpointGroup,
    follow_tab,
    tab_groups,
    two_columns,
)

#: Every endpoint the Studio has a form for, in tab order, with its title (from `TAB_GROUPS`).
SPEC_TABS: tuple[tuple[type[ig.Spec], str], ...] = tuple(
    (cls, CHOOSER_LABELS.get(cls.__name__, title)) for title, classes in tab_groups(TAB_GROUPS) for cls in classes
)
#: Providers a key can be entered for (plus the simulator, which needs none).
KEY_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("Ideogram", "ideogram"),
    ("AiHubMix", "aihubmix"),
    ("Offline simulator (no key)", "offline"),
)
OFFLINE_BANNER = "Offline simulator — images are synthetic"
USE_AS_PROMPT = "use_as_prompt"


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


def missing_key_text(provider: str) -> str:
    label = dict((v, k) for k, v in KEY_PROVIDERS).get(provider, provider)
    return (
        f"Paste your {label} API key in the box first, then press Use (it stays in this kernel's "
        "memory only). To try things without a key, choose the offline simulator."
    )


def quiet_client(**kwargs: Any) -> ig.Client:
    """`ig.Client(**kwargs)` without its printed offline notice: the Studio's banner says the
    same, always in view, and a second copy of it is clutter (in Voilà, the only text above
    the app)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return ig.Client(**kwargs)


class StudioController:
    """Which client the Studio uses, and what this session has cost across clients."""

    def __init__(self, client: ig.Client | None = None) -> None:
        self.client = client if client is not None else quiet_client()
        self._spent_before = 0.0

    @property
    def total_cost(self) -> float:
        return self._spent_before + float(self.client.session_cost_usd)

    def use_key(self, provider: str, key: str | None) -> ig.Client:
        """A new client for `provider` with `key` (memory only), sharing the same history."""
        key = (key or "").strip() or None
        if provider != "offline" and key is None:
            raise ValueError(missing_key_text(provider))
        client = quiet_client(provider=provider, api_key=key if provider != "offline" else None,
                              history=self.client.history)  # fmt: skip
        self._spent_before += float(self.client.session_cost_usd)
        self.client = client
        return client


class Studio(W.VBox):
    """Tabs for every endpoint (legacy ones grouped) plus Compare and History, a provider
    banner, a key field (memory only) and the session's running cost. `studio.forms[endpoint]`
    is each endpoint's `SpecForm`; `studio.show_spec(spec)` opens a spec in its tab;
    `studio.batches` holds every run's results, newest first."""

    def __init__(self, client: ig.Client | None = None) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.add_class(STUDIO_CLASS)
        self.controller = StudioController(client)
        self.shelf = ResultShelf()
        self.banner = W.HTML()
        self.cost_label = W.HTML()
        self.key_field = W.Password(placeholder="API key — kept in this kernel's memory only",
                                    layout=W.Layout(width="300px"))  # fmt: skip
        self.provider_choice = W.Dropdown(options=KEY_PROVIDERS, value="ideogram", layout=W.Layout(width="220px"),
                                          tooltip="The provider in use; pick another and press Use")  # fmt: skip
        self.use_key_button = W.Button(description="Use", icon="key", tooltip="Use this provider (and key) now")
        self.key_message = W.HTML()
        self.use_key_button.on_click(lambda _b: self._use_key_clicked())
        self.settings_upload = W.FileUpload(
            accept=".png,image/png", description="Settings from image", icon="upload", layout=W.Layout(width="auto"),
            tooltip="Open the settings embedded in an image made by ideogram_nb in its tab",
        )  # fmt: skip
        self.settings_upload.observe(self._settings_uploaded, "value")
        self.batches = Batches(store=self.client.history.store)
        self.batches.on_action(self._open_action)
        self.forms: dict[str, SpecForm] = {}
        self._running: set[str] = set()
        self.groups: list[EndpointGroup] = []
        panels: list[W.Widget] = []
        slots: list[W.Box | None] = []
        titles: list[str] = []
        for title, classes in tab_groups(TAB_GROUPS):
            forms = [self._make_form(cls) for cls in classes]
            labels = [CHOOSER_LABELS.get(c.__name__, c.__name__) for c in classes]
            group = EndpointGroup(forms, [c.endpoint for c in classes], labels)
            self.groups.append(group)
            slot = W.VBox()
            slots.append(slot)
            panels.append(two_columns(group, slot))
            titles.append(title)
        self.compare_panel = ComparePanel(client=self.client)
        self.from_generate_button = W.Button(
            description="From Generate", icon="arrow-down", layout=W.Layout(width="auto"),
            tooltip="Start the comparison from the Generate tab's current settings",
        )  # fmt: skip
        self.from_generate_button.on_click(lambda _b: self.compare_from_generate())
        self.compare_panel.output.observe(self._comparison_shown, "children")
        self.history_panel = HistoryBrowser(self.client.history, client=self.client)
        self.history_panel.on_rerun(self.show_spec)
        compare_tab = W.VBox([self.from_generate_button, self.compare_panel])
        self.tabs = W.Tab(children=[*panels, compare_tab, self.history_panel], titles=[*titles, "Compare", "History"])
        self.tabs.selected_index = 0
        self._history_stale = False
        follow_tab(self.tabs, [*slots, None, None], self.batches, self._tab_changed)
        key_row = W.HBox([self.provider_choice, self.key_field, self.use_key_button, self.settings_upload,
                          self.key_message],
                         layout=W.Layout(flex_flow="row wrap", align_items="center", grid_gap="4px"))  # fmt: skip
        self.children = (
            W.HTML(STYLE, layout=W.Layout(display="none")),
            W.HBox([self.banner, self.cost_label],
                   layout=W.Layout(justify_content="space-between", flex_flow="row wrap")),
            key_row,
            self.tabs,
        )  # fmt: skip
        self.compare_from_generate()
        self._subscribe(self.client)
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
        return self.groups[index].endpoint if index is not None and index < len(self.groups) else None

    def show_spec(self, spec: ig.Spec) -> SpecForm:
        """Load `spec` into its endpoint's form (results stay) and switch to its tab."""
        endpoint = type(spec).endpoint
        form = self.forms[endpoint]
        form.load(spec)
        self._select(endpoint)
        return form

    def use_as_prompt(self, text: str) -> SpecForm:
        """Put `text` (e.g. one of Describe's descriptions) in Generate's prompt and go there;
        every other Generate setting stays as it was."""
        form = self.forms["generate"]
        form.spec.prompt = text
        self._select("generate")
        return form

    def compare_from_generate(self) -> None:
        """Start Compare from the Generate tab's current settings (a copy: later edits to
        either tab do not leak into the other)."""
        base = next((w for w in self.compare_panel.base_box.children if isinstance(w, SpecForm)), None)
        spec = self.forms["generate"].spec.copy()
        if base is not None:
            base.load(spec)
            base.client = self.client
        else:
            self.compare_panel.set_base(spec)
        self.compare_panel.preview()

    def load_settings_from_image(self, image: Any) -> SpecForm:
        """Open the spec embedded in an image made by ideogram_nb in its tab."""
        return self.show_spec(ig.spec_from_image(image))

    def use_key(self, provider: str, key: str | None = None) -> ig.Client:
        """Switch every tab to a new client for `provider` (the key stays in memory only)."""
        old = self.client
        client = self.controller.use_key(provider, key)
        self._subscribe(client, old)
        for form in self.forms.values():
            form.client = client
        self.compare_panel.client = client
        for base in self.compare_panel.base_box.children:
            if isinstance(base, SpecForm):
                base.client = client
        self.history_panel.watch(client)
        self._update_banner()
        self._update_cost()
        return client

    # --- inner workings ------------------------------------------------------------------------
    def _make_form(self, cls: type[ig.Spec]) -> SpecForm:
        form = SpecForm(cls(), self.client, shelf=self.shelf, on_action=self._open_action, show_results=False)
        form.on_result(lambda result: self.batches.add(result, cls.endpoint))
        form.controller.on_state(lambda: self._form_state(form))
        self.forms[cls.endpoint] = form
        return form

    def _select(self, endpoint: str) -> None:
        for index, group in enumerate(self.groups):
            if endpoint in group.endpoints:
                group.choose(endpoint)
                self.tabs.selected_index = index
                return

    def _form_state(self, form: SpecForm) -> None:
        key = type(form.spec).endpoint
        if form.controller.is_running:
            if key not in self._running:
                self._running.add(key)
                self.batches.start(key, form.spec.copy(), form.client.provider)
                self._select(key)  # the results column is the one of this tab
            return
        self._running.discard(key)
        self.batches.stop(key)  # placeholders of a run that gave no result
        self._update_cost()

    def _subscribe(self, client: ig.Client, old: ig.Client | None = None) -> None:
        """Redraw the cost each time the client records a call, where the client can say so."""
        hook = getattr(client, "on_record", None)
        if callable(hook):
            hook(self._recorded)
        unhook = getattr(old, "on_record", None) if old is not None else None
        if callable(unhook):
            unhook(self._recorded, remove=True)

    def _recorded(self, *_args: Any) -> None:
        self._update_cost()

    def _comparison_shown(self, _change: Any = None) -> None:
        """A comparison grid appeared: redraw the cost (and History) as each of its cells lands."""
        comparison = self.compare_panel.comparison
        if comparison is not None:
            comparison.observe(lambda _cell: self._update_cost())

    def _open_action(self, action: str, spec: ig.Spec) -> None:
        if action == USE_AS_PROMPT:
            self.use_as_prompt(str(getattr(spec, "prompt", "") or ""))
            return
        self.show_spec(spec)

    def _settings_uploaded(self, change: Any) -> None:
        contents = _upload_bytes(change["new"])
        if not contents:
            return
        self.settings_upload.value = ()
        try:
            form = self.load_settings_from_image(contents[0])
        except (ValueError, OSError, KeyError) as exc:
            self.key_message.value = f"<span style='color:#b00020'>{escape(str(exc))}</span>"
            return
        name = type(form.spec).__name__
        self.key_message.value = f"<span style='color:#1b5e20'>Opened the image's {escape(name)} settings.</span>"

    def _use_key_clicked(self) -> None:
        key = self.key_field.value
        self.key_field.value = ""  # never left in the widget (or a saved notebook's state)
        try:
            self.use_key(self.provider_choice.value, key)
        except Exception as exc:  # a wrong provider or a missing key: a message, no traceback
            self.key_message.value = f"<span style='color:#b00020'>{escape(str(exc))}</span>"
            self._update_banner()  # the control goes back to the provider still in use
            return
        self.key_message.value = f"<span style='color:#1b5e20'>Now using {escape(self.client.provider)}.</span>"

    def _update_banner(self) -> None:
        kind, text = banner_text(self.client)
        colours = {"offline": ("#fff3e0", "#e65100"), "replay": ("#e3f2fd", "#0d47a1"), "live": ("#e8f5e9", "#1b5e20")}
        bg, fg = colours[kind]
        self.banner.value = (
            f"<div style='background:{bg};color:{fg};padding:4px 10px;border-radius:4px;font-weight:600'>"
            f"{escape(text)}</div>"
        )
        provider = self.client.provider
        options = list(KEY_PROVIDERS)
        if provider not in dict((v, k) for k, v in options):
            options.append((f"{provider} (in use)", provider))
        if list(self.provider_choice.options) != options:
            self.provider_choice.options = options
        self.provider_choice.value = provider

    def _update_cost(self) -> None:
        note = " (simulated, nothing billed)" if self.client.provider == "offline" else " (estimate)"
        self.cost_label.value = f"<b>Session cost: ${self.total_cost:.2f}</b><small>{note}</small>"
        self._history_stale = True
        self._tab_changed()

    def _tab_changed(self) -> None:
        """History is re-read when it is in view (at once) or comes into view: not once per
        comparison cell behind the user's back, which would rebuild rows still being drawn."""
        if getattr(self, "_history_stale", False) and self.tabs.selected_index == len(self.tabs.children) - 1:
            self._history_stale = False
            self.history_panel.refresh()
