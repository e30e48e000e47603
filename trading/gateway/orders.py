"""Orders sent by scripts: every one passes the risk gate before it is signed, is recorded
with a desk ticket (its `clientId` and the key's member, so PnL by member counts it) and
audited as the member's, naming the key it came through.

A script's own `clientId` is kept (it may look its order up by it; one that is not an
integer from 0 to 2^32 - 1, or that a pending ticket of the subaccount holds, is refused before
anything is recorded); an order without one gets a desk clientId, as the ticket does
(`trading.gateway.tickets`). The key is admitted and the tickets recorded in one
step, before the gate (for a single order, when this process keeps a fresh exposure read of
the subaccount, the gate checks and reserves in that same step); an order refused by the
gate or the exchange finishes its ticket rejected. The outcome of an answered order is
written after the answer, with the next order's step (`trading.gateway.outcomes`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.audit import audit_record
from accounts.models import AuditEvent
from trading.backpack import Side
from trading.backpack import routes as R
from trading.exchange import exchange_session
from trading.gateway.admit import Caller, script_key_admit
from trading.gateway.errors import Refusal
from trading.gateway.forward import exchange_forward
from trading.gateway.order_fields import (
    gate_refusal,
    order_fields,
    order_notional,
    order_notional_now,
    order_quote,
)
from trading.gateway.outcomes import (
    Outcomes,
    outcome_record,
    outcomes_settle,
    outcomes_take,
    outcomes_write,
    outcomes_write_alone,
)
from trading.gateway.routes import Served
from trading.gateway.tickets import tickets_finish, tickets_insert
from trading.models import OrderTicket
from trading.monitoring.alerts import AlertChange
from trading.risk.exposure import ExposureRead, risk_exposure_kept, risk_exposure_refresh_ahead
from trading.risk.gate import GateOrder, GateResult
from trading.risk.services import (
    RiskRefused,
    risk_gate_admit,
    risk_gate_conclude,
    risk_gate_order,
    risk_gate_reserve_now,
    risk_reservation_settle,
)
from trading.selectors import EXCHANGE_ERRORS, best_prices, exchange_error_text

_audit = sync_to_async(audit_record)


async def _notional(order: dict[str, Any], side: Side) -> Decimal:
    """The order's notional in its quote asset (`order_notional`), a market order without a
    trigger price at the best opposite price now."""
    known = order_notional_now(order)
    if known is not None:
        return known
    symbol = str(order["symbol"])
    prices = await best_prices(symbol)
    best = prices.ask if side == Side.BID else prices.bid
    if best is None:
        best = (await exchange_session().client().ticker(symbol)).last_price
    notional = order_notional(order, best)
    assert notional is not None  # priced at `best`
    return notional


async def _gate(caller: Caller, order: dict[str, Any], ip: str | None) -> int | None:
    symbol, side, reduce_only = order_fields(order)
    try:
        notional = Decimal(0) if reduce_only else await _notional(order, side)
        return await risk_gate_admit(
            actor=caller.member,
            subaccount=caller.subaccount,
            symbol=symbol,
            side=side,
            notional=notional,
            reduce_only=reduce_only,
            quote=order_quote(symbol),
            ip=ip,
            context={**order, "via": caller.via},
        )
    except RiskRefused as refused:
        raise gate_refusal(refused) from None
    except EXCHANGE_ERRORS as error:
        raise Refusal(
            502,
            "SERVER_ERROR",
            f"The desk could not check the risk limits: {exchange_error_text(error)}",
        ) from None


# After the exchange answered: settle the reservations, finish the tickets and audit, in one
# transaction (one commit where it was three; each is a synced write on SQLite, measured by
# bench_gateway). The gate's settle is called in this thread (`.func` of its sync_to_async).
_settle = risk_reservation_settle.func


# (desk key, X-Subaccount) -> the subaccount its last admitted order acted on. Only a guess
# of which kept exposure read (`risk_exposure_kept`) to hand to the admitting step, which
# uses it only for the subaccount it admits; never an authority on the key.
_acted_on: dict[tuple[str, str | None], int] = {}
_ACTED_ON_MAX = 10_000


@dataclass(frozen=True)
class _Gated:
    """The gate's check of a single order, made in the step that admitted it."""

    order: GateOrder
    result: GateResult
    reservation: int | None
    stops: list[AlertChange]


