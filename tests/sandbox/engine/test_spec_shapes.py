"""Every wire shape the engine returns validates against the exchange's own OpenAPI
schemas (tests/spec/backpack-openapi.yml)."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from tests.spec_files import SPEC_PATH

from .conftest import limit, market


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def check(spec: dict, schema_name: str, value) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    jsonschema.validate(value, schema)


def check_all(spec: dict, schema_name: str, values) -> None:
    assert values, f"nothing to check against {schema_name}"
    for value in values:
        check(spec, schema_name, value)


@pytest.fixture
def busy(engine):
    """Trades on spot and perp, resting orders, a pending trigger, a withdrawal."""
    limit(engine, 2, "Ask", "20", "2", clientId=5)
    limit(engine, 1, "Bid", "20", "1")
    limit(engine, 2, "Ask", "100", "3", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Bid", "100", "3", symbol="SOL_USDC_PERP", takeProfitTriggerPrice="120")
    market(engine, 3, "Bid", quantity="0.5")
    engine.set_mark_price("SOL_USDC_PERP", "101", index_price="100.5")
    engine.settle_funding("SOL_USDC_PERP", "0.0001")
    limit(engine, 3, "Bid", "101", "1", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Ask", "101", "1", symbol="SOL_USDC_PERP")  # a partial close: PnL
    engine.request_withdrawal(1, symbol="USDC", quantity="10", blockchain="Solana", address="a")
    return engine


def test_order_shapes(spec, busy):
    check_all(spec, "OrderType", busy.open_orders(1) + busy.open_orders(2))
    check_all(spec, "Order", busy.order_history(1) + busy.order_history(3))
    check_all(spec, "OrderFill", busy.fill_history(1) + busy.fill_history(2))
    check(spec, "OrderType", limit(busy, 3, "Bid", "19", "1"))


def test_market_data_shapes(spec, busy):
    check_all(spec, "Market", busy.markets_wire())
    check_all(spec, "MarketAsset", busy.assets_wire())
    check(spec, "Depth", busy.depth("SOL_USDC"))
    check_all(spec, "Ticker", busy.tickers())
    check_all(spec, "Kline", busy.klines("SOL_USDC", "1h", 0))
    check_all(spec, "Trade", busy.recent_trades("SOL_USDC") + busy.trade_history("SOL_USDC"))
    check_all(spec, "MarkPrice", busy.mark_prices())
    check_all(spec, "OpenInterest", busy.open_interest())
    check_all(spec, "FundingIntervalRate", busy.funding_rates("SOL_USDC_PERP"))


def test_account_shapes(spec, busy):
    check_all(spec, "FuturePositionWithMargin", busy.positions(1) + busy.positions(2))
    check(spec, "MarginAccountSummary", busy.collateral(1))
    check(spec, "AccountSummary", busy.account(1))
    check_all(spec, "Balance", list(busy.balances(1).values()))
    check(spec, "MaxOrderQuantity", busy.max_order_quantity(1, symbol="SOL_USDC", side="Bid"))
    check(spec, "MaxWithdrawalQuantity", busy.max_withdrawal_quantity(1, symbol="USDC"))
    check_all(spec, "Deposit", busy.deposits(1))
    check_all(spec, "Withdrawal", busy.withdrawals(1))
    check_all(spec, "FundingPayment", busy.funding_payments(1))
    check_all(spec, "Settlement", busy.settlement_history(1) + busy.settlement_history(2))
    assert {row["source"] for row in busy.settlement_history(1)} == {
        "TradingFees",
        "RealizePnl",
        "FundingPayment",
    }


def test_position_history_shapes(spec, busy):
    limit(busy, 3, "Ask", "101", "2", symbol="SOL_USDC_PERP")
    limit(busy, 1, "Bid", "101", "2", symbol="SOL_USDC_PERP")  # closes sub 3's long

    rows = busy.position_history(1) + busy.position_history(2) + busy.position_history(3)

    check_all(spec, "PositionHistoryRow", rows)
    assert {row["state"] for row in rows} == {"Open", "Closed"}
