"""Which provider a client talks to, with which key, at which host.

Why separate from the client: choosing a provider is policy users must be able to predict
(argument > `IDEOGRAM_NB_PROVIDER` > whichever key is set > offline), and the key handling
(held in memory only, never shown) is easiest to audit in one small place. A key belongs to
its provider's origin (scheme, host, port): `origin()` is what the client compares before a
key goes on the wire, so a redirect can never carry it to another host.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from ._config import (
    ENV_AIHUBMIX_KEY,
    ENV_BASE_URL,
    ENV_IDEOGRAM_KEY,
    ENV_PROVIDER,
    OFFLINE_NOTICE,
    OFFLINE_PLACEHOLDER_KEY,
    PROVIDER_AIHUBMIX,
    PROVIDER_IDEOGRAM,
    PROVIDER_INFO,
    PROVIDER_OFFLINE,
    PROVIDER_RECORD_OR_REPLAY,
    PROVIDER_REPLAY,
    PROVIDERS,
)
from ._errors import MissingKeyError, ProviderRefusedError

if TYPE_CHECKING:
    from ._specs._base import Spec


class Secret:
    """A key that never shows itself: not in repr, str, pickles of reprs, or error text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        """Remove the key from any text before it is shown or stored."""
        if self._value and len(self._value) >= 4 and self._value in text:
            return text.replace(self._value, "***")
        return text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # never pickle the key along with an object
        raise TypeError("an API key cannot be pickled")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, default ports filled in: what "same origin" compares."""
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a malformed port: an origin of its own, equal to nothing sane
        port = -1
    return scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


@dataclass(frozen=True)
class Route:
    """Where a client sends calls: the upstream provider, its base URL and its key."""

    provider: str  # what results and history say: offline, aihubmix, ideogram, replay, …
    upstream: str | None  # the provider actually called (None for pure replay)
    base_url: str | None
    key: Secret | None
    replay_first: bool = False

    def __repr__(self) -> str:
        return f"Route(provider={self.provider!r}, base_url={self.base_url!r})"


_notice_shown = False


def show_offline_notice() -> None:
    """The one-line notice that images are synthetic; once per process, never silent."""
    global _notice_shown
    if not _notice_shown:
        print(OFFLINE_NOTICE, file=sys.stdout)
        _notice_shown = True


def _key_provider() -> str | None:
    if os.environ.get(ENV_IDEOGRAM_KEY):
        return PROVIDER_IDEOGRAM
    if os.environ.get(ENV_AIHUBMIX_KEY):
        return PROVIDER_AIHUBMIX
    return None


def _upstream(provider: str | None, api_key: str | None) -> str:
    """The real provider to call when nothing more specific is asked for."""
    if provider in (PROVIDER_AIHUBMIX, PROVIDER_IDEOGRAM, PROVIDER_OFFLINE):
        return provider
    if api_key:
        # A key without a provider: AiHubMix keys are `sk-…`; anything else is Ideogram's.
        return PROVIDER_AIHUBMIX if api_key.startswith("sk-") else PROVIDER_IDEOGRAM
    return _key_provider() or PROVIDER_OFFLINE


def resolve_route(provider: str | None = None, api_key: str | None = None, base_url: str | None = None) -> Route:
    """Pick the provider, key and host. Raises `ValueError` for an unknown provider and
    `MissingKeyError` for a real provider with no key (nothing would ever succeed)."""
    chosen = provider or os.environ.get(ENV_PROVIDER) or None
    if chosen is not None:
        chosen = chosen.strip().lower()
        if chosen not in PROVIDERS:
            raise ValueError(f"provider={chosen!r}: not a provider; choose one of {', '.join(PROVIDERS)}")
    base_url = base_url or os.environ.get(ENV_BASE_URL) or None
    if chosen == PROVIDER_REPLAY:
        return Route(PROVIDER_REPLAY, None, None, None, replay_first=True)
    upstream = _upstream(None if chosen == PROVIDER_RECORD_OR_REPLAY else chosen, api_key)
    info = PROVIDER_INFO[upstream]
    if upstream == PROVIDER_OFFLINE:
        key = Secret(api_key or OFFLINE_PLACEHOLDER_KEY)
    else:
        raw = api_key or os.environ.get(info.key_env or "", "")
        if not raw.strip():
            raise MissingKeyError(upstream, info.key_env)
        key = Secret(raw.strip())
    url = (base_url or info.base_url).rstrip("/")
    if chosen == PROVIDER_RECORD_OR_REPLAY:
        return Route(PROVIDER_RECORD_OR_REPLAY, upstream, url, key, replay_first=True)
    return Route(upstream, upstream, url, key)


def refusal(route: Route, spec: Spec) -> ProviderRefusedError | None:
    """Why `route` cannot carry `spec`, or None. AiHubMix documents no `/v2` route, so a v2 spec
    sent there would fail (or worse, be billed for something else): refused before sending."""
    if type(spec).family == "v2" and route.upstream == PROVIDER_AIHUBMIX:
        return ProviderRefusedError(
            f"{type(spec).__name__} is an Ideogram v2 operation, and AiHubMix documents no v2 routes; "
            "nothing was sent. Use provider='ideogram' (your Ideogram key) or 'offline' (the simulator)"
        )
    return None
