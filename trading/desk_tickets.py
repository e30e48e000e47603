"""Desk tickets of the orders the desk sends by itself (ladder children, a position's close,
a take-profit / stop-loss on a position): each order's ``clientId`` recorded with the member
who sent it, before the order is signed, as the order ticket records its own
(`trading.services.order_place`) and the script endpoint its orders
(`trading.gateway.tickets`).

A ticket is what names the member: the open orders' "By" column, PnL by member, the
per-member risk limits and the daily loss by member all ask `ticket_owners` who sent an
order (or the order of a fill). ClientIds are not unique (a script chooses its own; the
desk's count up from a random start, so a script can guess the next), so an order names its
ticket in this order of trust:

1. its order id: the ticket placed with it (the exchange gave that id to that order only);
2. for an order the exchange made for a ticket, what made it: a TWAP slice's ``strategyId``
   (the TWAP's ticket), a take-profit / stop-loss leg's ``relatedOrderId`` (the ticket of
   the parent order); a fill's ``origin`` says the same;
3. its ``clientId``, only among the tickets with no order id yet (pending: the answer is
   not in, or was lost), never a refused one (that order never reached the exchange). When
   such tickets of different members share the clientId, the order names nobody: better
   shown as sent outside the desk (the subaccount's own limits still count it) than
   credited to the wrong member. Their times cannot tell them apart safely: every such
   ticket was recorded before its order was sent, and the exchange's clock is not ours.

Recorded pending before the order goes out (so an order whose answer is lost is still the
member's), then finished with the exchange's answer: placed with the order id, or rejected
with the reason. An unknown outcome stays pending: the order may exist, and it is the
member's if it does.

A ticket holds its clientId (`client_ids_held`) while that clientId may still name its
order: a pending ticket always (it is all that names its order until the order id is known),
a placed one while its token is kept (a resubmit of the token looks its order up by
clientId: `trading.services`). The desk's own clientIds (`client_ids_free`) are never one
that a ticket of the subaccount holds; a script may not choose one a pending ticket holds.
After 30 days a ticket's token is forgotten (`tickets_forget_old`), not its member: a
placed ticket keeps naming its order by order id (the ledger folds fills of any age again,
an order may rest for months), and its clientId is free again, so the desk's clientIds
(uint32) are never used up; a refused ticket, which names nothing, is deleted then.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Substr

from accounts.models import Subaccount
from trading.backpack import ExchangeUnavailableError, Order, Strategy
from trading.backpack.orders import MAX_CLIENT_ID, new_client_id
from trading.failures import failure_text
from trading.models import OrderTicket
from trading.models.ledger import LedgerEntry

Pending = OrderTicket.Outcome.PENDING
Rejected = OrderTicket.Outcome.REJECTED

FREE_DRAWS = 5  # rounds of `client_ids_free`; a second round is already a rare event
LOOKUP_KEYS_MAX = 500  # beyond this many keys, reading all the tickets beats a long IN list


# -- which ticket sent an order ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What an order (or the order of a fill) says of itself that can name its ticket."""

    order_id: str | None = None
    client_id: int | None = None
    strategy_id: str | None = None  # a TWAP's slice: the strategy's id
    parent_id: str | None = None  # a take-profit / stop-loss leg: the parent order's id

    @classmethod
    def of_order(cls, order: Order) -> OrderRef:
        return cls(order.id, order.client_id, order.strategy_id, order.related_order_id)

    @classmethod
    def of_fill(cls, order_id: str, client_id: int | None, origin: str) -> OrderRef:
        """A ledger fill: ``origin`` (`trading.ledger.origins`) names what made its order;
        its clientId is then the ticket's copy, not the order's, and is not looked up."""
        kind, _, made_by = origin.partition(" ")
        if kind == "strategy" and made_by:
            return cls(order_id or None, None, strategy_id=made_by)
        if kind == "order" and made_by:
            return cls(order_id or None, None, parent_id=made_by)
        return cls(order_id or None, client_id)


