"""Matching rules: priority, time in force, postOnly, STP, market orders, fees."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.engine import EngineError

from .conftest import available, limit, locked, market


def test_resting_limit_bid_locks_quote_at_its_price(engine):
    order = limit(engine, 1, "Bid", "20.00", "3")

    assert order["status"] == "New"
    assert order["price"] == "20.00"
    assert locked(engine, 1, "USDC") == Decimal("60")
    assert available(engine, 1, "USDC") == Decimal("9940")


def test_better_price_fills_first_then_older_order_at_same_price(engine):
    first = limit(engine, 1, "Ask", "21", "1")
    cheaper = limit(engine, 3, "Ask", "20", "1")
    second = limit(engine, 3, "Ask", "21", "1")

    taker = limit(engine, 2, "Bid", "21", "2.5")

    fills = engine.fill_history(2, order_id=taker["id"], sort_direction="Asc")
    assert [(f["price"], f["quantity"]) for f in fills] == [("20", "1"), ("21", "1"), ("21", "0.5")]
    assert engine.order(3, cheaper["id"])["status"] == "Filled"
    assert engine.order(1, first["id"])["status"] == "Filled"
    assert engine.order(3, second["id"])["status"] == "PartiallyFilled"


def test_time_priority_within_a_level(engine):
    older = limit(engine, 1, "Ask", "20", "1")
    newer = limit(engine, 2, "Ask", "20", "1")

    limit(engine, 3, "Bid", "20", "1")

    assert engine.order(1, older["id"])["status"] == "Filled"
    assert engine.order(2, newer["id"])["status"] == "New"


def test_taker_trades_at_maker_price_and_gets_the_difference_back(engine):
    limit(engine, 2, "Ask", "19.50", "2")

    taker = limit(engine, 1, "Bid", "20.00", "2")

    assert taker["status"] == "Filled"
    assert Decimal(taker["executedQuoteQuantity"]) == Decimal("39")
    assert locked(engine, 1, "USDC") == 0
    assert available(engine, 1, "USDC") == Decimal("10000") - Decimal("39")


def test_partially_filled_gtc_rests_the_remainder(engine):
    limit(engine, 2, "Ask", "20", "1")

    taker = limit(engine, 1, "Bid", "20", "3")

    assert taker["status"] == "PartiallyFilled"
    assert engine.depth("SOL_USDC")["bids"] == [["20", "2"]]
    assert locked(engine, 1, "USDC") == Decimal("40")


def test_ioc_fills_what_it_can_and_expires_the_rest(engine):
    limit(engine, 2, "Ask", "20", "1")

    taker = limit(engine, 1, "Bid", "20", "3", timeInForce="IOC")

    assert taker["status"] == "Expired"
    assert taker["executedQuantity"] == "1"
    assert engine.depth("SOL_USDC")["bids"] == []
    assert locked(engine, 1, "USDC") == 0
    history = engine.order_history(1, order_id=taker["id"])
    assert history[0]["expiryReason"] == "ImmediateOrCancel"


def test_fok_that_cannot_fill_entirely_expires_without_trading(engine):
    maker = limit(engine, 2, "Ask", "20", "1")

    taker = limit(engine, 1, "Bid", "20", "3", timeInForce="FOK")

    assert taker["status"] == "Expired"
    assert taker["executedQuantity"] == "0"
    assert engine.order(2, maker["id"])["status"] == "New"
    assert engine.order_history(1)[0]["expiryReason"] == "FillOrKill"
    assert available(engine, 1, "USDC") == Decimal("10000")


def test_fok_that_can_fill_fills(engine):
    limit(engine, 2, "Ask", "20", "1")
    limit(engine, 3, "Ask", "20.5", "2")

    taker = limit(engine, 1, "Bid", "21", "3", timeInForce="FOK")

    assert taker["status"] == "Filled"
    assert Decimal(taker["executedQuoteQuantity"]) == Decimal("61")


def test_post_only_that_would_take_is_rejected(engine):
    limit(engine, 2, "Ask", "20", "1")

    with pytest.raises(EngineError) as caught:
        limit(engine, 1, "Bid", "20", "1", postOnly=True)

    assert (caught.value.http_status, caught.value.code, caught.value.message) == (
        400,
        "INVALID_ORDER",
        "Order would immediately match and take",
    )


def test_post_only_that_rests_is_accepted(engine):
    limit(engine, 2, "Ask", "20", "1")

    order = limit(engine, 1, "Bid", "19.99", "1", postOnly=True)

    assert order["status"] == "New"
    assert order["postOnly"] is True


def test_market_buy_by_quantity_walks_the_book(engine):
    limit(engine, 2, "Ask", "20", "1")
    limit(engine, 3, "Ask", "21", "1")

    order = market(engine, 1, "Bid", quantity="1.5")

    assert order["status"] == "Filled"
    assert Decimal(order["executedQuoteQuantity"]) == Decimal("30.5")
    assert available(engine, 1, "USDC") == Decimal("10000") - Decimal("30.5")
    assert locked(engine, 1, "USDC") == 0


def test_market_buy_by_quote_quantity_spends_at_most_that(engine):
    limit(engine, 2, "Ask", "20", "1")
    limit(engine, 3, "Ask", "25", "10")

    order = market(engine, 1, "Bid", quoteQuantity="70")

    assert order["status"] == "Filled"
    assert Decimal(order["executedQuantity"]) == Decimal("3")  # 1 @ 20 + 2 @ 25
    assert Decimal(order["executedQuoteQuantity"]) == Decimal("70")
    assert order["quoteQuantity"] == "70"


def test_market_sell_by_quote_quantity(engine):
    limit(engine, 2, "Bid", "20", "10")

    order = market(engine, 1, "Ask", quoteQuantity="50")

    assert Decimal(order["executedQuantity"]) == Decimal("2.5")
    assert available(engine, 1, "SOL") == Decimal("97.5")


def test_market_order_on_an_empty_book_expires(engine):
    order = market(engine, 1, "Bid", quantity="1")

    assert order["status"] == "Expired"
    assert engine.order_history(1)[0]["expiryReason"] == "InsufficientLiquidity"


def test_market_buy_needs_the_funds_for_what_it_would_take(engine):
    limit(engine, 2, "Ask", "5000", "5")

    with pytest.raises(EngineError) as caught:
        market(engine, 1, "Bid", quantity="3")

    assert caught.value.code == "INSUFFICIENT_FUNDS"


def test_stp_reject_taker_is_the_default(engine):
    maker = limit(engine, 1, "Ask", "20", "1")

    taker = limit(engine, 1, "Bid", "20", "1")

    assert taker["selfTradePrevention"] == "RejectTaker"
    assert taker["status"] == "Expired"
    assert engine.order(1, maker["id"])["status"] == "New"
    assert engine.order_history(1, order_id=taker["id"])[0]["expiryReason"] == (
        "SelfTradePrevention"
    )
    assert locked(engine, 1, "USDC") == 0


def test_stp_reject_maker_cancels_own_resting_order_and_keeps_matching(engine):
    own = limit(engine, 1, "Ask", "20", "1")
    other = limit(engine, 2, "Ask", "20.5", "1")

    taker = limit(engine, 1, "Bid", "21", "1", selfTradePrevention="RejectMaker")

    assert taker["status"] == "Filled"
    assert engine.order(1, own["id"])["status"] == "Expired"
    assert engine.order(2, other["id"])["status"] == "Filled"
    assert locked(engine, 1, "SOL") == 0


def test_stp_reject_both_expires_both(engine):
    own = limit(engine, 1, "Ask", "20", "1")

    taker = limit(engine, 1, "Bid", "20", "1", selfTradePrevention="RejectBoth")

    assert taker["status"] == "Expired"
    assert engine.order(1, own["id"])["status"] == "Expired"
    depth = engine.depth("SOL_USDC")
    assert (depth["asks"], depth["bids"]) == ([], [])
    assert locked(engine, 1, "SOL") == 0


def test_fees_maker_and_taker_are_charged_in_what_each_receives(engine):
    limit(engine, 2, "Ask", "20", "5")  # maker sells 5 SOL, receives USDC

    limit(engine, 1, "Bid", "20", "5")  # taker buys 5 SOL, receives SOL

    fills_taker = engine.fill_history(1)
    fills_maker = engine.fill_history(2)
    assert (fills_taker[0]["fee"], fills_taker[0]["feeSymbol"], fills_taker[0]["isMaker"]) == (
        "0.010",
        "SOL",
        False,
    )
    assert (fills_maker[0]["fee"], fills_maker[0]["feeSymbol"], fills_maker[0]["isMaker"]) == (
        "0.100",
        "USDC",
        True,
    )
    assert available(engine, 1, "SOL") == Decimal("104.99")
    assert available(engine, 2, "USDC") == Decimal("10099.9")
    assert engine.balance(-1, "SOL")[0] == Decimal("0.01")
    assert engine.balance(-1, "USDC")[0] == Decimal("0.1")


def test_client_id_is_kept_and_finds_the_order(engine):
    order = limit(engine, 1, "Bid", "20", "1", clientId=4294967295)

    assert order["clientId"] == 4294967295
    found = engine.get_order(1, symbol="SOL_USDC", client_id="4294967295")
    assert found["id"] == order["id"]


def test_cancel_by_client_id_releases_the_lock(engine):
    limit(engine, 1, "Bid", "20", "1", clientId=7)

    cancelled = engine.cancel_order(1, symbol="SOL_USDC", client_id=7)

    assert cancelled["status"] == "Cancelled"
    assert locked(engine, 1, "USDC") == 0
    assert engine.open_orders(1) == []


def test_cancel_open_orders_cancels_only_that_market(engine):
    limit(engine, 1, "Bid", "20", "1")
    limit(engine, 1, "Ask", "30", "1")
    limit(engine, 1, "Bid", "20", "1", symbol="SOL_USDC_PERP")

    cancelled = engine.cancel_open_orders(1, symbol="SOL_USDC")

    assert sorted(o["side"] for o in cancelled) == ["Ask", "Bid"]
    assert [o["symbol"] for o in engine.open_orders(1)] == ["SOL_USDC_PERP"]


def test_order_ids_are_strictly_increasing_strings(engine):
    ids = [int(limit(engine, 1, "Bid", "20", "1")["id"]) for _ in range(5)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 5


def test_batch_reports_each_order_or_its_error(engine):
    results = engine.execute_orders(
        1,
        [
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "orderType": "Limit",
                "price": "20",
                "quantity": "1",
            },
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "orderType": "Limit",
                "price": "20",
                "quantity": "1.001",
            },
        ],
    )

    assert results[0]["operation"] == "Ok"
    assert results[0]["status"] == "New"
    assert results[1] == {
        "operation": "Err",
        "code": "INVALID_CLIENT_REQUEST",
        "message": "Quantity decimal too long",
    }
