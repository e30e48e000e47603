"""A subaccount's position exits: its pending reduce-only trigger orders."""

from __future__ import annotations

from accounts.models import Subaccount
from trading.backpack import Order
from trading.exchange import client_for


async def position_exits(*, subaccount: Subaccount, symbol: str | None = None) -> list[Order]:
    """The take-profit / stop-loss orders waiting on the subaccount's positions."""
    orders = await client_for(subaccount).open_orders(symbol)
    return [o for o in orders if o.is_trigger_pending and o.reduce_only]
