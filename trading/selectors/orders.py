"""Read models of orders and fills: open orders (one subaccount or the team) and who sent
them, and the history pages and CSV exports of fills and orders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async

from accounts.models import Subaccount
from trading.backpack import Fill, Order
from trading.desk_tickets import OrderRef, ticket_owners
from trading.exchange import client_for
from trading.selectors.access import AccountBlock, guarded, subaccount_access_async
from trading.selectors.cache import cached
from trading.selectors.markets import markets_known

OPEN_ORDERS_CACHE_S = 2.0
HISTORY_PAGE_SIZE = 50
CSV_MAX_ROWS = 10_000

_EPOCH = datetime.min.replace(tzinfo=UTC)


async def open_orders_for(subaccount: Subaccount, symbol: str | None = None) -> list[Order]:
    """The subaccount's open orders (all markets, or one), newest first."""
    orders = await client_for(subaccount).open_orders(symbol)
    return sorted(orders, key=lambda o: o.created_at or _EPOCH, reverse=True)


def _senders(subaccount_id: int, orders: list[Order]) -> dict[str, str]:
    refs = {o.id: OrderRef.of_order(o) for o in orders}
    owners = ticket_owners(subaccount_id, refs.values(), value="actor__username")
    return {
        order_id: name for order_id, ref in refs.items() if (name := owners.owner(ref)) is not None
    }


async def order_senders(subaccount: Subaccount, orders: list[Order] | None) -> dict[str, str]:
    """Who sent each of `orders` through the desk (ticket, ladder, script key...): order id
    -> the member's user name, from the order tickets, in one query: by the order's id, or
    for an order the exchange made for the desk (a TWAP's slice, a take-profit / stop-loss
    leg) by the ticket that made it, else by its clientId among the tickets still waiting
    for their order id (`trading.desk_tickets`); an order sent outside the desk has none."""
    wanted = [  # the desk sends every order with a clientId: one without was never its own
        o for o in orders or [] if o.client_id is not None or o.strategy_id or o.related_order_id
    ]
    if not wanted:
        return {}
    return await sync_to_async(_senders)(subaccount.pk, wanted)


async def open_orders_for_team(
    *, user: Any, symbol: str | None = None, recent: bool = False
) -> list[AccountBlock]:
    """Open orders of every subaccount the user may see, read concurrently; a subaccount
    whose read failed carries the reason instead of rows. ``recent``: a read of the last
    2 s will do (the overview's poll), never for a page that acts on the orders."""
    accesses = await subaccount_access_async(user=user)
    blocks = [AccountBlock(access) for access in accesses]

    def read(subaccount: Subaccount) -> Awaitable[list[Order]]:
        if not recent:
            return open_orders_for(subaccount, symbol)
        return cached(
            ("open_orders", subaccount.pk, symbol),
            OPEN_ORDERS_CACHE_S,
            lambda: open_orders_for(subaccount, symbol),
        )

    async def fill(block: AccountBlock) -> None:
        block.orders = await guarded(block, read(block.access.subaccount))
        if not recent:  # the overview counts orders; a page that lists them names senders
            block.senders = await order_senders(block.access.subaccount, block.orders)

    _, markets = await asyncio.gather(asyncio.gather(*(fill(b) for b in blocks)), markets_known())
    for block in blocks:
        block.markets = markets
    return blocks


@dataclass
class HistoryPage:
    """One page of fills or orders, newest first."""

    rows: list[Any]
    page: int
    has_next: bool


async def fills_page(subaccount: Subaccount, *, symbol: str | None, page: int) -> HistoryPage:
    """Page `page` (from 1) of the subaccount's fills, HISTORY_PAGE_SIZE rows."""
    offset = (page - 1) * HISTORY_PAGE_SIZE
    fills = await client_for(subaccount).fill_history(
        symbol=symbol or None, limit=HISTORY_PAGE_SIZE + 1, offset=offset
    )
    fills.sort(key=lambda f: f.timestamp, reverse=True)
    return HistoryPage(fills[:HISTORY_PAGE_SIZE], page, len(fills) > HISTORY_PAGE_SIZE)


async def orders_page(subaccount: Subaccount, *, symbol: str | None, page: int) -> HistoryPage:
    """Page `page` (from 1) of the subaccount's order history."""
    offset = (page - 1) * HISTORY_PAGE_SIZE
    orders = await client_for(subaccount).order_history(
        symbol=symbol or None, limit=HISTORY_PAGE_SIZE + 1, offset=offset
    )
    orders.sort(key=lambda o: o.created_at or _EPOCH, reverse=True)
    return HistoryPage(orders[:HISTORY_PAGE_SIZE], page, len(orders) > HISTORY_PAGE_SIZE)


async def fills_all(
    subaccount: Subaccount, *, symbol: str | None, days: int = 30, batch: int = 1000
) -> list[Fill]:
    """Every fill of the last `days` days (for the CSV export), at most CSV_MAX_ROWS."""
    client = client_for(subaccount)
    since = int((datetime.now(UTC) - timedelta(days=days)).timestamp() * 1000)
    out: list[Fill] = []
    offset = 0
    while len(out) < CSV_MAX_ROWS:
        chunk = await client.fill_history(
            symbol=symbol or None, from_ms=since, limit=batch, offset=offset
        )
        out.extend(chunk)
        if len(chunk) < batch:
            break
        offset += batch
    out.sort(key=lambda f: f.timestamp, reverse=True)
    return out[:CSV_MAX_ROWS]


async def orders_all(
    subaccount: Subaccount, *, symbol: str | None, batch: int = 1000
) -> list[Order]:
    """The subaccount's order history (for the CSV export), newest first, at most
    CSV_MAX_ROWS."""
    client = client_for(subaccount)
    out: list[Order] = []
    offset = 0
    while len(out) < CSV_MAX_ROWS:
        chunk = await client.order_history(symbol=symbol or None, limit=batch, offset=offset)
        out.extend(chunk)
        if len(chunk) < batch:
            break
        offset += batch
    out.sort(key=lambda o: o.created_at or _EPOCH, reverse=True)
    return out[:CSV_MAX_ROWS]
