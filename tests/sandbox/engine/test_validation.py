"""Every refusal carries Backpack's (status, code, message) and changes nothing."""

from __future__ import annotations

import pytest

from sandbox.engine import Engine, EngineError, Market

from .conftest import limit


def refusal(call) -> tuple[int, str, str]:
    with pytest.raises(EngineError) as caught:
        call()
    return caught.value.http_status, caught.value.code, caught.value.message


def snapshot(engine):
    return (
        {sub: engine.balances(sub) for sub in (1, 2, 3)},
        {sub: engine.open_orders(sub) for sub in (1, 2, 3)},
        engine.depth("SOL_USDC")["bids"],
        engine.depth("SOL_USDC")["asks"],
        engine.positions(1),
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"price": "20", "quantity": "1.001"},
            (400, "INVALID_CLIENT_REQUEST", "Quantity decimal too long"),
        ),
        (
            {"price": "20.001", "quantity": "1"},
            (400, "INVALID_CLIENT_REQUEST", "Price decimal too long"),
        ),
        (
            {"price": "20", "quantity": "0.001"},
            (400, "INVALID_CLIENT_REQUEST", "Quantity decimal too long"),
        ),
        (
            {"price": "20", "quantity": "20000"},
            (400, "INVALID_CLIENT_REQUEST", "Quantity is above the maximum allowed value"),
        ),
        (
            {"price": "0.001", "quantity": "1"},
            (400, "INVALID_CLIENT_REQUEST", "Price decimal too long"),
        ),
        (
            {"price": "20", "quantity": "abc"},
            (400, "INVALID_CLIENT_REQUEST", "Invalid quantity: 'abc' is not a decimal"),
        ),
        (
            {"price": "2e1", "quantity": "1"},
            (
                400,
                "INVALID_CLIENT_REQUEST",
                "Invalid price: '2e1' has an exponent: write the number out in full",
            ),
        ),
        (
            {"price": "20", "quantity": "\u0661"},
            (
                400,
                "INVALID_CLIENT_REQUEST",
                "Invalid quantity: '\u0661' has a digit other than 0-9",
            ),
        ),
        (
            {"price": "20", "quantity": 1},
            (
                400,
                "INVALID_CLIENT_REQUEST",
                "Invalid quantity: expected a decimal string, got the number 1",
            ),
        ),
        (
            {"price": "20", "quantity": "-1"},
            (400, "INVALID_CLIENT_REQUEST", "Quantity must be positive"),
        ),
        (
            {"price": "NaN", "quantity": "1"},
            (400, "INVALID_CLIENT_REQUEST", "Invalid price: 'NaN' is not a finite number"),
        ),
        (
            {"price": True, "quantity": "1"},
            (400, "INVALID_CLIENT_REQUEST", "Invalid price: expected a decimal string, got true"),
        ),
        (
            {"price": "20", "quantity": "1", "side": "Buy"},
            (400, "INVALID_CLIENT_REQUEST", "Invalid side: expected one of Bid, Ask"),
        ),
        (
            {"price": "20", "quantity": "1", "timeInForce": "DAY"},
            (400, "INVALID_CLIENT_REQUEST", "Invalid timeInForce: expected one of GTC, IOC, FOK"),
        ),
        (
            {"price": "20", "quantity": "1", "selfTradePrevention": "RejectNone"},
            (
                400,
                "INVALID_CLIENT_REQUEST",
                "Invalid selfTradePrevention: expected one of RejectTaker, RejectMaker, RejectBoth",
            ),
        ),
        (
            {"price": "20", "quantity": "1", "selfTradePrevention": ["RejectMaker"]},
            (
                400,
                "INVALID_CLIENT_REQUEST",
                "Invalid selfTradePrevention: expected one of RejectTaker, RejectMaker, RejectBoth",
            ),
        ),
        (
            {"price": "20", "quantity": "1", "clientId": 2**32},
            (400, "INVALID_CLIENT_REQUEST", "Invalid clientId"),
        ),
        (
            {"quantity": "1"},
            (400, "INVALID_CLIENT_REQUEST", "Limit orders must specify a price"),
        ),
        (
            {"price": "20"},
            (400, "INVALID_CLIENT_REQUEST", "Limit orders must specify a quantity"),
        ),
        (
            {"price": "20", "quantity": "1", "postOnly": True, "timeInForce": "IOC"},
            (400, "INVALID_ORDER", "Post only orders must be GTC"),
        ),
        (
            {"price": "20", "quantity": "1", "reduceOnly": True},
            (400, "INVALID_ORDER", "Reduce only orders are only supported on perpetual markets"),
        ),
        (
            {"price": "20", "quantity": "1", "triggerPrice": "25"},
            (400, "INVALID_ORDER", "Trigger orders are only supported on perpetual markets"),
        ),
        (
            {"price": "20", "quantity": "600"},
            (400, "INSUFFICIENT_FUNDS", "Insufficient funds"),
        ),
        (
            {"price": "20", "quantity": "1", "symbol": "DOGE_USDC"},
            (400, "INVALID_MARKET", "Market not found"),
        ),
    ],
)
def test_bad_order_is_refused_with_backpacks_words_and_changes_nothing(engine, payload, expected):
    before = snapshot(engine)
    body = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", **payload}
    body = {key: value for key, value in body.items() if value is not None}

    assert refusal(lambda: engine.execute_order(1, body)) == expected
    assert snapshot(engine) == before
    assert engine.drain_events() == []