def _gate_order_now(orders: list[dict[str, Any]]) -> GateOrder | None:
    """The gate's view of a single order whose notional its fields give (a limit order, a
    trigger order at its trigger price); None when it must go through `_gate` (a batch, a
    reduce-only order, a market order without a trigger price, a bad number or size: `_gate`
    refuses it in its words)."""
    if len(orders) != 1:
        return None
    order = orders[0]
    symbol, side, reduce_only = order_fields(order)
    if reduce_only:
        return None
    try:
        notional = order_notional_now(order)
    except Refusal:
        return None
    if notional is None:
        return None
    return risk_gate_order(symbol=symbol, side=side, notional=notional, quote=order_quote(symbol))


@sync_to_async
def _admit_and_open(
    *,
    api_key: str,
    served: Served,
    subaccount: str | None,
    ip: str | None,
    orders: list[dict],
    read: tuple[int, ExposureRead] | None,
    earlier: Outcomes | None = None,
) -> tuple[Caller, list[int], _Gated | None]:
    """The key admitted (`script_key_admit`), the orders' fields checked, their tickets
    recorded: nothing is recorded for a refused key or a malformed order. With `read` (a
    subaccount id and its kept exposure read) for the subaccount admitted, a single order's
    gate check and reservation (`risk_gate_reserve_now`) are made in the tickets'
    transaction: one database step for the order before it is forwarded, where it took two.
    `earlier`: the outcomes of orders answered before, written in the same transaction (in
    one of their own when this step refuses or fails)."""
    try:
        caller = script_key_admit(api_key=api_key, served=served, subaccount=subaccount, ip=ip)
        for order in orders:
            order_fields(order)
        gate_order = None
        if read is not None and read[0] == caller.subaccount.pk:
            gate_order = _gate_order_now(orders)
        with transaction.atomic():
            outcomes_write(earlier)
            tickets = tickets_insert(caller, orders)
            if gate_order is None:
                return caller, tickets, None
            assert read is not None
            result, reservation, stops = risk_gate_reserve_now(
                actor=caller.member, subaccount=caller.subaccount, order=gate_order, read=read[1]
            )
        return caller, tickets, _Gated(gate_order, result, reservation, stops)
    except BaseException:
        if earlier is not None:
            earlier.written = False  # rolled back with the step, or never reached
            outcomes_write_alone(earlier)
        raise


@sync_to_async
def _not_sent(
    caller: Caller,
    orders: list[dict[str, Any]],
    tickets: list[int],
    reservations: list[int | None],
    ip: str | None,
    result: str,
    message: str,
    audited: int | None = None,
) -> None:
    """Refused before the exchange (or refused by it): headroom freed, tickets rejected,
    each order audited with `result` (but the one at index `audited`, which the risk gate
    audited as it refused it)."""
    with transaction.atomic():
        for reservation in reservations:
            _settle(reservation_id=reservation, placed=False)
        tickets_finish(tickets, [(OrderTicket.Outcome.REJECTED, "", message)] * len(tickets))
        unaudited = [order for i, order in enumerate(orders) if i != audited]
        _audit_each(caller, unaudited, ip, result, message)


def _answered(
    caller: Caller,
    orders: list[dict[str, Any]],
    tickets: list[int],
    reservations: list[int | None],
    results: list[tuple[str, str, str]],
    ip: str | None,
) -> None:
    """The outcome of orders the exchange answered, inside the transaction of whichever step
    writes it (`trading.gateway.outcomes`)."""
    tickets_finish(tickets, results)
    rows = zip(orders, reservations, results, strict=True)
    for order, reservation, (outcome, order_id, message) in rows:
        placed = outcome == OrderTicket.Outcome.PLACED
        _settle(reservation_id=reservation, placed=placed)
        audit_record(
            actor=caller.member,
            action="order_place",
            subaccount=caller.subaccount,
            parameters={**order, "orderId": order_id, "via": caller.via},
            result=AuditEvent.Result.OK if placed else AuditEvent.Result.FAILED,
            detail=message,
            ip=ip,
        )


def _results(status: int, content: bytes, count: int) -> list[tuple[str, str, str]]:
    """(outcome, order id, message) per order from the exchange's answer."""
    try:
        payload = json.loads(content) if content else None
    except ValueError:
        payload = None
    if not 200 <= status < 300:
        text = payload.get("message", "") if isinstance(payload, dict) else str(status)
        return [(OrderTicket.Outcome.REJECTED, "", text)] * count
    items = payload if isinstance(payload, list) else [payload]
    out = []
    for item in (items + [None] * count)[:count]:
        if isinstance(item, dict) and "id" in item:
            out.append((OrderTicket.Outcome.PLACED, str(item["id"]), str(item.get("status", ""))))
        else:
            text = item.get("message", "") if isinstance(item, dict) else "no answer"
            out.append((OrderTicket.Outcome.REJECTED, "", text))
    return out


