"""What a grid will cost, asked of the service where it can quote, once per cell shape.

Why shapes: a v2 dry run is free but still a round trip, and a 16-cell prompt grid has one
price, not sixteen. Cells that differ only in words or seed (prompt, negative prompt, seed)
cost the same, so one quote per distinct rest-of-the-spec is enough. Where the service cannot
quote (v1 routes, AiHubMix, replay) `Client.quote` answers from the local price table, and a
dry run that fails falls back to the table too: the guard never blocks on a missing quote.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._errors import APIError

if TYPE_CHECKING:
    from .._client import Client
    from .._quote import Quote
    from .._specs._base import Spec

#: Fields that change what is drawn but never what it costs.
PRICE_NEUTRAL_FIELDS = frozenset({"prompt", "negative_prompt", "seed"})


def price_shape(spec: Spec) -> str:
    """A key equal for specs that must cost the same (same endpoint, same everything but words and seed)."""
    data = {k: v for k, v in spec.to_dict().items() if k not in PRICE_NEUTRAL_FIELDS}
    return json.dumps([type(spec).endpoint, data], sort_keys=True, default=str)


class ShapeQuotes:
    """Quotes kept per cell shape for one comparison (a dry run is asked once per shape)."""

    def __init__(self) -> None:
        self._by_shape: dict[str, Quote | None] = {}

    def cost(self, client: Client, specs: Iterable[Spec]) -> float:
        """US dollars for `specs`: the service's quote per shape where it gives one, else each
        spec's table estimate."""
        total = 0.0
        for spec in specs:
            quote = self.quote(client, spec)
            total += quote.usd if quote is not None else spec.estimate_cost()
        return round(total, 6)

    def quote(self, client: Client, spec: Spec) -> Quote | None:
        """The quote of `spec`'s shape (asked once), or None when the dry run failed."""
        shape = price_shape(spec)
        if shape not in self._by_shape:
            try:
                self._by_shape[shape] = client.quote(spec)
            except APIError:  # a dry run that failed: the table's estimate stands in
                self._by_shape[shape] = None
        return self._by_shape[shape]

    def sources(self) -> set[str]:
        """Where the quotes asked so far came from ("dry_run", "price table")."""
        return {q.source for q in self._by_shape.values() if q is not None}
