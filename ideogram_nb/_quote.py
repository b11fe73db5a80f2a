"""`Quote`: what a call will cost, from the service itself where it can say, else our table.

Why ask the service: v2 operations take `dry_run=true`, which "validates and prices but does
not run: nothing is generated, stored, or billed". That price is the service's own (exact, or
an estimate with an upper bound), while our table holds placeholders for the 4.x models
(`_api_v2.V2_UNCONFIRMED`). v1 routes, AiHubMix and the replay provider have no dry run: the
quote then comes from the local price table and says so. A quote records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._errors import APIResponseError

#: Where a quote came from.
FROM_SERVICE = "dry_run"
FROM_TABLE = "price table"


@dataclass(frozen=True)
class Quote:
    """The price of one call in US dollars.

    `exact`: the service said this is what it would bill (False for estimates and for our
    table's unconfirmed prices). `upper_bound_usd`: the most it can cost, when the service
    gives one. `source`: "dry_run" (asked the service; free) or "price table" (offline, v1
    routes, AiHubMix). The rest is the service's `PriceQuote` as it came, when asked.
    """

    usd: float
    exact: bool
    upper_bound_usd: float | None
    source: str
    billing_identifier: str | None = None
    credit_millis: int | None = None
    quantity: int | None = None

    def __str__(self) -> str:
        bound = f", at most ${self.upper_bound_usd:.4f}" if self.upper_bound_usd is not None else ""
        kind = "exact" if self.exact else "estimate"
        return f"${self.usd:.4f} ({kind}{bound}; from the {self.source})"


def from_price_quote(body: dict[str, Any]) -> Quote:
    """A `PriceQuote` answer (money in millionths of a dollar) as a `Quote`."""
    micros = body.get("usd_micros")
    if body.get("object") != "price_quote" or not isinstance(micros, int):
        raise APIResponseError("the dry run did not answer a price_quote", body=body)
    bound = body.get("upper_bound_usd_micros")
    credits = body.get("credit_millis")
    quantity = body.get("quantity")
    identifier = body.get("billing_identifier")
    return Quote(
        usd=micros / 1_000_000, exact=body.get("qualifier") == "exact",
        upper_bound_usd=bound / 1_000_000 if isinstance(bound, int) else None, source=FROM_SERVICE,
        billing_identifier=identifier if isinstance(identifier, str) else None,
        credit_millis=credits if isinstance(credits, int) else None,
        quantity=quantity if isinstance(quantity, int) else None,
    )  # fmt: skip
