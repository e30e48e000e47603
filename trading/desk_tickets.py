"""Desk tickets of the orders the desk sends by itself (ladder children, a position's close,
a take-profit / stop-loss on a position): each order's ``clientId`` recorded with the member
who sent it, before the order is signed, as the order ticket records its own
(`trading.services.order_place`) and the script endpoint its orders
(`trading.gateway.tickets`).

A ticket is what names the member: the open orders' "By" column, PnL by member, the
per-member risk limits and the daily loss by member all find an order's member by its
``clientId`` among the tickets. An order without one reads as sent outside the desk, unless
the exchange made it for a ticket (`ticket_client_ids_of`): a slice of a TWAP the desk
started (its ``strategyId`` on the TWAP's ticket), a take-profit / stop-loss leg of a desk
order (its ``relatedOrderId`` the ticket's order id).

Recorded pending before the order goes out (so an order whose answer is lost is still the
member's), then finished with the exchange's answer: placed with the order id, or rejected
with the reason. An unknown outcome stays pending: the order may exist, and it is the
member's if it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.models import Subaccount
from trading.backpack import ExchangeUnavailableError, Order, Strategy
from trading.failures import failure_text
from trading.models import OrderTicket


@sync_to_async
def desk_tickets_record(
    *, actor: Any, subaccount: Subaccount, symbol: str, client_ids: Sequence[int], source: str
) -> list[int]:
    """Record a pending ticket per ``clientId`` in the name of ``actor``; the tickets' ids.

    ``source`` names the path in the ticket's token (``"ladder"``, ``"close"``...)."""
    records = [
        OrderTicket(
            token=f"{source}:{uuid.uuid4().hex}",
            client_id=client_id,
            subaccount=subaccount,
            actor=actor,
            symbol=symbol,
        )
        for client_id in client_ids
    ]
    with transaction.atomic():
        created = OrderTicket.objects.bulk_create(records)
    if any(r.pk is None for r in created):  # a database that does not return ids
        tokens = [r.token for r in records]
        by_token = dict(OrderTicket.objects.filter(token__in=tokens).values_list("token", "pk"))
        return [by_token[t] for t in tokens]
    return [r.pk for r in created]


@sync_to_async
def desk_tickets_finish(
    *, tickets: Sequence[int], results: Sequence[Order | BaseException]
) -> None:
    """Each ticket finished by its order's outcome: the order placed, or the error that
    refused it (an unknown outcome leaves the ticket pending)."""
    with transaction.atomic():
        for ticket, result in zip(tickets, results, strict=True):
            if isinstance(result, Order):
                change = {"outcome": OrderTicket.Outcome.PLACED, "order_id": result.id}
                change["message"] = result.status.value
            elif isinstance(result, ExchangeUnavailableError):
                continue
            else:
                change = {
                    "outcome": OrderTicket.Outcome.REJECTED,
                    "message": failure_text(result)[:2000],
                }
            OrderTicket.objects.filter(pk=ticket).update(**change)


@sync_to_async
def desk_ticket_strategy_finish(*, ticket: int, result: Strategy | BaseException) -> None:
    """A TWAP's ticket finished by the exchange's answer: started, with the strategy id that
    its slices will carry, or refused (an unknown outcome leaves it pending)."""
    if isinstance(result, Strategy):
        change = {
            "outcome": OrderTicket.Outcome.PLACED,
            "strategy_id": result.id,
            "message": result.status.value,
        }
    elif isinstance(result, ExchangeUnavailableError):
        return
    else:
        change = {"outcome": OrderTicket.Outcome.REJECTED, "message": failure_text(result)[:2000]}
    OrderTicket.objects.filter(pk=ticket).update(**change)


def ticket_client_ids_of(
    subaccount_id: int, orders: Sequence[tuple[str | None, str | None]]
) -> list[int | None]:
    """For each order the exchange made (``(strategyId, relatedOrderId)``), the clientId of
    the desk ticket that made it: the TWAP's ticket of a slice, the ticket of the parent
    order of a take-profit / stop-loss leg; None for one no member's ticket explains."""
    strategies = {s for s, _ in orders if s}
    parents = {r for _, r in orders if r}
    tickets = OrderTicket.objects.filter(subaccount_id=subaccount_id, actor__isnull=False)
    by_strategy: dict[str, int] = {}
    by_order: dict[str, int] = {}
    if strategies:
        rows = tickets.filter(strategy_id__in=strategies).order_by("pk")
        by_strategy = dict(rows.values_list("strategy_id", "client_id"))
    if parents:
        rows = tickets.filter(order_id__in=parents).order_by("pk")
        by_order = dict(rows.values_list("order_id", "client_id"))
    return [
        (by_strategy.get(strategy) if strategy else None)
        or (by_order.get(related) if related else None)
        for strategy, related in orders
    ]
