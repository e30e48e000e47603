"""Finding orders whose answer was lost, by ``clientId``, before anything is resent.

A placement whose answer is lost (timeout, connection cut, 5xx) may or may not have reached
the exchange. ``reconcile`` looks the orders up in the open orders, then the order history;
for any still missing it waits until the lost request's signature window has passed (from
then on the exchange refuses that request, so the order can no longer appear) and looks
again. Absent orders are safe to resend; when the lookups themselves keep failing it raises
rather than guess. An order only counts when it matches what was sent (symbol, side, price,
quantity, recent enough), so a ``clientId`` reused by another process or an old order is never
taken for ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .account_types import Order
from .errors import BackpackError, ExchangeUnavailableError, RateLimitedError, ServerError

LOOKUP_FAILURES = (ExchangeUnavailableError, ServerError, RateLimitedError)


class OrderLookup(Protocol):
    """What reconciliation reads: a signed client's open orders and order history."""

    async def open_orders(self, symbol: str | None = None) -> list[Order]: ...

    async def order_history(self, **kw: Any) -> list[Order]: ...


async def find_orders(client: OrderLookup, wanted: Iterable[tuple[str, int]]) -> dict[int, Order]:
    """Orders by ``clientId`` for ``(symbol, clientId)`` pairs: open orders first, then order
    history - one request of each per symbol, however many orders are sought."""
    by_symbol: dict[str, set[int]] = {}
    for symbol, client_id in wanted:
        by_symbol.setdefault(symbol, set()).add(client_id)
    found: dict[int, Order] = {}
    for symbol, ids in by_symbol.items():
        for order in await client.open_orders(symbol):
            if order.client_id in ids:
                found[order.client_id] = order
        if ids - found.keys():
            for order in await client.order_history(symbol=symbol, limit=1000):
                if order.client_id in ids and order.client_id not in found:
                    found[order.client_id] = order
    return found


async def reconcile(
    client: OrderLookup,
    bodies: list[dict[str, Any]],
    sent_at_ms: int,
    *,
    window_ms: int,
    now_ms: Callable[[], int],
    attempts: int = 3,
    delay_s: float = 0.1,
) -> dict[int, Order]:
    """The orders of ``bodies`` (sent at ``sent_at_ms`` on the exchange's clock) that are on
    the exchange, by ``clientId``; a body missing from the answer is safe to resend."""
    not_before_ms = sent_at_ms - window_ms - 5000
    expected = {body["clientId"]: body for body in bodies}

    async def look(wanted: list[dict[str, Any]]) -> dict[int, Order]:
        pairs = [(b["symbol"], b["clientId"]) for b in wanted]
        return {
            cid: order
            for cid, order in (await find_orders(client, pairs)).items()
            if matches(order, expected[cid], not_before_ms)
        }

    try:
        found = await look(bodies)
    except LOOKUP_FAILURES:
        found = {}
    missing = [b for b in bodies if b["clientId"] not in found]
    if not missing:
        return found
    expires_in_s = (sent_at_ms + window_ms - now_ms()) / 1000.0
    await asyncio.sleep(max(expires_in_s, 0.0) + delay_s)
    last_error: BackpackError = ServerError("order lookup failed")
    for _ in range(attempts):
        try:
            found.update(await look(missing))
            return found
        except LOOKUP_FAILURES as error:
            last_error = error
            await asyncio.sleep(delay_s)
    raise last_error


def matches(order: Order, body: dict[str, Any], not_before_ms: int) -> bool:
    """Is ``order`` the one ``body`` asked for (not another order with the same clientId)?"""
    if order.symbol != body["symbol"] or order.side != body["side"]:
        return False
    for field, value in (("price", order.price), ("quantity", order.quantity)):
        sent = body.get(field)
        if sent is not None and value is not None and sent != value:
            return False
    created = order.created_at
    return created is None or created.timestamp() * 1000 >= not_before_ms
