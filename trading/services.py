"""Trading use cases that change something on the exchange: place, cancel, cancel all, close.

Each is async and keyword-only, checks the actor's role (trader or above) first, calls the
exchange outside any database transaction, and leaves one audit record with the outcome
(`accounts.audit.audit_record`). A role that is too low is audited as denied and raises
`PermissionDenied`; exchange failures are audited as failed and re-raised as the client's
`BackpackError` (its message is in a trader's words); broken rules raise `TradingError`.

Placing is idempotent per ticket token: the first submit records the token with the
`clientId` it sends; any later submit with the same token waits for and returns the first
submit's result instead of placing again. A token is kept `TICKETS_KEPT` (30 days), then
forgotten; its ticket stays, naming the member behind its order (`trading.desk_tickets`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.models import Subaccount
from trading.audited import audit_failed, audited, require_trader, require_trader_now
from trading.backpack import ExchangeUnavailableError, Order, OrderType, Side, TriggerBy
from trading.desk_tickets import (
    client_ids_free,
    desk_tickets_finish,
    desk_tickets_record,
    tickets_forget_old,
)
from trading.exchange import client_for, exchange_session
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.formatting import plain
from trading.models import OrderTicket
from trading.risk.exposure import risk_exposure_current, risk_exposure_forget
from trading.risk.services import (
    ExposureRead,
    RiskRefused,
    risk_gate_admit,
    risk_reservation_settle,
    risk_reservation_settle_now,
)
from trading.selectors import best_prices
from trading.ticket import Ticket

PENDING_WAIT_S = 8.0
TICKETS_KEPT = timedelta(days=30)  # a token older than this is forgotten (not its member)
TICKETS_CLEANUP_EVERY = 100
PENDING_POLL_S = 0.2


class TradingError(ServiceError):
    """A request that breaks a trading rule; the message says what to do."""


@dataclass(frozen=True)
class OrderResult:
    """What a ticket submit did. `final` is False only while the outcome is still unknown
    (the ticket keeps its token then, so a resubmit cannot place a second order)."""

    ok: bool
    message: str
    order: Order | None = None
    repeated: bool = False
    final: bool = True


def order_summary(order: Order) -> str:
    """'Buy 0.5 SOL_USDC @ 150.10 (Limit): New, id 123' in a trader's words."""
    side = "Buy" if order.side == Side.BID else "Sell"
    amount = plain(order.quantity) if order.quantity is not None else "quote"
    if order.quantity is None and order.quote_quantity is not None:
        amount = f"{plain(order.quote_quantity)} (quote)"
    elif order.quantity is None and order.trigger_quantity is not None:
        amount = plain(order.trigger_quantity)
    price = f" @ {plain(order.price)}" if order.price is not None else ""
    kind = order.order_type.value
    if order.trigger_price is not None and order.related_order_id is None:
        kind = f"Stop {kind.lower()}, trigger {plain(order.trigger_price)}"
    return (
        f"{side} {amount} {order.symbol}{price} ({kind}): "
        f"{order.status.value}, filled {plain(order.executed_quantity)}, id {order.id}"
    )


# -- placing -------------------------------------------------------------------------------------


