"""Orders sent by scripts: every one passes the risk gate before it is signed, is recorded
with a desk ticket (its `clientId` and the key's member, so PnL by member counts it) and
audited as the member's, naming the key it came through.

A script's own `clientId` is kept (it may look its order up by it); an order without one
gets a desk clientId, as the ticket does.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.audit import audit_record
from accounts.models import AuditEvent
from trading.backpack import Side
from trading.backpack import routes as R
from trading.backpack.decimals import parse_decimal
from trading.backpack.errors import BackpackError
from trading.backpack.orders import new_client_id
from trading.exchange import exchange_session
from trading.gateway.admit import Caller
from trading.gateway.errors import Refusal, bad_request
from trading.gateway.forward import exchange_forward
from trading.models import OrderTicket
from trading.risk.services import RiskRefused, risk_gate_admit, risk_reservation_settle
from trading.selectors import EXCHANGE_ERRORS, best_prices, exchange_error_text

_audit = sync_to_async(audit_record)

# The exchange's own codes for a limit, so clients map the refusal as they map its own.
_LIMIT_CODES = {"max_leverage": "MAX_LEVERAGE_REACHED"}
_POSITION_LIMITS = ("max_position_notional_market", "max_position_notional_total")


def _refusal_code(limit: str) -> str:
    if limit in _POSITION_LIMITS:
        return "POSITION_LIMIT"
    return _LIMIT_CODES.get(limit, "ORDER_LIMIT")


def _decimal(order: dict[str, Any], name: str) -> Decimal | None:
    value = order.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad_request(f"Invalid parameter `{name}`: expected a number")
    try:
        return parse_decimal(value if isinstance(value, str) else str(value), field=name)
    except BackpackError as error:
        raise bad_request(f"Invalid parameter `{name}`: {error.message}") from None


async def _notional(order: dict[str, Any], side: Side) -> Decimal:
    """The order's notional in its quote asset, as the ticket computes it."""
    quote_quantity = _decimal(order, "quoteQuantity")
    if quote_quantity is not None:
        return quote_quantity
    quantity = _decimal(order, "quantity") or Decimal(0)
    price = _decimal(order, "price")
    if order.get("orderType") == "Limit" and price is not None:
        return quantity * price
    symbol = str(order["symbol"])
    prices = await best_prices(symbol)
    best = prices.ask if side == Side.BID else prices.bid
    if best is None:
        best = (await exchange_session().client().ticker(symbol)).last_price
    return quantity * best


def _order_fields(order: dict[str, Any]) -> tuple[str, Side, bool]:
    symbol = order.get("symbol")
    side = order.get("side")
    if not isinstance(symbol, str) or not symbol:
        raise bad_request("Invalid parameter `symbol`: required")
    if side not in ("Bid", "Ask"):
        raise bad_request("Invalid parameter `side`: expected Bid or Ask")
    reduce_only = order.get("reduceOnly") in (True, "true")
    return symbol, Side(side), reduce_only


async def _gate(caller: Caller, order: dict[str, Any]) -> int | None:
    symbol, side, reduce_only = _order_fields(order)
    try:
        notional = Decimal(0) if reduce_only else await _notional(order, side)
        return await risk_gate_admit(
            actor=caller.member,
            subaccount=caller.subaccount,
            symbol=symbol,
            side=side,
            notional=notional,
            reduce_only=reduce_only,
            quote=symbol.split("_")[1] if "_" in symbol else "USDC",
        )
    except RiskRefused as refused:
        raise Refusal(400, _refusal_code(refused.limit), refused.message) from None
    except EXCHANGE_ERRORS as error:
        raise Refusal(
            502,
            "SERVER_ERROR",
            f"The desk could not check the risk limits: {exchange_error_text(error)}",
        ) from None


@sync_to_async
def _tickets_open(caller: Caller, orders: list[dict[str, Any]]) -> list[OrderTicket]:
    return [
        OrderTicket.objects.create(
            token=f"bpx:{uuid.uuid4().hex}",
            client_id=order["clientId"],
            subaccount=caller.subaccount,
            actor=caller.member,
            symbol=str(order["symbol"]),
        )
        for order in orders
    ]


@sync_to_async
def _tickets_finish(tickets: list[OrderTicket], results: list[tuple[str, str, str]]) -> None:
    for ticket, (outcome, order_id, message) in zip(tickets, results, strict=True):
        OrderTicket.objects.filter(pk=ticket.pk).update(
            outcome=outcome, order_id=order_id, message=message[:2000]
        )


# After the exchange answered: settle the reservations, finish the tickets and audit, in one
# transaction (one commit where it was three; each is a synced write on SQLite, measured by
# bench_gateway). The gate's settle is called in this thread (`.func` of its sync_to_async).
_settle = risk_reservation_settle.func


@sync_to_async
def _answered(
    caller: Caller,
    orders: list[dict[str, Any]],
    tickets: list[OrderTicket],
    reservations: list[int | None],
    results: list[tuple[str, str, str]],
    ip: str | None,
) -> None:
    with transaction.atomic():
        rows = zip(orders, tickets, reservations, results, strict=True)
        for order, ticket, reservation, (outcome, order_id, message) in rows:
            placed = outcome == OrderTicket.Outcome.PLACED
            _settle(reservation_id=reservation, placed=placed)
            OrderTicket.objects.filter(pk=ticket.pk).update(
                outcome=outcome, order_id=order_id, message=message[:2000]
            )
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
    caller: Caller, params: dict[str, Any] | list[dict[str, Any]], *, batch: bool, ip: str | None
) -> tuple[int, str, bytes]:
    """Gate, record, forward and audit one order (or a batch); the exchange's answer."""
    orders = [dict(o) for o in (params if isinstance(params, list) else [params])]
    for order in orders:
        order.setdefault("clientId", new_client_id())
    reservations: list[int | None] = []
    try:
        for order in orders:
            reservations.append(await _gate(caller, order))
    except Refusal as refusal:
        for reservation in reservations:
            await risk_reservation_settle(reservation_id=reservation, placed=False)
        await _audit_orders(caller, orders, ip, AuditEvent.Result.DENIED, refusal.message)
        raise
    tickets = await _tickets_open(caller, orders)
    route = R.ORDERS_BATCH if batch else R.ORDER_PLACE
    try:
        status, content_type, content = await exchange_forward(
            route, orders if batch else orders[0], subaccount=caller.subaccount
        )
    except Refusal as refusal:
        unknown = refusal.status == 502  # the order may have reached the exchange
        for reservation in reservations:
            if not unknown:
                await risk_reservation_settle(reservation_id=reservation, placed=False)
        if not unknown:
            rejected = (OrderTicket.Outcome.REJECTED, "", refusal.message)
            await _tickets_finish(tickets, [rejected] * len(tickets))
        await _audit_orders(caller, orders, ip, AuditEvent.Result.FAILED, refusal.message)
        raise
    results = _results(status, content, len(orders))
    await _answered(caller, orders, tickets, reservations, results, ip)
    return status, content_type, content


async def _audit_orders(
    caller: Caller, orders: list[dict[str, Any]], ip: str | None, result: str, detail: str
) -> None:
    for order in orders:
        await _audit(
            actor=caller.member,
            action="order_place",
            subaccount=caller.subaccount,
            parameters={**order, "via": caller.via},
            result=result,
            detail=detail,
            ip=ip,
        )


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