def test_quantity_below_minimum():
    exchange = Engine([Market("X_USDC", "X", "USDC", min_quantity="1", step_size="0.1")])
    exchange.deposit(1, "USDC", "100")

    assert refusal(
        lambda: exchange.execute_order(
            1,
            {
                "symbol": "X_USDC",
                "side": "Bid",
                "orderType": "Limit",
                "price": "1",
                "quantity": "0.5",
            },
        )
    ) == (400, "INVALID_CLIENT_REQUEST", "Quantity is below the minimum allowed value")


def test_ids_are_ascii_digits_only(engine):
    assert refusal(lambda: engine.cancel_order(1, symbol="SOL_USDC", order_id="\u00b2")) == (
        400,
        "INVALID_CLIENT_REQUEST",
        "Invalid orderId: '\u00b2' has a digit other than 0-9",
    )


def test_query_integers_are_read_strictly(engine):
    assert refusal(lambda: engine.klines("SOL_USDC", "1m", "\u0661\u0662")) == (
        400,
        "INVALID_CLIENT_REQUEST",
        "Invalid startTime: '\u0661\u0662' has a digit other than 0-9",
    )
    assert refusal(lambda: engine.fill_history(1, limit=1.5)) == (  # was read as 1
        400,
        "INVALID_CLIENT_REQUEST",
        "Invalid limit: expected an integer, got a float",
    )
    assert refusal(lambda: engine.fill_history(1, from_ms="1_000")) == (
        400,
        "INVALID_CLIENT_REQUEST",
        "Invalid from: '1_000' has an underscore: write digits only",
    )


def test_market_definition_with_bad_numbers_is_refused_clearly():
    with pytest.raises(ValueError, match="X_USDC: tick_size: 'zero' is not a decimal"):
        Market("X_USDC", "X", "USDC", tick_size="zero")
    with pytest.raises(ValueError, match="X_USDC: step_size must be a positive decimal"):
        Market("X_USDC", "X", "USDC", step_size="0")


def test_price_outside_the_band_around_the_last_price(engine):
    limit(engine, 2, "Ask", "20", "1")
    limit(engine, 1, "Bid", "20", "1")  # last price 20, band 0.75x .. 1.25x

    assert refusal(lambda: limit(engine, 1, "Ask", "25.01", "1")) == (
        400,
        "INVALID_PRICE",
        "Price is outside the allowed price band",
    )
    assert refusal(lambda: limit(engine, 1, "Bid", "14.99", "1")) == (
        400,
        "INVALID_PRICE",
        "Price is outside the allowed price band",
    )
    assert limit(engine, 1, "Ask", "25", "1")["status"] == "New"


def test_order_not_found(engine):
    assert refusal(lambda: engine.cancel_order(1, symbol="SOL_USDC", order_id="123")) == (
        404,
        "RESOURCE_NOT_FOUND",
        "Order not found",
    )
    assert refusal(lambda: engine.get_order(1, symbol="SOL_USDC", client_id=5)) == (
        404,
        "RESOURCE_NOT_FOUND",
        "Order not found",
    )


def test_someone_elses_order_is_not_found(engine):
    order = limit(engine, 2, "Bid", "20", "1")

    assert refusal(lambda: engine.cancel_order(1, symbol="SOL_USDC", order_id=order["id"]))[1] == (
        "RESOURCE_NOT_FOUND"
    )
    assert engine.open_orders(2)[0]["id"] == order["id"]


def test_cancel_needs_an_id(engine):
    assert refusal(lambda: engine.cancel_order(1, symbol="SOL_USDC")) == (
        400,
        "INVALID_CLIENT_REQUEST",
        "Specify orderId or clientId",
    )


def test_payload_that_is_not_an_object(engine):
    assert refusal(lambda: engine.execute_order(1, ["SOL_USDC"])) == (
        400,
        "INVALID_CLIENT_REQUEST",
        "Invalid order payload",
    )


