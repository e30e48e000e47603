"""Blocks render their rows once per value: a changed figure still shows at once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from trading.balances.readmodel import SubaccountBalances
from trading.balances.valuation import PriceQuote, PriceSource, asset_rows
from trading.formatting import plain
from trading.fragments import balances_html

READ_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SOL = PriceQuote("SOL", D("150"), PriceSource.LAST, "SOL_USDC")


def block(available: str, *, minimum: str | None = None, name: str = "Desk A") -> str:
    rows = asset_rows(
        {"SOL": (D(available), D("0"), D("0"))},
        quotes={"SOL": SOL},
        places={"SOL": 2},
        minimums={} if minimum is None else {"SOL": D(minimum)},
    )
    view = SubaccountBalances(1, name, rows, READ_AT)
    return balances_html(view, view, oob=False)


def test_a_changed_balance_shows_its_new_figures_not_the_last_rendered_row():
    before = block("10")
    after = block("12.5")

    assert '<td class="num" data-label="Available">10.00</td>' in before
    assert '<td class="num" data-label="Available">12.50</td>' in after
    assert 'data-value-usdc="1875"' in after


def test_the_same_row_in_two_blocks_renders_the_same_and_names_stay_escaped():
    first = block("3", minimum="5", name="Desk <A>")
    again = block("3", minimum="5", name="Desk <A>")

    assert first == again
    assert "<h2>Desk &lt;A&gt;</h2>" in first
    assert 'class="asset-row below-threshold" data-asset="SOL"' in first
    assert "under 5.00" in first


def test_zero_reads_zero_whatever_its_sign_or_exponent():
    assert plain(D("-0")) == "0"
    assert plain(D("0E-8")) == "0"
    assert plain(D("-0.5")) == "-0.5"
