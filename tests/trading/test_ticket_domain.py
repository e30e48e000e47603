"""The ticket's domain (`trading.ticket`) on its own: plain data in, the review out; no HTTP,
no database, no exchange. What a trader sees under the ticket is asserted word for word."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

from tests.trading.backpack.test_rules import SOL_USDC
from trading.backpack import OrderType, Side
from trading.backpack.market_types import MarketType
from trading.ticket import (
    BestPrices,
    ConfirmGuard,
    review_ticket,
    size_shortcuts,
    ticket_available,
)

SOL_PERP = replace(SOL_USDC, symbol="SOL_USDC_PERP", market_type=MarketType.PERP)
BOOK = BestPrices(bid=D("149.50"), ask=D("150.00"))


def typed(**fields: Any) -> dict[str, Any]:
    """Cleaned ticket data as the form hands it over (Decimals, empty fields as None)."""
    data: dict[str, Any] = {
        "side": "Bid",
        "order_type": "Limit",
        "price": None,
        "quantity": None,
        "quote_quantity": None,
        "time_in_force": "GTC",
        "post_only": False,
        "reduce_only": False,
        "take_profit": None,
        "stop_loss": None,
        "token": "t" * 24,
    }
    return {**data, **fields}


def review(data: dict[str, Any], market=SOL_USDC, **kw: Any):
    kw.setdefault("prices", BOOK)
    kw.setdefault("taker_fee_bps", D("8"))
    kw.setdefault("confirm_notional", None)
    return review_ticket(data, market, **kw)


def test_a_limit_buy_on_the_grid_becomes_a_ticket_with_its_total_and_fee() -> None:
    result = review(typed(price=D("150.00"), quantity=D("2")))

    assert result.ok and result.problems == {} and result.confirm_reasons == []
    ticket = result.ticket
    assert (ticket.symbol, ticket.side, ticket.order_type) == (
        "SOL_USDC",
        Side.BID,
        OrderType.LIMIT,
    )
    assert (ticket.price, ticket.quantity, ticket.time_in_force) == (D("150.00"), D("2"), "GTC")
    assert result.notional == D("300.00")
    assert result.notional_label == "Total (USDC)"
    assert result.notional_text == "300.00 USDC"
    assert result.fee_text == "≤ 0.24 USDC (8 bps, the account's taker rate)"


def test_without_the_accounts_rate_the_fee_is_an_upper_bound_at_an_assumed_rate() -> None:
    result = review(typed(price=D("150.00"), quantity=D("0.01")), taker_fee_bps=None)

    assert result.fee_text == "≤ 0.01 USDC (10 bps, an assumed taker rate)"


def test_a_price_off_the_tick_is_refused_with_the_value_to_use_and_no_ticket() -> None:
    result = review(typed(price=D("150.005"), quantity=D("1")))

    assert result.ticket is None and not result.ok
    assert list(result.problems) == ["price"]
    assert "150.005" in result.problems["price"][0]
    assert result.notional_text == "" and result.fee_text == ""


def test_a_market_buy_is_estimated_at_the_best_ask() -> None:
    result = review(typed(order_type="Market", time_in_force="", quantity=D("2")))

    assert result.ok
    assert result.ticket.time_in_force is None and result.ticket.price is None
    assert result.notional == D("300.00")
    assert result.fee_note == "at the best ask now"


def test_a_buy_more_than_five_percent_through_the_best_ask_asks_for_confirmation() -> None:
    near = review(typed(price=D("157.00"), quantity=D("0.1")))  # 4.7 % above 150
    far = review(typed(price=D("158.00"), quantity=D("0.1")))  # 5.3 % above 150

    assert near.confirm_reasons == []
    assert far.ok  # a fat finger is confirmed, not refused
    assert far.confirm_reasons == ["The buy price 158.00 is 5.3% above the best ask 150.00."]


def test_the_guard_sets_the_price_distance_and_the_share_of_equity() -> None:
    guard = ConfirmGuard(equity_pct=D("10"), price_pct=D("6"), equity=D("1000"))

    result = review(typed(side="Ask", price=D("140.00"), quantity=D("1")), guard=guard)

    assert result.confirm_reasons == [
        "The notional 140.00 USDC is above 10% of this subaccount's equity (1,000.00 USDC).",
        "The sell price 140.00 is 6.4% below the best bid 149.50.",
    ]


def test_an_unreadable_equity_never_waves_a_sized_order_through() -> None:
    guard = ConfirmGuard(equity_pct=D("10"), price_pct=D("5"), equity=None)

    result = review(typed(price=D("150.00"), quantity=D("0.01")), guard=guard)

    assert result.confirm_reasons == [
        "The subaccount's equity could not be read, so the notional 1.50 USDC was not "
        "checked against 10% of it."
    ]


def test_a_notional_above_the_confirmation_limit_asks_for_confirmation() -> None:
    result = review(typed(price=D("150.00"), quantity=D("40")), confirm_notional=D("5000"))

    assert result.confirm_reasons == [
        "The notional 6,000.00 USDC is above this subaccount's confirmation limit of 5000 USDC."
    ]


def test_triggers_and_reduce_only_apply_to_perpetuals_only() -> None:
    spot = review(typed(price=D("150.00"), quantity=D("1"), reduce_only=True, stop_loss=D("140")))
    perp = review(
        typed(price=D("150.00"), quantity=D("1"), reduce_only=True, stop_loss=D("140")),
        market=SOL_PERP,
    )

    assert spot.problems == {
        "reduce_only": ["Reduce-only applies to perpetual markets only."],
        "stop_loss": ["A stop-loss trigger applies to perpetual markets only."],
    }
    assert perp.ok
    assert perp.ticket.reduce_only is True
    assert perp.ticket.stop_loss_trigger_price == D("140")


def test_the_audit_record_carries_the_order_as_plain_strings() -> None:
    result = review(typed(price=D("150.00"), quantity=D("2")))

    assert result.ticket.audit_parameters() == {
        "symbol": "SOL_USDC",
        "side": "Bid",
        "orderType": "Limit",
        "quantity": "2.00",
        "price": "150.00",
        "quoteQuantity": None,
        "timeInForce": "GTC",
        "postOnly": False,
        "reduceOnly": False,
        "takeProfitTriggerPrice": None,
        "stopLossTriggerPrice": None,
        "ticket": "tttttttt",
    }


def test_the_size_buttons_round_down_onto_the_step() -> None:
    sell = size_shortcuts(
        SOL_USDC, side=Side.ASK, is_market=False, available=D("1.999"), price=None
    )
    market_buy = size_shortcuts(
        SOL_USDC, side=Side.BID, is_market=True, available=D("1000.005"), price=None
    )

    assert [(s.pct, s.field, s.value) for s in sell] == [
        (25, "quantity", "0.49"),
        (50, "quantity", "0.99"),
        (75, "quantity", "1.49"),
        (100, "quantity", "1.99"),
    ]
    assert [s.value for s in market_buy] == ["250", "500", "750", "1000"]
    assert {s.field for s in market_buy} == {"quote_quantity"}


def test_a_perpetual_spends_collateral_at_one_times_leverage() -> None:
    available = ticket_available(
        typed(price=D("100.00")), SOL_PERP, prices=BOOK, amount=D("1000"), asset="USDC"
    )

    assert available.text == "1,000.00 USDC (collateral, at 1x)"
    assert [s.value for s in available.shortcuts] == ["2.5", "5", "7.5", "10"]
    assert ticket_available(typed(), SOL_PERP, prices=BOOK, amount=None, asset="USDC") is None


def test_the_base_available_is_grouped_as_the_quote_is() -> None:
    sell = ticket_available(
        typed(side="Ask", price=D("150.00")),
        SOL_USDC,
        prices=BOOK,
        amount=D("5000.009"),
        asset="SOL",
    )
    buy = ticket_available(
        typed(price=D("150.00")), SOL_USDC, prices=BOOK, amount=D("4693010"), asset="USDC"
    )

    # on the step's decimals, grouped, and never above what is there (the 100 % button: 5000)
    assert sell.text == "5,000.00 SOL"
    assert buy.text == "4,693,010.00 USDC"