@dataclass
class TicketOwners:
    """Tickets of one subaccount by what can name them; `owner` applies the rule of the
    module docstring. ``value`` is what `ticket_owners` read of each ticket's member (its id
    or user name; None: the user is gone, and the order names nobody)."""

    by_order: dict[str, Any] = field(default_factory=dict)
    by_strategy: dict[str, Any] = field(default_factory=dict)
    by_client: dict[int, set[Any]] = field(default_factory=dict)  # tickets with no order id

    def owner(self, ref: OrderRef) -> Any:
        """The member of the ticket that sent the order ``ref`` names (None: none, or more
        than one member's ticket could have)."""
        if ref.order_id and ref.order_id in self.by_order:
            return self.by_order[ref.order_id]
        if ref.strategy_id and ref.strategy_id in self.by_strategy:
            return self.by_strategy[ref.strategy_id]
        if ref.parent_id and ref.parent_id in self.by_order:
            return self.by_order[ref.parent_id]
        if ref.client_id is None:
            return None
        members = self.by_client.get(ref.client_id, ())
        return next(iter(members)) if len(members) == 1 else None


def _lookups(refs: Iterable[OrderRef]) -> Q | None:
    """The tickets ``refs`` may name, as one condition; None: too many keys for one list."""
    order_ids = {r.order_id for r in refs if r.order_id}
    order_ids |= {r.parent_id for r in refs if r.parent_id}
    strategies = {r.strategy_id for r in refs if r.strategy_id}
    client_ids = {r.client_id for r in refs if r.client_id is not None}
    if len(order_ids) + len(strategies) + len(client_ids) > LOOKUP_KEYS_MAX:
        return None
    wanted = Q(pk__in=[])
    if order_ids:
        wanted |= Q(order_id__in=order_ids)
    if strategies:
        wanted |= Q(strategy_id__in=strategies)
    if client_ids:
        wanted |= Q(client_id__in=client_ids, order_id="", strategy_id="") & ~Q(outcome=Rejected)
    return wanted


def _of_fills(subaccount_id: int) -> Q:
    """The tickets that can name a fill of the subaccount's ledger: those without an order id
    (a TWAP's, a pending one), those whose order filled, and the parents of the take-profit /
    stop-loss legs that filled; not the many placed orders that never filled."""
    fills = LedgerEntry.objects.filter(subaccount_id=subaccount_id, kind=LedgerEntry.Kind.FILL)
    legs = fills.filter(origin__startswith="order ").annotate(parent=Substr("origin", 7))
    return (
        Q(order_id="")
        | Q(order_id__in=fills.values("order_id"))
        | Q(order_id__in=legs.values("parent"))
    )


def ticket_owners(
    subaccount_id: int,
    refs: Iterable[OrderRef] | None = None,
    *,
    value: Literal["actor_id", "actor__username"] = "actor__username",
    fills: bool = False,
) -> TicketOwners:
    """The subaccount's tickets that ``refs`` can name (every ticket for None), in one query
    however many orders: whose they are by `TicketOwners.owner`.

    ``fills``: every ref is of a fill of the subaccount's ledger (a ledger reader's), so
    instead of every ticket only those that can name one are read (`_of_fills`): tickets are
    kept for good, and a reader of the whole ledger reads no more of them than it has fills."""
    tickets = OrderTicket.objects.filter(subaccount_id=subaccount_id).order_by()
    wanted = _lookups(list(refs)) if refs is not None else None
    if wanted is not None:
        tickets = tickets.filter(wanted)
    elif fills:
        tickets = tickets.filter(_of_fills(subaccount_id))
    owners = TicketOwners()
    rows = tickets.values_list("order_id", "strategy_id", "client_id", "outcome", value)
    for order_id, strategy_id, client_id, outcome, member in rows.iterator(2000):
        if order_id:
            owners.by_order[order_id] = member
        elif strategy_id:
            owners.by_strategy[strategy_id] = member
        elif outcome != Rejected:
            owners.by_client.setdefault(client_id, set()).add(member)
    return owners


