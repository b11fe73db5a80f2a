"""The compare budget guard prices a grid with the service's own quotes (v2 dry runs, free)
where it can, one quote per distinct cell shape, and with the price table elsewhere."""

from __future__ import annotations

import httpx
import pytest

import ideogram_nb as ig
from ideogram_nb._compare._quoting import price_shape
from ideogram_nb.simulator import SimulatorTransport


class Recorder(httpx.BaseTransport):
    """The simulator, with every request it was sent kept (the test's eyes on the wire)."""

    def __init__(self) -> None:
        self.inner = SimulatorTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    def dry_runs(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST" and r.url.params.get("dry_run") == "true"]


def _client(tmp_path, wire: Recorder) -> ig.Client:
    return ig.Client(provider="offline", transport=wire, history=ig.History(tmp_path / "h"), sleep=lambda s: None)


def test_a_v2_grid_is_quoted_once_per_cell_shape_and_nothing_is_generated(tmp_path):
    wire = Recorder()
    client = _client(tmp_path, wire)
    base = ig.Generate45(prompt="a lighthouse", seed=1, size="1024x1024", quality="low")
    grid = ig.compare(base, client=client, budget_usd=100.0, prompt=["a lighthouse", "a harbour", "a pier"],
                      quality=["low", "high"])  # fmt: skip

    quoted = grid.quote_cost()

    # six cells, two prices (the prompts cost the same): two dry runs, no image made or recorded
    assert len(wire.dry_runs()) == 2 and len(wire.requests) == 2
    assert len(client.history) == 0 and wire.inner.stats.images_generated == 0
    per_quality = {q: client.quote(ig.Generate45(prompt="x", size="1024x1024", quality=q)).usd for q in ("low", "high")}
    assert quoted == pytest.approx(3 * per_quality["low"] + 3 * per_quality["high"])
    grid.check_budget()
    assert len(wire.dry_runs()) == 2 + 2  # the two quotes just asked above; the guard reused its own


def test_the_budget_guard_refuses_a_v2_grid_over_budget_by_its_quoted_price(tmp_path):
    wire = Recorder()
    client = _client(tmp_path, wire)
    base = ig.Generate45(prompt="a lighthouse", seed=1, size="1024x1024", quality="high")
    one = client.quote(base).usd
    with pytest.raises(ig.BudgetError, match=f"would cost \\${2 * one:.2f}"):  # refused when planned
        ig.compare(base, client=client, budget_usd=one * 1.5, prompt=["a lighthouse", "a harbour"])
    assert [r for r in wire.requests if r.url.params.get("dry_run") != "true"] == []  # nothing generated


def test_a_v1_grid_is_priced_from_the_table_without_asking_the_service(tmp_path):
    wire = Recorder()
    client = _client(tmp_path, wire)
    grid = ig.compare(ig.Generate(prompt="a lighthouse", seed=1), client=client, budget_usd=10.0,
                      rendering_speed=["TURBO", "QUALITY"])  # fmt: skip

    assert grid.quote_cost() == pytest.approx(grid.estimate_cost())
    assert wire.requests == []


def test_cells_that_differ_in_price_never_share_a_shape():
    a = ig.Generate45(prompt="a", seed=1, size="1024x1024", quality="low")
    assert price_shape(a) == price_shape(ig.Generate45(prompt="b", seed=2, size="1024x1024", quality="low"))
    assert price_shape(a) != price_shape(ig.Generate45(prompt="a", seed=1, size="1024x1024", quality="high"))
    assert price_shape(a) != price_shape(
        ig.Generate45(prompt="a", seed=1, size="1024x1024", quality="low", num_images=2)
    )


def test_pricing_a_v1_grid_needs_no_client():
    grid = ig.compare(ig.Generate(prompt="a lighthouse", seed=1), budget_usd=10.0, rendering_speed=["TURBO", "QUALITY"])
    assert grid.quote_cost() == pytest.approx(grid.estimate_cost()) and grid.client is None