def test_reduce_only_that_would_increase_is_refused(engine):
    assert refusal(
        lambda: limit(engine, 1, "Bid", "20", "1", symbol="SOL_USDC_PERP", reduceOnly=True)
    ) == (400, "INVALID_ORDER", "Reduce only order not reduced")


def test_insufficient_margin(engine):
    # 10,000 USDC at imf 0.1 (+ fee headroom) carries a little under 100,000 notional
    assert refusal(lambda: limit(engine, 1, "Bid", "100", "1000", symbol="SOL_USDC_PERP")) == (
        400,
        "INSUFFICIENT_MARGIN",
        "Insufficient margin",
    )
    assert limit(engine, 1, "Bid", "100", "900", symbol="SOL_USDC_PERP")["status"] == "New"


def test_open_interest_limit(engine):
    limit(engine, 2, "Ask", "10", "600", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Bid", "10", "600", symbol="SOL_USDC_PERP")  # open interest 600 of 1000

    assert refusal(lambda: limit(engine, 3, "Ask", "10", "500", symbol="SOL_USDC_PERP")) == (
        400,
        "POSITION_LIMIT",
        "Open interest limit reached",
    )
    assert limit(engine, 3, "Ask", "10", "400", symbol="SOL_USDC_PERP")["status"] == "New"
    # closing is always allowed
    assert limit(engine, 1, "Ask", "10", "600", symbol="SOL_USDC_PERP")["status"] == "New"


def test_withdrawal_refusals(engine):
    assert refusal(
        lambda: engine.request_withdrawal(
            1, symbol="USDC", quantity="9999.5", blockchain="Solana", address="addr"
        )
    ) == (400, "INSUFFICIENT_FUNDS", "Insufficient funds")
    assert refusal(
        lambda: engine.request_withdrawal(
            1, symbol="USDC", quantity="1", blockchain="Solana", address="addr"
        )
    ) == (400, "INVALID_CLIENT_REQUEST", "Quantity is below the minimum withdrawal")
    assert refusal(
        lambda: engine.request_withdrawal(
            1, symbol="USDC", quantity="10", blockchain="Ethereum", address="addr"
        )
    ) == (400, "INVALID_CLIENT_REQUEST", "Invalid blockchain")
    assert refusal(
        lambda: engine.request_withdrawal(
            1, symbol="DOGE", quantity="10", blockchain="Solana", address="addr"
        )
    ) == (400, "INVALID_ASSET", "Asset not found")
    assert engine.balance(1, "USDC") == (10000, 0, 0)


def test_query_refusals(engine):
    assert refusal(lambda: engine.depth("NOPE"))[1] == "INVALID_MARKET"
    assert refusal(lambda: engine.klines("SOL_USDC", "7m", 0))[2].startswith("Invalid interval")
    assert refusal(lambda: engine.trade_history("SOL_USDC", limit=0)) == (
        400,
        "INVALID_CLIENT_REQUEST",
        "Limit must be between 1 and 1000",
    )
    assert refusal(lambda: engine.order_history(1, sort_direction="Up"))[2] == (
        "Invalid sortDirection: expected Asc or Desc"
    )
    assert refusal(lambda: engine.max_order_quantity(1, symbol="SOL_USDC", side="Buy"))[1] == (
        "INVALID_CLIENT_REQUEST"
    )


def test_order_book_states(engine):
    resting = limit(engine, 1, "Bid", "19", "1")

    engine.set_order_book_state("SOL_USDC", "PostOnly")
    assert refusal(lambda: limit(engine, 1, "Bid", "19", "1")) == (
        400,
        "TRADING_PAUSED",
        "Market accepts post only orders only",
    )
    assert limit(engine, 1, "Bid", "19", "1", postOnly=True)["status"] == "New"

    engine.set_order_book_state("SOL_USDC", "LimitOnly")
    assert (
        refusal(
            lambda: engine.execute_order(
                1, {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Market", "quantity": "1"}
            )
        )[2]
        == "Market accepts limit orders only"
    )

    engine.set_order_book_state("SOL_USDC", "CancelOnly")
    assert refusal(lambda: limit(engine, 1, "Bid", "19", "1"))[1] == "TRADING_PAUSED"
    assert engine.cancel_order(1, symbol="SOL_USDC", order_id=resting["id"])["status"] == (
        "Cancelled"
    )
    assert engine.market("SOL_USDC").to_wire()["orderBookState"] == "CancelOnly"

    engine.set_order_book_state("SOL_USDC", "Open")
    assert limit(engine, 1, "Bid", "19", "1")["status"] == "New"
    assert refusal(lambda: engine.set_order_book_state("SOL_USDC", "Halted"))[1] == (
        "INVALID_CLIENT_REQUEST"
    )