# -- the desk's own clientIds --------------------------------------------------------------------


def client_ids_held(subaccount_id: int, client_ids: Collection[int]) -> dict[int, bool]:
    """Of ``client_ids``, those a ticket of the subaccount holds (pending, or placed with its
    token still kept: the module docstring): clientId -> whether such a ticket is still
    pending (its order on its way, or its answer lost: a clientId that may still name its
    order)."""
    if not client_ids:
        return {}
    wanted = [int(c) for c in client_ids]
    # Plain SQL, read through the (subaccount, clientId) index: it runs in the admitting step
    # of every script order that brings its clientId, where the ORM's compiling of the same
    # query cost more than a third of the desk's CPU per order (bench_gateway).
    marks = ", ".join(["%s"] * len(wanted))
    sql = (
        f"SELECT client_id, outcome FROM {OrderTicket._meta.db_table}"
        f" WHERE subaccount_id = %s AND client_id IN ({marks}) AND outcome <> %s"
        " AND (token IS NOT NULL OR outcome = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [subaccount_id, *wanted, Rejected, Pending])
        rows = cursor.fetchall()
    held: dict[int, bool] = {}
    for client_id, outcome in rows:
        held[client_id] = held.get(client_id, False) or outcome == Pending
    return held


def client_ids_free(subaccount_id: int, count: int) -> list[int]:
    """``count`` clientIds for the desk's orders on the subaccount that no ticket of it holds
    (`client_ids_held`), from the desk's counter; one query unless the counter met a held
    one (a script chose it: a guessed clientId is then replaced by a random one). Called in
    the transaction that records the tickets."""
    drawn = [new_client_id() for _ in range(count)]
    for _ in range(FREE_DRAWS):
        held = client_ids_held(subaccount_id, drawn)
        if not held:
            return drawn
        drawn = [secrets.randbelow(MAX_CLIENT_ID) + 1 if c in held else c for c in drawn]
    raise RuntimeError(f"no free clientId for subaccount {subaccount_id} in {FREE_DRAWS} draws")


def tickets_forget_old(*, before: datetime) -> int:
    """Forget the tokens of the tickets recorded before ``before`` (a resubmit of one then
    places a new order), keeping each ticket's member; delete those refused, which never
    named an order. Two statements reading only the tickets still holding a token, whatever
    the table's size. Returns the tokens forgotten."""
    # Every token sorts after "" (none is empty): one range of the token's unique index, which
    # holds the tickets with a token (SQLite reads no index for IS NOT NULL; no second index
    # to write on every order).
    old = OrderTicket.objects.filter(token__gt="", created_at__lt=before)
    old.filter(outcome=Rejected).delete()
    return old.update(token=None)


# -- recording and finishing ---------------------------------------------------------------------


@sync_to_async
def desk_tickets_record(
    *, actor: Any, subaccount: Subaccount, symbol: str, count: int, source: str
) -> tuple[list[int], list[int]]:
    """Record ``count`` pending tickets in the name of ``actor``, each with a clientId no
    other ticket of the subaccount holds (`client_ids_free`); (the tickets' ids, their
    clientIds), for the orders to be sent with.

    ``source`` names the path in the ticket's token (``"ladder"``, ``"close"``...)."""
    with transaction.atomic():
        client_ids = client_ids_free(subaccount.pk, count)
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
        created = OrderTicket.objects.bulk_create(records)
    if any(r.pk is None for r in created):  # a database that does not return ids
        tokens = [r.token for r in records]
        by_token = dict(OrderTicket.objects.filter(token__in=tokens).values_list("token", "pk"))
        return [by_token[t] for t in tokens], client_ids
    return [r.pk for r in created], client_ids


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
