"""Fills of orders the exchange made on the desk's behalf: whose they are.

A TWAP's slices and the take-profit / stop-loss legs of an order are orders the exchange
sends by itself; their fills carry no clientId (the exchange's ``OrderFill`` has only the
``orderId``). Their orders do say what made them: a slice its ``strategyId``, a leg its
``relatedOrderId`` (the parent order). Before a page of fills is stored, the sync looks up
the orders of the fills without a clientId and gives each such fill the clientId of the desk
ticket that made its order (`trading.desk_tickets.ticket_client_ids_of`), with ``origin``
saying how, so PnL by member, the daily loss and the exposure by member count it as the
member's. A fill nothing explains stays outside the desk.

Cost: a fill from before the subaccount's first desk ticket is not looked up (no ticket made
its order); an order already in the ledger is not looked up again (its earlier fill's answer is
reused); the rest come from one page of the order history (newest first, which holds the
orders of a live sync's fills), and any order not on it by its id (the historical budget),
else as an open order. A subaccount without desk tickets looks nothing up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async

from trading.backpack import BackpackError, Order
from trading.backpack.history import MAX_PAGE
from trading.desk_tickets import ticket_client_ids_of
from trading.models.ledger import LedgerEntry
from trading.models.tickets import OrderTicket

CLOCK_LEEWAY = timedelta(minutes=1)  # the exchange's clock against the desk's

Origin = tuple[int | None, str]
"""(the clientId the fill is counted under, ``LedgerEntry.origin``)."""


def _first_ticket_at(subaccount_id: int) -> datetime | None:
    """When the subaccount's first desk ticket was recorded (None: it has none). Tickets are
    kept for good: the first by primary key (in the order they were made) is found walking
    the key's index, where sorting by time read all of the subaccount's tickets."""
    first = OrderTicket.objects.filter(subaccount_id=subaccount_id).order_by("pk")
    return first.values_list("created_at", flat=True).first()


def _known(subaccount_id: int, order_ids: set[str]) -> dict[str, Origin]:
    rows = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id, kind=LedgerEntry.Kind.FILL, order_id__in=order_ids
    ).values_list("order_id", "client_id", "origin")
    return {order_id: (client_id, origin) for order_id, client_id, origin in rows}


def _explained(subaccount_id: int, orders: Sequence[Order]) -> dict[str, Origin]:
    client_ids = ticket_client_ids_of(
        subaccount_id, [(o.strategy_id, o.related_order_id) for o in orders]
    )
    origins: dict[str, Origin] = {}
    for order, client_id in zip(orders, client_ids, strict=True):
        if client_id is None:
            origins[order.id] = (None, "")
        elif order.strategy_id:
            origins[order.id] = (client_id, f"strategy {order.strategy_id}")
        else:
            origins[order.id] = (client_id, f"order {order.related_order_id}")
    return origins


async def _orders(client: Any, wanted: dict[str, str]) -> list[Order]:
    """The orders of ``wanted`` (order id -> symbol) the exchange still reports."""
    found = {o.id: o for o in await client.order_history(limit=MAX_PAGE) if o.id in wanted}
    for order_id, symbol in wanted.items():
        if order_id in found:
            continue
        try:
            by_id = await client.order_history(order_id=order_id, limit=1)
            if not by_id:
                by_id = [await client.order(symbol, order_id=order_id)]
        except BackpackError:  # gone (or unreadable now): the fill stays outside the desk
            continue
        found.update((o.id, o) for o in by_id if o.id == order_id)
    return list(found.values())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def fill_origins(
    *, client: Any, subaccount_id: int, fills: Sequence[Any]
) -> dict[str, Origin]:
    """Order id -> (clientId, origin) for the fills of ``fills`` that carry no clientId and
    whose order a desk ticket made; fills of other orders are absent or map to None."""
    if not any(f.client_id is None and f.order_id for f in fills):
        return {}
    first = await sync_to_async(_first_ticket_at)(subaccount_id)
    if first is None:
        return {}
    # A fill before the subaccount's first ticket (less the clocks' leeway) cannot be of an
    # order a ticket made: a backfill of the years before the desk looks nothing up.
    since = first - CLOCK_LEEWAY
    wanted = {
        f.order_id: f.symbol
        for f in fills
        if f.client_id is None and f.order_id and _aware(f.timestamp) >= since
    }
    if not wanted:
        return {}
    known = await sync_to_async(_known)(subaccount_id, set(wanted))
    unknown = {order_id: s for order_id, s in wanted.items() if order_id not in known}
    origins = dict(known)
    if unknown:
        orders = await _orders(client, unknown)
        made = [o for o in orders if o.strategy_id or o.related_order_id]
        origins.update(await sync_to_async(_explained)(subaccount_id, made))
    return origins
