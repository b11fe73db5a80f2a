"""Cost estimates against the price table in API.md, written out here on purpose: a typo
in `_api`'s tables must fail these tests."""

from __future__ import annotations

import pytest

import ideogram_nb as ig
from ideogram_nb._specs._pricing import estimate_cost, is_cost_known, unit_price

V3_CLASSES = [ig.Generate, ig.Remix, ig.Edit, ig.Reframe, ig.ReplaceBackground]
V3_PRICES = {"TURBO": 0.03, "DEFAULT": 0.06, "QUALITY": 0.09, "FLASH": 0.03}
LEGACY_PRICES = {"V_2A": 0.04, "V_2A_TURBO": 0.025, "V_2": 0.08, "V_2_TURBO": 0.05, "V_1": 0.06,
                 "V_1_TURBO": 0.02, "V_3": 0.06, "AUTO": 0.08}  # fmt: skip
#: "3.0 + character reference" on Ideogram's pricing page (API_REFERENCE §7); FLASH has no row.
CHARACTER_PRICES = {"TURBO": 0.10, "DEFAULT": 0.15, "QUALITY": 0.20, "FLASH": 0.10}


@pytest.mark.parametrize("cls", V3_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("speed", list(V3_PRICES))
@pytest.mark.parametrize("n", [1, 3, 8])
def test_v3_price_is_per_image_by_speed(cls, speed, n):
    spec = cls(rendering_speed=speed, num_images=n)
    assert spec.estimate_cost() == round(V3_PRICES[speed] * n, 4)
    assert estimate_cost(spec) == spec.estimate_cost()


@pytest.mark.parametrize("cls", V3_CLASSES, ids=lambda c: c.__name__)
def test_v3_without_a_speed_is_priced_as_default(cls):
    assert cls(num_images=2).estimate_cost() == 0.12


@pytest.mark.parametrize("cls", [ig.LegacyGenerate, ig.LegacyRemix], ids=lambda c: c.__name__)
@pytest.mark.parametrize("model", list(LEGACY_PRICES))
@pytest.mark.parametrize("n", [1, 4])
def test_legacy_price_is_per_image_by_model(cls, model, n):
    assert cls(model=model, num_images=n).estimate_cost() == round(LEGACY_PRICES[model] * n, 4)


@pytest.mark.parametrize(("model", "price"), [("V_2", 0.08), ("V_2_TURBO", 0.05)])
def test_legacy_edit_table(model, price):
    assert ig.LegacyEdit(model=model, num_images=2).estimate_cost() == round(2 * price, 4)


def test_default_legacy_model_is_priced_as_v2():
    assert ig.LegacyGenerate(prompt="p").estimate_cost() == 0.08


def test_upscale_is_priced_per_call():
    assert ig.Upscale().estimate_cost() == 0.06
    assert ig.Upscale(num_images=4).estimate_cost() == 0.06
    assert unit_price(ig.Upscale()) == 0.06


def test_describe_is_estimated_as_zero_and_flagged_unknown():
    assert ig.Describe().estimate_cost() == 0.0
    assert is_cost_known(ig.Describe()) is False


def test_known_and_guessed_prices():
    assert is_cost_known(ig.Generate(prompt="p")) is True
    assert is_cost_known(ig.Upscale()) is True
    assert is_cost_known(ig.LegacyGenerate(model="V_2")) is True
    assert is_cost_known(ig.LegacyGenerate(model="V_3")) is False  # not in the seed's table
    assert is_cost_known(ig.LegacyRemix(model="AUTO")) is False  # the service picks the model


def test_sums_read_as_cents_not_float_noise():
    assert ig.Generate(num_images=3).estimate_cost() == 0.18  # 0.06 * 3 = 0.18000000000000002 in floats
    assert repr(ig.LegacyGenerate(model="V_2A_TURBO", num_images=3).estimate_cost()) == "0.075"
    assert repr(ig.Generate(rendering_speed="QUALITY", num_images=7).estimate_cost()) == "0.63"


# --- character references and custom models (issue #11) ----------------------------------
@pytest.mark.parametrize("cls", [ig.Generate, ig.Remix, ig.Edit], ids=lambda c: c.__name__)
@pytest.mark.parametrize("speed", list(CHARACTER_PRICES))
def test_character_reference_rate_per_image_by_speed(cls, speed, png_input):
    spec = cls(rendering_speed=speed, num_images=3, character_reference_images=[png_input])
    assert spec.estimate_cost() == round(CHARACTER_PRICES[speed] * 3, 4)
    assert is_cost_known(spec) is (speed != "FLASH")


def test_auto_is_priced_at_the_dearest_legacy_rate_so_budgets_hold():
    assert ig.LegacyGenerate(model="AUTO").estimate_cost() == max(LEGACY_PRICES.values())


def test_custom_model_is_priced_by_speed_but_flagged_unknown():
    spec = ig.Generate(prompt="p", custom_model_uri="model/m/version/1", rendering_speed="TURBO")
    assert spec.estimate_cost() == 0.03 and is_cost_known(spec) is False


def test_the_compare_budget_follows_character_pricing(png_input, tmp_path):
    base = ig.Generate(prompt="p", character_reference_images=[png_input])
    client = ig.Client(provider="offline", history=ig.History(tmp_path / "runs"))
    try:
        with pytest.raises(ig.BudgetError, match=r"\$0\.45"):  # $0.10 + $0.15 + $0.20, not $0.18
            ig.compare(base, client=client, budget_usd=0.40, rendering_speed=["TURBO", "DEFAULT", "QUALITY"])
        plan = ig.compare(base, client=client, budget_usd=0.50, num_images=[1, 2])
        assert plan.estimate_cost() == 0.45  # 3 images at $0.15
    finally:
        client.close()


@pytest.fixture
def png_input():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 30)).save(buf, format="PNG")
    return buf.getvalue()