async def orders_place(
    *,
    api_key: str,
    served: Served,
    subaccount: str | None,
    params: dict[str, Any] | list[dict[str, Any]],
    ip: str | None,
) -> tuple[int, str, bytes, Callable[[], Awaitable[None]]]:
    """Admit the key of a verified order request (`authenticate.script_request_verify`),
    record, gate and forward one order (or a batch); the exchange's answer, and the step
    that records it (reservations settled, tickets finished, audit), which the endpoint runs
    once the answer is on its way (`endpoint.Answer.after`). Until it ran, the reservations
    still count in full, so the gate only errs on the strict side."""
    orders = [dict(o) for o in (params if isinstance(params, list) else [params])]
    acted_on = _acted_on.get((api_key, subaccount))
    read = None
    if acted_on is not None:
        kept = risk_exposure_kept(subaccount_id=acted_on)
        read = None if kept is None else (acted_on, kept)
    earlier = outcomes_take()
    try:
        caller, tickets, gated = await _admit_and_open(
            api_key=api_key,
            served=served,
            subaccount=subaccount,
            ip=ip,
            orders=orders,
            read=read,
            earlier=earlier,
        )
    finally:
        outcomes_settle(earlier)
    if len(_acted_on) >= _ACTED_ON_MAX:
        _acted_on.clear()
    _acted_on[(api_key, subaccount)] = caller.subaccount.pk
    reservations: list[int | None] = []
    try:
        if gated is not None:
            try:
                reserved = await risk_gate_conclude(
                    actor=caller.member,
                    subaccount=caller.subaccount,
                    order=gated.order,
                    result=gated.result,
                    reservation_id=gated.reservation,
                    stops=gated.stops,
                    ip=ip,
                    context={**orders[0], "via": caller.via},
                )
            except RiskRefused as refused:
                raise gate_refusal(refused) from None
            reservations.append(reserved)
        for order in orders[len(reservations) :]:
            reservations.append(await _gate(caller, order, ip))
    except Refusal as refusal:
        denied = AuditEvent.Result.DENIED
        # the order being gated when the refusal came (the gate audited it if it refused it)
        audited = len(reservations) if refusal.audited else None
        await _not_sent(caller, orders, tickets, reservations, ip, denied, refusal.message, audited)
        raise
    route = R.ORDERS_BATCH if served.batch else R.ORDER_PLACE
    try:
        status, content_type, content = await exchange_forward(
            route, orders if served.batch else orders[0], subaccount=caller.subaccount
        )
    except Refusal as refusal:
        if refusal.status == 502:  # the order may have reached the exchange: keep it counted
            await _audit_orders(caller, orders, ip, AuditEvent.Result.FAILED, refusal.message)
        else:
            failed = AuditEvent.Result.FAILED
            await _not_sent(caller, orders, tickets, reservations, ip, failed, refusal.message)
        raise
    results = _results(status, content, len(orders))

    async def record() -> None:
        if gated is not None:  # checked with a kept read: the next one is read ahead
            risk_exposure_refresh_ahead(subaccount=caller.subaccount)
        await outcome_record(
            functools.partial(_answered, caller, orders, tickets, reservations, results, ip)
        )

    return status, content_type, content, record


def _audit_each(
    caller: Caller, orders: list[dict[str, Any]], ip: str | None, result: str, detail: str
) -> None:
    for order in orders:
        audit_record(
            actor=caller.member,
            action="order_place",
            subaccount=caller.subaccount,
            parameters={**order, "via": caller.via},
            result=result,
            detail=detail,
            ip=ip,
        )


_audit_orders = sync_to_async(_audit_each)


async def orders_cancel(
    caller: Caller, route: R.Route, params: dict[str, Any], *, ip: str | None
) -> tuple[int, str, bytes]:
    """Forward a cancel (one order, or all in a market) and audit it as the member's."""
    action = "order_cancel" if route is R.ORDER_CANCEL else "orders_cancel_all"
    try:
        status, content_type, content = await exchange_forward(
            route, params, subaccount=caller.subaccount
        )
    except Refusal as refusal:
        await _audit(
            actor=caller.member,
            action=action,
            subaccount=caller.subaccount,
            parameters={**params, "via": caller.via},
            result=AuditEvent.Result.FAILED,
            detail=refusal.message,
            ip=ip,
        )
        raise
    ok = 200 <= status < 300
    await _audit(
        actor=caller.member,
        action=action,
        subaccount=caller.subaccount,
        parameters={**params, "via": caller.via},
        result=AuditEvent.Result.OK if ok else AuditEvent.Result.FAILED,
        detail="" if ok else content[:500].decode(errors="replace"),
        ip=ip,
    )
    return status, content_type, content
