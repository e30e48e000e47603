"""The desk tickets of script orders: recorded pending in the step that admits the key (one
thread hop and one commit fewer per order, bench_gateway), before the gate (as the browser's
ticket is), and finished with the exchange's answer or the refusal: an order the gate refuses
finishes its ticket rejected. A ticket carries the order's clientId and the key's member, so
PnL by member and the open-orders "By" column count a script's order as the member's.

In the same step, the orders' clientIds: one the script chose is refused while a pending
ticket of the subaccount holds it (that order is on its way, or its answer was lost, and its
clientId is all that names it until its order id is known: `trading.desk_tickets`); an order
without one gets a desk clientId no ticket of the subaccount holds (`client_ids_free`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from trading.desk_tickets import client_ids_free, client_ids_held
from trading.gateway.errors import bad_request
from trading.gateway.order_fields import order_client_id
from trading.models import OrderTicket

if TYPE_CHECKING:
    from trading.gateway.admit import Caller

# Plain SQL, as the gate's own statements.
_TICKET_SQL = (
    "INSERT INTO trading_orderticket (token, client_id, subaccount_id, actor_id, symbol,"
    " outcome, order_id, message, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, '', '', %s, %s) RETURNING id"
)
_FINISH_SQL = (
    "UPDATE trading_orderticket SET outcome = %s, order_id = %s, message = %s WHERE id = %s"
)


def _client_ids_settle(subaccount_id: int, orders: list[dict[str, Any]]) -> None:
    """Refuse a chosen clientId a pending ticket holds; give the others a desk clientId."""
    chosen = [order_client_id(order) for order in orders]
    held = client_ids_held(subaccount_id, {c for c in chosen if c is not None})
    for client_id in chosen:
        if client_id is not None and held.get(client_id):
            raise bad_request(
                f"Invalid parameter `clientId`: {client_id} is held by an order of this"
                " subaccount still on its way to the exchange; send another clientId, or none"
                " and the desk gives one"
            )
    unchosen = [order for order, client_id in zip(orders, chosen, strict=True) if client_id is None]
    if unchosen:
        for order, client_id in zip(
            unchosen, client_ids_free(subaccount_id, len(unchosen)), strict=True
        ):
            order["clientId"] = client_id


def tickets_insert(caller: Caller, orders: list[dict[str, Any]]) -> list[int]:
    """The orders' tickets (pending), inside the caller's transaction, once their clientIds
    are settled (a chosen one held by a pending ticket: a `Refusal`; none: the desk's)."""
    _client_ids_settle(caller.subaccount.pk, orders)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ids = []
    with connection.cursor() as cursor:
        for order in orders:
            cursor.execute(
                _TICKET_SQL,
                [
                    f"bpx:{uuid.uuid4().hex}",
                    int(order["clientId"]),
                    caller.subaccount.pk,
                    caller.member.pk,
                    str(order["symbol"]),
                    OrderTicket.Outcome.PENDING,
                    now,
                    now,
                ],
            )
            ids.append(cursor.fetchone()[0])
    return ids


def tickets_finish(tickets: list[int], results: list[tuple[str, str, str]]) -> None:
    """Each ticket's (outcome, order id, message), inside the caller's transaction."""
    with connection.cursor() as cursor:
        for ticket, (outcome, order_id, message) in zip(tickets, results, strict=True):
            cursor.execute(_FINISH_SQL, [outcome, order_id, message[:2000], ticket])
