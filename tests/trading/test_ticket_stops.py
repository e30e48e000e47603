"""Stop-market and stop-limit orders, and take-profit / stop-loss with limit prices, in the
ticket's domain (`trading.ticket`): plain data in, the review out; words asserted exactly."""

from __future__ import annotations

from decimal import Decimal as D

from tests.trading.test_ticket_domain import SOL_PERP, review, typed
from trading.backpack import OrderType, TriggerBy


def test_a_stop_market_sell_is_a_market_order_waiting_for_its_trigger() -> None:
    result = review(
        typed(side="Ask", order_type="StopMarket", quantity=D("2"), trigger_price=D("140.00")),
        market=SOL_PERP,
    )

    assert result.ok, result.problems
    ticket = result.ticket
    assert (ticket.order_type, ticket.price, ticket.quantity) == (OrderType.MARKET, None, D("2"))
    assert (ticket.trigger_price, ticket.trigger_by) == (D("140.00"), TriggerBy.LAST_PRICE)
    assert ticket.is_stop and ticket.time_in_force is None
    assert result.notional == D("280.00")  # at the trigger price, not at today's book
    assert result.fee_note == "at the trigger price"
    audit = ticket.audit_parameters()
    assert (audit["triggerPrice"], audit["triggerBy"]) == ("140.00", "LastPrice")


def test_a_stop_limit_buy_on_the_mark_keeps_its_limit_price_without_a_fat_finger_check() -> None:
    result = review(
        typed(
            order_type="StopLimit",
            quantity=D("1"),
            price=D("170.00"),  # 13% through today's ask: set against the trigger, not the book
            trigger_price=D("168.00"),
            trigger_by="MarkPrice",
        ),
        market=SOL_PERP,
    )

    assert result.ok, result.problems
    ticket = result.ticket
    assert (ticket.order_type, ticket.price, ticket.trigger_price) == (
        OrderType.LIMIT,
        D("170.00"),
        D("168.00"),
    )
    assert ticket.trigger_by == TriggerBy.MARK_PRICE
    assert result.confirm_reasons == []
    assert result.notional == D("170.00")


def test_a_stop_needs_its_trigger_on_the_tick_and_a_plain_order_takes_none() -> None:
    missing = review(typed(order_type="StopMarket", quantity=D("1")))
    off_tick = review(
        typed(order_type="StopLimit", quantity=D("1"), price=D("150"), trigger_price=D("140.005"))
    )
    stray = review(typed(price=D("150.00"), quantity=D("1"), trigger_price=D("140")))

    assert missing.problems == {"trigger_price": ["A stop order needs its trigger price."]}
    assert off_tick.problems == {
        "trigger_price": [
            "The trigger price 140.005 is not a multiple of the tick 0.01; use 140.00."
        ]
    }
    assert stray.problems == {
        "trigger_price": [
            "A trigger price is for stop orders; choose Stop market or Stop limit, or clear it."
        ]
    }


def test_what_a_stop_does_not_take_is_named() -> None:
    result = review(
        typed(
            order_type="StopLimit",
            price=D("150.00"),
            quantity=D("1"),
            trigger_price=D("151.00"),
            trigger_by="MarkPrice",
            post_only=True,
            time_in_force="IOC",
        )
    )
    quote = review(typed(order_type="StopMarket", quote_quantity=D("100"), trigger_price=D("140")))
    exits = review(
        typed(
            order_type="StopMarket",
            quantity=D("1"),
            trigger_price=D("160.00"),
            take_profit=D("170.00"),
        ),
        market=SOL_PERP,
    )

    assert result.problems == {
        "trigger_by": ["A spot market's stop triggers on the last price only."],
        "post_only": ["A stop-limit order cannot be post-only."],
        "time_in_force": ["A stop-limit order rests as GTC once triggered, not IOC."],
    }
    assert quote.problems == {
        "quote_quantity": ["A stop order takes the quantity, not a quote quantity."],
        "quantity": ["Give the quantity."],
    }
    assert exits.problems == {
        "take_profit": [
            "Take-profit and stop-loss go with limit and market orders; set them on the "
            "position once the stop has filled."
        ]
    }


def test_take_profit_and_stop_loss_with_limit_prices() -> None:
    result = review(
        typed(
            price=D("150.00"),
            quantity=D("1"),
            take_profit=D("160.00"),
            take_profit_limit=D("159.50"),
            stop_loss=D("140.00"),
            stop_loss_limit=D("139.50"),
        ),
        market=SOL_PERP,
    )

    assert result.ok, result.problems
    ticket = result.ticket
    assert (ticket.take_profit_limit_price, ticket.stop_loss_limit_price) == (
        D("159.50"),
        D("139.50"),
    )
    audit = ticket.audit_parameters()
    assert (audit["takeProfitLimitPrice"], audit["stopLossLimitPrice"]) == ("159.50", "139.50")


def test_an_exit_limit_needs_its_trigger_and_the_tick() -> None:
    alone = review(
        typed(price=D("150.00"), quantity=D("1"), stop_loss_limit=D("139.50")), market=SOL_PERP
    )
    off_tick = review(
        typed(
            price=D("150.00"),
            quantity=D("1"),
            take_profit=D("160.00"),
            take_profit_limit=D("159.555"),
        ),
        market=SOL_PERP,
    )

    assert alone.problems == {
        "stop_loss_limit": ["A stop-loss limit price needs the stop-loss trigger too."]
    }
    assert off_tick.problems == {
        "take_profit_limit": [
            "The take-profit limit price 159.555 is not a multiple of the tick 0.01; use 159.56."
        ]
    }
