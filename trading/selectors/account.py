"""Read model of one subaccount's live regions: its open orders, positions (with the desk's
liquidation estimates) and balances, read concurrently; a part that could not be read
carries the reason in a trader's words instead of rows (never zeros)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accounts.models import Subaccount
from trading.backpack import Market, Order, Position
from trading.balances.readmodel import SubaccountBalances
from trading.balances.selectors import balances_view_for
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.selectors.markets import markets_known
from trading.selectors.orders import open_orders_for, order_senders
from trading.selectors.positions import positions_for

log = logging.getLogger(__name__)


@dataclass
class AccountState:
    """What one subaccount's regions show now."""

    subaccount: Subaccount
    orders: list[Order] = field(default_factory=list)
    orders_error: str = ""
    positions: list[Position] = field(default_factory=list)
    liquidations: dict[str, Decimal | None] = field(default_factory=dict)
    positions_error: str = ""
    balances: SubaccountBalances | None = None  # None: unreadable, the region is left as is
    markets: dict[str, Market] = field(default_factory=dict)
    senders: dict[str, str] = field(default_factory=dict)  # order id -> who sent it


def _failure(outcome: Any, subaccount: Subaccount, what: str) -> str:
    """The words for a failed part; an unexpected failure is logged with its traceback."""
    if isinstance(outcome, asyncio.CancelledError):
        raise outcome
    if not isinstance(outcome, EXCHANGE_ERRORS):
        log.error("%s of subaccount %s failed", what, subaccount.pk, exc_info=outcome)
    return failure_text(outcome)


async def account_state_read(
    subaccount: Subaccount, *, fresh: bool = False, sparklines: bool = True
) -> AccountState:
    """Open orders, positions and balances of `subaccount`, read concurrently. `fresh=True`
    (the relay after an account event) reads the balances past their ~2 s cache."""
    orders, positions, balances, markets = await asyncio.gather(
        open_orders_for(subaccount),
        positions_for(subaccount),
        balances_view_for(subaccount, fresh=fresh, sparklines=sparklines),
        markets_known(),
        return_exceptions=True,
    )
    state = AccountState(subaccount)
    state.markets = {} if isinstance(markets, BaseException) else markets
    if isinstance(orders, BaseException):
        state.orders_error = _failure(orders, subaccount, "open orders read")
    else:
        state.orders = orders
        state.senders = await order_senders(subaccount, orders)
    if isinstance(positions, BaseException):
        state.positions_error = _failure(positions, subaccount, "positions read")
    else:
        state.positions, state.liquidations = positions
    if isinstance(balances, BaseException):
        _failure(balances, subaccount, "balances read")
    else:
        state.balances = balances
    return state
