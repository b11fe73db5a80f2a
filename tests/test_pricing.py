"""Cost estimates against the price table in API.md, written out here on purpose: a typo
in `_api`'s tables must fail these tests."""

from __future__ import annotations

import pytest

import ideogram_nb as ig
from ideogram_nb._specs._pricing import estimate_cost, is_cost_known, unit_price

V3_CLASSES = [ig.Generate, ig.Remix, ig.Edit, ig.Reframe, ig.ReplaceBackground]
V3_PRICES = {"TURBO": 0.03, "DEFAULT": 0.06, "QUALITY": 0.09, "FLASH": 0.03}
LEGACY_PRICES = {"V_2A": 0.04, "V_2A_TURBO": 0.025, "V_2": 0.08, "V_2_TURBO": 0.05, "V_1": 0.06,
                 "V_1_TURBO": 0.02, "V_3": 0.06}  # fmt: skip


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


def test_sums_read_as_cents_not_float_noise():
    assert ig.Generate(num_images=3).estimate_cost() == 0.18  # 0.06 * 3 = 0.18000000000000002 in floats
    assert repr(ig.LegacyGenerate(model="V_2A_TURBO", num_images=3).estimate_cost()) == "0.075"
    assert repr(ig.Generate(rendering_speed="QUALITY", num_images=7).estimate_cost()) == "0.63"
