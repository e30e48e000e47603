"""Valuation rules, totals and thresholds: exact Decimals, no exchange needed."""

from __future__ import annotations

from decimal import Decimal as D

from trading.balances.valuation import (
    PriceQuote,
    PriceSource,
    asset_rows,
    asset_totals,
    places_for_step,
    quote_from_market,
    rows_value,
)


def test_usdc_counts_at_one_whatever_its_market_says():
    quote = quote_from_market("USDC", last_price=D("0.9998"))

    assert quote == PriceQuote("USDC", D(1), PriceSource.PAR)


def test_an_asset_that_traded_is_valued_at_its_last_price():
    quote = quote_from_market("SOL", last_price=D("151.37"), best_bid=D("150"), best_ask=D("152"))

    assert quote.price == D("151.37")
    assert quote.source is PriceSource.LAST
    assert quote.note == "last trade price of the SOL_USDC market"


def test_an_asset_that_never_traded_is_valued_at_the_mid_of_its_book():
    quote = quote_from_market(
        "ETH", last_price=D("0"), best_bid=D("3499.99"), best_ask=D("3500.02")
    )

    assert quote.price == D("3500.005")
    assert quote.source is PriceSource.MID
    assert "mid of best bid and ask of ETH_USDC" in quote.note


def test_an_asset_without_trade_or_two_sided_book_has_no_price():
    assert quote_from_market("BTC", last_price=None, best_bid=D("95000"), best_ask=None) is None


def test_display_places_follow_the_market_step_with_at_least_two():
    assert places_for_step(D("0.00001")) == 5
    assert places_for_step(D("0.0100")) == 2
    assert places_for_step(D("1")) == 2
    assert places_for_step(None) == 8


def test_rows_value_exactly_and_leave_unpriced_assets_out_of_the_sum():
    quotes = {
        "USDC": PriceQuote("USDC", D(1), PriceSource.PAR),
        "SOL": PriceQuote("SOL", D("150.05"), PriceSource.LAST, "SOL_USDC"),
    }
    balances = {
        "USDC": (D("1000.10"), D("0.20"), D("0")),
        "SOL": (D("3.333"), D("0.001"), D("1")),
        "JUP": (D("50"), D("0"), D("0")),
    }

    rows = asset_rows(balances, quotes=quotes, places={"SOL": 2}, minimums={})

    assert [r.asset for r in rows] == ["USDC", "SOL", "JUP"]
    sol = rows[1]
    assert sol.total == D("4.334")
    assert sol.value_usdc == D("650.31670")
    assert rows[2].value_usdc is None
    assert rows_value(rows) == D("1000.30") + D("650.31670")


def test_a_threshold_on_an_asset_not_held_shows_a_zero_row_under_its_minimum():
    quotes = {"USDC": PriceQuote("USDC", D(1), PriceSource.PAR)}
    rows = asset_rows(
        {"USDC": (D("500"), D("0"), D("0"))},
        quotes=quotes,
        places={},
        minimums={"USDC": D("1000"), "SOL": D("2")},
    )

    by_asset = {r.asset: r for r in rows}
    assert by_asset["USDC"].below_threshold
    assert by_asset["SOL"].total == D("0")
    assert by_asset["SOL"].below_threshold


def test_a_balance_at_its_minimum_is_not_flagged():
    rows = asset_rows(
        {"SOL": (D("1.5"), D("0.5"), D("0"))}, quotes={}, places={}, minimums={"SOL": D("2")}
    )

    assert not rows[0].below_threshold


def test_team_totals_add_every_subaccount_per_asset():
    quotes = {"SOL": PriceQuote("SOL", D("100.5"), PriceSource.LAST, "SOL_USDC")}
    a = asset_rows({"SOL": (D("1.1"), D("0"), D("0"))}, quotes=quotes, places={}, minimums={})
    b = asset_rows({"SOL": (D("2.2"), D("0.3"), D("0.4"))}, quotes=quotes, places={}, minimums={})

    (sol,) = asset_totals([a, b])

    assert (sol.available, sol.locked, sol.staked) == (D("3.3"), D("0.3"), D("0.4"))
    assert sol.value_usdc == D("4.0") * D("100.5")
