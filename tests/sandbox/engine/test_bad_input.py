"""Garbage in any argument of any command or query gives an EngineError with a message,
never another exception (the server maps EngineError to a 4xx; anything else is a 500)."""

from __future__ import annotations

import pytest

from sandbox.engine import EngineError

GARBAGE = [
    "abc", None, -1, 1.5, True, [], {}, "1e400", "NaN", "", " ", 2**70,
    "\u00b2", "\u0661\u0662", "1e5", "1_000", "1,5", "9" * 400, "0." + "0" * 30 + "1",
]  # fmt: skip

ORDER = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "price": "1", "quantity": "1"}
TRIGGER = {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Market", "quantity": "1"}

CALLS = {
    "depth limit": lambda e, v: e.depth("SOL_USDC", v),
    "depth symbol": lambda e, v: e.depth(v),
    "klines start": lambda e, v: e.klines("SOL_USDC", "1m", v),
    "klines interval": lambda e, v: e.klines("SOL_USDC", v, 0),
    "ticker interval": lambda e, v: e.ticker("SOL_USDC", v),
    "recent trades limit": lambda e, v: e.recent_trades("SOL_USDC", v),
    "trade history offset": lambda e, v: e.trade_history("SOL_USDC", 10, v),
    "fills from": lambda e, v: e.fill_history(1, from_ms=v or "x"),
    "fills order id": lambda e, v: e.fill_history(1, order_id=v or "x"),
    "orders limit": lambda e, v: e.order_history(1, limit=v),
    "get order id": lambda e, v: e.get_order(1, symbol="SOL_USDC", order_id=v or "x"),
    "get order client id": lambda e, v: e.get_order(1, symbol="SOL_USDC", client_id=v or "x"),
    "cancel order id": lambda e, v: e.cancel_order(1, symbol="SOL_USDC", order_id=v or "x"),
    "cancel subaccount": lambda e, v: e.cancel_order(v, symbol="SOL_USDC", order_id="1"),
    "cancel all type": lambda e, v: e.cancel_open_orders(1, symbol="SOL_USDC", order_type=v or "x"),
    "max order price": lambda e, v: e.max_order_quantity(
        1, symbol="SOL_USDC", side="Bid", price=v or "x"
    ),
    "max order reduce": lambda e, v: e.max_order_quantity(
        1, symbol="SOL_USDC", side="Bid", reduce_only=v
    ),
    "max withdrawal symbol": lambda e, v: e.max_withdrawal_quantity(1, symbol=v),
    "deposit quantity": lambda e, v: e.deposit(1, "USDC", v),
    "deposit symbol": lambda e, v: e.deposit(1, v, "1"),
    "deposit subaccount": lambda e, v: e.deposit(v, "USDC", "1"),
    "withdraw quantity": lambda e, v: e.request_withdrawal(
        1, symbol="USDC", quantity=v, blockchain="Solana", address="a"
    ),
    "withdraw chain": lambda e, v: e.request_withdrawal(
        1, symbol="USDC", quantity="10", blockchain=v, address="a"
    ),
    "withdraw address": lambda e, v: e.request_withdrawal(
        1, symbol="USDC", quantity="10", blockchain="Solana", address=v
    ),
    "confirm withdrawal": lambda e, v: e.confirm_withdrawal(v),
    "mark price": lambda e, v: e.set_mark_price("SOL_USDC_PERP", v),
    "mark symbol": lambda e, v: e.set_mark_price(v, "1"),
    "funding rate": lambda e, v: e.settle_funding("SOL_USDC_PERP", v or "x"),
    "client id": lambda e, v: e.execute_order(1, {**ORDER, "clientId": v}),
    "post only": lambda e, v: e.execute_order(1, {**ORDER, "postOnly": v}),
    "price": lambda e, v: e.execute_order(1, {**ORDER, "price": v}),
    "trigger price": lambda e, v: e.execute_order(1, {**TRIGGER, "triggerPrice": v}),
    "trigger by": lambda e, v: e.execute_order(1, {**TRIGGER, "triggerPrice": "5", "triggerBy": v}),
    "payload": lambda e, v: e.execute_order(1, v),
    "open orders symbol": lambda e, v: e.open_orders(1, v or "x"),
    "positions symbol": lambda e, v: e.positions(1, v or "x"),
    "balances subaccount": lambda e, v: e.balances(v),
    "funding rates limit": lambda e, v: e.funding_rates("SOL_USDC_PERP", v),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_garbage_gets_an_engine_error_with_a_message(engine, name):
    call = CALLS[name]
    for value in GARBAGE:
        try:
            call(engine, value)
        except EngineError as error:
            assert error.message
            assert 400 <= error.http_status < 500
