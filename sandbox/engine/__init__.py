"""Sandbox exchange engine and ledger: pure Python, no I/O, deterministic given its clock.

Public API::

    from sandbox.engine import Engine, EngineError, Event, Market, Asset, Token

    engine = Engine([Market("SOL_USDC", "SOL", "USDC")], [Asset("USDC", ...)], clock=clock_us)
    engine.listeners.append(callback)              # receives every Event after each command
    engine.execute_order(subaccount_id, payload)   # -> spec OrderType dict, or EngineError

Commands: ``execute_order(s)``, ``cancel_order``, ``cancel_open_orders``, ``deposit``,
``request_withdrawal``, ``confirm_withdrawal``, ``set_mark_price``, ``set_funding_rate``,
``settle_funding``, ``settle_due_funding``, ``set_order_book_state``,
``publish_market_data`` (call about once a second), ``create_strategy``,
``cancel_strategy``, ``cancel_strategies``, ``run_due_strategies`` (call often: it runs
the TWAP slices that fell due), ``step_strategies`` (tests).
Queries: ``markets_wire``, ``assets_wire``, ``depth``, ``ticker(s)``, ``klines``,
``recent_trades``, ``trade_history``, ``mark_prices``, ``open_interest``,
``funding_rates``, ``funding_payments``, ``settlement_history``, ``position_history``,
``open_orders``, ``get_order``, ``order``,
``order_history``, ``fill_history``, ``positions``, ``position_events``, ``balances``,
``collateral``, ``account``, ``max_order_quantity``, ``max_withdrawal_quantity``,
``deposits``, ``withdrawals``, ``get_strategy``, ``open_strategies``,
``strategy_history``; typed ``balance`` / ``net_position`` for tests.

Events (``Event.stream``): ``account.orderUpdate``, ``account.positionUpdate`` (with
``subaccount_id`` and ``symbol``), ``depth.<s>``, ``bookTicker.<s>``, ``trade.<s>``,
``ticker.<s>``, ``kline.<interval>.<s>``, ``markPrice.<s>``, ``openInterest.<s>``.
``Event.data`` is built on first read: route on ``stream`` / ``symbol`` /
``subaccount_id`` and read ``data`` only for subscribed streams.

Modules: :mod:`.engine` (the class, commands), :mod:`.trading` / :mod:`.matching` /
:mod:`.triggers` (order rules), :mod:`.margin`, :mod:`.transfers`, :mod:`.periodic`,
:mod:`.queries`, :mod:`.strategies` / :mod:`.strategy_types` (TWAP), :mod:`.book`,
:mod:`.ledger`, :mod:`.orders`, :mod:`.marketdata`, :mod:`.parsing`, :mod:`.events`,
:mod:`.errors` (codes and messages), :mod:`.markets`.
"""

from __future__ import annotations

from .engine import FEE_SUBACCOUNT_ID, Clock, Engine
from .errors import EngineError
from .events import ORDER_UPDATE, POSITION_UPDATE, Event, Listener
from .markets import PERP, SPOT, Asset, Market, Token, plain

__all__ = [
    "FEE_SUBACCOUNT_ID",
    "ORDER_UPDATE",
    "PERP",
    "POSITION_UPDATE",
    "SPOT",
    "Asset",
    "Clock",
    "Engine",
    "EngineError",
    "Event",
    "Listener",
    "Market",
    "Token",
    "plain",
]