def _commit_without_waiting_for_disk() -> None:
    """The open transaction's commit returns before its write-ahead log reaches the disk
    (PostgreSQL's asynchronous commit; other databases commit as before). Only for a
    transaction that a synchronous commit follows before anything depends on it; inside an
    outer transaction (whose commit would then not wait either) it changes nothing."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


@sync_to_async
def _ticket_claim(
    *,
    token: str,
    actor: Any,
    subaccount: Subaccount,
    symbol: str,
    ip: str | None,
    parameters: dict[str, Any],
    gated: bool,
) -> tuple[OrderTicket, bool]:
    """Check the role, then record the token with a fresh clientId (one no other ticket of
    the subaccount holds: `client_ids_free`), or return the existing record (and False): one
    trip to the database before the order is signed.

    `gated`: the risk gate's transaction commits after this one and before anything is
    signed. On PostgreSQL the claim's commit then does not wait for the disk: the gate's
    commit flushes the write-ahead log in order, the claim with it, so both are durable
    before the order goes out, for one disk flush instead of two (about 2-4 ms each here).
    """
    require_trader_now(actor, subaccount, "order_place", ip, parameters)
    try:
        with transaction.atomic():
            if gated:
                _commit_without_waiting_for_disk()
            record = OrderTicket.objects.create(
                token=token,
                client_id=client_ids_free(subaccount.pk, 1)[0],
                subaccount=subaccount,
                actor=actor,
                symbol=symbol,
            )
    except IntegrityError:
        return OrderTicket.objects.get(token=token), False
    # Forget old tokens now and then (not on every order: one write saved per order); the
    # tickets stay, naming their orders' members (`trading.desk_tickets`).
    if record.pk % TICKETS_CLEANUP_EVERY == 0:
        tickets_forget_old(before=timezone.now() - TICKETS_KEPT)
    return record, True


@sync_to_async
def _order_placed_record(
    record: OrderTicket,
    *,
    reservation: int | None,
    order: Order,
    message: str,
    actor: Any,
    subaccount: Subaccount,
    parameters: dict[str, Any],
    ip: str | None,
) -> None:
    """After the exchange accepted the order: the reservation timestamped, the ticket's
    outcome and the audit record, in one transaction (the order exists whatever happens
    here; this only records it)."""
    with transaction.atomic():
        risk_reservation_settle_now(reservation_id=reservation, placed=True)
        OrderTicket.objects.filter(pk=record.pk).update(
            outcome=OrderTicket.Outcome.PLACED, order_id=order.id, message=message
        )
        audit_record(
            actor=actor,
            action="order_place",
            subaccount=subaccount,
            parameters={**parameters, "orderId": order.id},
            detail=order.status.value,
            ip=ip,
        )


@sync_to_async
def _ticket_finish(
    record: OrderTicket, *, outcome: str, order_id: str = "", message: str = ""
) -> None:
    OrderTicket.objects.filter(pk=record.pk).update(
        outcome=outcome, order_id=order_id, message=message
    )


@sync_to_async
def _ticket_reload(record: OrderTicket) -> OrderTicket:
    return OrderTicket.objects.get(pk=record.pk)


async def _ticket_refused(
    record: OrderTicket,
    actor: Any,
    subaccount: Subaccount,
    ip: str | None,
    parameters: dict[str, Any],
    error: BaseException,
) -> OrderResult:
    """The exchange (or the gate's reads) failed: the ticket is rejected and audited so."""
    message = failure_text(error)
    await _ticket_finish(record, outcome=OrderTicket.Outcome.REJECTED, message=message)
    await audit_failed(
        actor=actor,
        subaccount=subaccount,
        action="order_place",
        ip=ip,
        parameters=parameters,
        error=error,
    )
    return OrderResult(ok=False, message=f"Order not placed: {message}")


async def order_place(
    *, actor: Any, subaccount: Subaccount, ticket: Ticket, ip: str | None = None
) -> OrderResult:
    """Place the order of a checked `ticket` on `subaccount`, exactly once per ticket token.

    Trader role or above. Returns an `OrderResult` whose message is shown next to the ticket;
    an exchange rejection is a result with ok=False (audited as failed), not an exception.
    """
    parameters = ticket.audit_parameters()
    # The gate's exchange reads (positions, open orders, equity) go out while the token is
    # claimed; only the gate's check, after the claim, decides and reserves.
    exposure = None
    if not ticket.reduce_only:
        exposure = asyncio.ensure_future(risk_exposure_current(subaccount=subaccount))
    try:
        record, created = await _ticket_claim(
            token=ticket.token,
            actor=actor,
            subaccount=subaccount,
            symbol=ticket.symbol,
            ip=ip,
            parameters=parameters,
            gated=not ticket.reduce_only,  # reduce-only orders pass the gate without writing
        )
    except BaseException:
        _discard(exposure)
        raise
    if not created:
        _discard(exposure)
        return await _repeat_result(record, actor=actor, subaccount=subaccount, ticket=ticket)
    parameters["clientId"] = record.client_id
    client = client_for(subaccount)
    try:
        read = await exposure if exposure is not None else None
        reservation = await _ticket_gate(
            actor=actor, subaccount=subaccount, ticket=ticket, read=read, ip=ip
        )
    except RiskRefused as refused:
        await _ticket_finish(record, outcome=OrderTicket.Outcome.REJECTED, message=refused.message)
        return OrderResult(ok=False, message=refused.message)
    except EXCHANGE_ERRORS as error:
        return await _ticket_refused(record, actor, subaccount, ip, parameters, error)
    try:
        if ticket.is_stop:
            order = await client.place_trigger_order(**_stop_arguments(ticket, record.client_id))
        else:
            order = await client.place_order(**_order_arguments(ticket, record.client_id))
    except EXCHANGE_ERRORS as error:
        await _reservation_after_error(reservation, error)
        return await _ticket_refused(record, actor, subaccount, ip, parameters, error)
    if order.executed_quantity:  # a fill changed positions and the day's loss at once
        risk_exposure_forget(subaccount_id=subaccount.pk)
    message = f"Order placed: {order_summary(order)}."
    await _order_placed_record(
        record,
        reservation=reservation,
        order=order,
        message=message,
        actor=actor,
        subaccount=subaccount,
        parameters=parameters,
        ip=ip,
    )
    return OrderResult(ok=True, message=message, order=order)


def _order_arguments(ticket: Ticket, client_id: int) -> dict[str, Any]:
    """`place_order`'s arguments for a ticket that is no stop: with its take-profit /
    stop-loss legs (and their limit prices) when given."""
    legs = {
        "take_profit_trigger_price": ticket.take_profit_trigger_price,
        "take_profit_limit_price": ticket.take_profit_limit_price,
        "stop_loss_trigger_price": ticket.stop_loss_trigger_price,
        "stop_loss_limit_price": ticket.stop_loss_limit_price,
    }
    return {
        "symbol": ticket.symbol,
        "side": ticket.side,
        "order_type": ticket.order_type,
        "quantity": ticket.quantity,
        "price": ticket.price if ticket.order_type == OrderType.LIMIT else None,
        "quote_quantity": ticket.quote_quantity,
        "time_in_force": ticket.time_in_force,
        "post_only": ticket.post_only or None,
        "reduce_only": ticket.reduce_only or None,
        "client_id": client_id,
        **{name: value for name, value in legs.items() if value is not None},
    }


def _stop_arguments(ticket: Ticket, client_id: int) -> dict[str, Any]:
    """`place_trigger_order`'s arguments for a stop ticket (its size goes as
    ``triggerQuantity``; a stop-limit rests at its price once triggered)."""
    return {
        "symbol": ticket.symbol,
        "side": ticket.side,
        "trigger_price": ticket.trigger_price,
        "quantity": ticket.quantity,
        "price": ticket.price if ticket.order_type == OrderType.LIMIT else None,
        "trigger_by": ticket.trigger_by or TriggerBy.LAST_PRICE,
        "reduce_only": ticket.reduce_only or None,
        "client_id": client_id,
    }


async def ticket_notional(ticket: Ticket) -> Decimal:
    """The ticket's notional in the quote asset: price x quantity, the quote quantity, or for
    a market order by quantity the best opposite price now (the last price without a book)."""
    if ticket.quote_quantity is not None:
        return ticket.quote_quantity
    quantity = ticket.quantity or Decimal(0)
    if ticket.order_type == OrderType.LIMIT and ticket.price is not None:
        return quantity * ticket.price
    if ticket.trigger_price is not None:  # a stop-market fills around its trigger, not now
        return quantity * ticket.trigger_price
    prices = await best_prices(ticket.symbol)
    price = prices.ask if ticket.side == Side.BID else prices.bid
    if price is None:
        price = (await exchange_session().client().ticker(ticket.symbol)).last_price
    return quantity * price


def _discard(task: asyncio.Future[Any] | None) -> None:
    """A read no longer wanted: cancelled, or its failure taken (never left unretrieved)."""
    if task is None:
        return
    if task.done():
        if not task.cancelled():
            task.exception()
    else:
        task.cancel()


async def _ticket_gate(
    *,
    actor: Any,
    subaccount: Subaccount,
    ticket: Ticket,
    read: ExposureRead | None = None,
    ip: str | None = None,
) -> int | None:
    """The risk gate for a ticket (before anything is signed); its reservation id. `read`:
    the subaccount's exposure, read from the exchange while the ticket was claimed. A
    refusal is audited by the gate with the ticket's fields and `ip`."""
    notional = Decimal(0) if ticket.reduce_only else await ticket_notional(ticket)
    return await risk_gate_admit(
        actor=actor,
        subaccount=subaccount,
        symbol=ticket.symbol,
        side=ticket.side,
        notional=notional,
        reduce_only=ticket.reduce_only,
        quote=ticket.symbol.split("_")[1] if "_" in ticket.symbol else "USDC",
        read=read,
        ip=ip,
        context=ticket.audit_parameters(),
    )


async def _reservation_after_error(reservation: int | None, error: BaseException) -> None:
    """A refused order frees its headroom; an unknown outcome keeps it until it expires."""
    if not isinstance(error, ExchangeUnavailableError):
        await risk_reservation_settle(reservation_id=reservation, placed=False)


async def _repeat_result(
    record: OrderTicket, *, actor: Any, subaccount: Subaccount, ticket: Ticket
) -> OrderResult:
    """A ticket submitted again: wait for the first submit's outcome and return it."""
    if record.subaccount_id != subaccount.pk or record.actor_id != getattr(actor, "pk", None):
        return OrderResult(
            ok=False, message="This ticket was already used; reload the page to get a new one."
        )
    waited = 0.0
    while record.outcome == OrderTicket.Outcome.PENDING and waited < PENDING_WAIT_S:
        await asyncio.sleep(PENDING_POLL_S)
        waited += PENDING_POLL_S
        record = await _ticket_reload(record)
    if record.outcome == OrderTicket.Outcome.REJECTED:
        return OrderResult(ok=False, message=record.message, repeated=True)
    order = None
    try:
        order = await client_for(subaccount).find_order(record.symbol, record.client_id)
    except EXCHANGE_ERRORS:
        order = None
    if record.outcome == OrderTicket.Outcome.PLACED:
        current = f"Order placed: {order_summary(order)}." if order else record.message
        return OrderResult(
            ok=True,
            message=f"Already sent once (not sent again). {current}",
            order=order,
            repeated=True,
        )
    if order is not None:
        return OrderResult(
            ok=True,
            message=f"Already sent once (not sent again). {order_summary(order)}.",
            order=order,
            repeated=True,
        )
    return OrderResult(
        ok=False,
        repeated=True,
        final=False,
        message="The first submit of this ticket is still on its way to the exchange; check "
        "the open orders before sending it again.",
    )


# -- cancelling and closing ------------------------------------------------------------------------


async def order_cancel(
    *, actor: Any, subaccount: Subaccount, symbol: str, order_id: str, ip: str | None = None
) -> Order:
    """Cancel one open order (trader+). An order already gone returns its final state."""
    parameters = {"symbol": symbol, "orderId": order_id}
    await require_trader(actor, subaccount, "order_cancel", ip, parameters)
    async with audited(
        actor=actor, subaccount=subaccount, action="order_cancel", ip=ip, parameters=parameters
    ) as call:
        try:
            order = await client_for(subaccount).cancel_order(symbol, order_id=order_id)
        finally:
            risk_exposure_forget(subaccount_id=subaccount.pk)
        call.outcome(detail=order.status.value)
    return order


async def orders_cancel_all(
    *, actor: Any, subaccount: Subaccount, symbol: str | None = None, ip: str | None = None
) -> list[Order]:
    """Cancel every open order of the subaccount in `symbol` (or in every market when None)."""
    parameters = {"symbol": symbol or "(all markets)"}
    await require_trader(actor, subaccount, "orders_cancel_all", ip, parameters)
    client = client_for(subaccount)
    cancelled: list[Order] = []
    async with audited(
        actor=actor, subaccount=subaccount, action="orders_cancel_all", ip=ip, parameters=parameters
    ) as call:
        try:
            if symbol:
                symbols = [symbol]
            else:
                symbols = sorted({o.symbol for o in await client.open_orders()})
            for each in symbols:
                cancelled.extend(await client.cancel_all_orders(each))
        finally:
            risk_exposure_forget(subaccount_id=subaccount.pk)
        call.outcome(cancelled=len(cancelled))
    return cancelled


async def position_close(
    *, actor: Any, subaccount: Subaccount, symbol: str, ip: str | None = None
) -> Order:
    """Close the subaccount's position in `symbol` with a reduce-only market order (trader+),
    recorded with a desk ticket in the actor's name (its fills are the actor's).

    Raises `TradingError` when there is no open position in that market.
    """
    parameters: dict[str, Any] = {"symbol": symbol}
    await require_trader(actor, subaccount, "position_close", ip, parameters)
    client = client_for(subaccount)
    async with audited(
        actor=actor,
        subaccount=subaccount,
        action="position_close",
        ip=ip,
        parameters=parameters,
        errors=(TradingError, *EXCHANGE_ERRORS),
    ) as call:
        positions = await client.positions(symbol)
        size = sum((p.net_quantity for p in positions if p.symbol == symbol), Decimal(0))
        if size == 0:
            raise TradingError(f"There is no open position in {symbol} to close.")
        side = Side.ASK if size > 0 else Side.BID
        parameters.update(side=side.value, quantity=format(abs(size), "f"), reduceOnly=True)
        # A close only reduces risk: the gate lets it pass (nothing reserved), even at a limit.
        await risk_gate_admit(
            actor=actor,
            subaccount=subaccount,
            symbol=symbol,
            side=side,
            notional=Decimal(0),
            reduce_only=True,
            action="position_close",
        )
        tickets, (client_id,) = await desk_tickets_record(
            actor=actor, subaccount=subaccount, symbol=symbol, count=1, source="close"
        )
        parameters["clientId"] = client_id
        try:
            order = await client.place_order(
                symbol,
                side,
                OrderType.MARKET,
                quantity=abs(size),
                reduce_only=True,
                client_id=client_id,
            )
        except EXCHANGE_ERRORS as error:
            await desk_tickets_finish(tickets=tickets, results=[error])
            raise
        await desk_tickets_finish(tickets=tickets, results=[order])
        risk_exposure_forget(subaccount_id=subaccount.pk)
        call.outcome(detail=order.status.value, orderId=order.id)
    return order
