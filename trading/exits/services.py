"""Setting, moving and removing a position's take-profit / stop-loss (trader role).

An exit is a reduce-only trigger order on the closing side for a percent of the position as
it is when the trigger fires (`BackpackClient.place_position_exit`); the exchange expires it
when the position closes. It only reduces risk, so the gate lets it pass (nothing reserved),
but it goes through the gate like every order. Moving is cancel then place (the exchange has
no amend); if the new one is refused the old one is already gone, which the message says.
Every change leaves one audit record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.models import AuditEvent, Role, Subaccount
from accounts.permissions import require_role
from trading.backpack import BackpackError, Order, Side, TriggerBy
from trading.exchange import client_for
from trading.risk.services import risk_gate_admit

_audit = sync_to_async(audit_record)


class ExitError(ServiceError):
    """An exit that cannot be set as asked; the message says why."""


async def _require_trader(
    actor: Any, subaccount: Subaccount, action: str, parameters: dict[str, Any], ip: str | None
) -> None:
    try:
        await sync_to_async(require_role)(actor, subaccount, Role.TRADER)
    except PermissionDenied as denied:
        await _audit(
            actor=actor,
            action=action,
            subaccount=subaccount,
            parameters=parameters,
            result=AuditEvent.Result.DENIED,
            detail=str(denied),
            ip=ip,
        )
        raise


async def _failed(
    actor: Any,
    subaccount: Subaccount,
    action: str,
    parameters: dict[str, Any],
    detail: str,
    ip: str | None,
) -> None:
    await _audit(
        actor=actor,
        action=action,
        subaccount=subaccount,
        parameters=parameters,
        result=AuditEvent.Result.FAILED,
        detail=detail,
        ip=ip,
    )


async def position_exit_set(
    *,
    actor: Any,
    subaccount: Subaccount,
    symbol: str,
    trigger_price: Decimal,
    percent: Decimal = Decimal(100),
    limit_price: Decimal | None = None,
    trigger_by: TriggerBy = TriggerBy.MARK_PRICE,
    ip: str | None = None,
    action: str = "position_exit_set",
) -> Order:
    """Set a take-profit or stop-loss on the open position in ``symbol``: which one follows
    from where ``trigger_price`` is against the mark (above a long's: take-profit).

    Raises `ExitError` without a position, `PermissionDenied`, or the client's errors."""
    parameters: dict[str, Any] = {
        "symbol": symbol,
        "triggerPrice": trigger_price,
        "percent": percent,
        "limitPrice": limit_price,
        "triggerBy": str(trigger_by),
    }
    await _require_trader(actor, subaccount, action, parameters, ip)
    client = client_for(subaccount)
    try:
        positions = [p for p in await client.positions(symbol) if p.symbol == symbol]
        size = sum((p.net_quantity for p in positions), Decimal(0))
        if not size:
            raise ExitError(f"There is no open position in {symbol} to protect.")
        exit_side = Side.ASK if size > 0 else Side.BID
        parameters["side"] = exit_side.value
        await risk_gate_admit(  # an exit only reduces risk: it passes, nothing reserved
            actor=actor,
            subaccount=subaccount,
            symbol=symbol,
            side=exit_side,
            notional=Decimal(0),
            reduce_only=True,
            action=action,
        )
        order = await client.place_position_exit(
            symbol,
            exit_side,
            trigger_price=trigger_price,
            percent=percent,
            limit_price=limit_price,
            trigger_by=trigger_by,
        )
    except ExitError as error:
        await _failed(actor, subaccount, action, parameters, error.message, ip)
        raise
    except BackpackError as error:
        await _failed(actor, subaccount, action, parameters, error.message, ip)
        raise
    await _audit(
        actor=actor,
        action=action,
        subaccount=subaccount,
        parameters={**parameters, "orderId": order.id},
        detail=order.status.value,
        ip=ip,
    )
    return order


async def position_exit_remove(
    *, actor: Any, subaccount: Subaccount, symbol: str, order_id: str, ip: str | None = None
) -> Order:
    """Remove one exit (cancel its trigger order); one already gone answers its final state."""
    parameters = {"symbol": symbol, "orderId": order_id}
    await _require_trader(actor, subaccount, "position_exit_remove", parameters, ip)
    try:
        order = await client_for(subaccount).cancel_order(symbol, order_id=order_id)
    except BackpackError as error:
        await _failed(actor, subaccount, "position_exit_remove", parameters, error.message, ip)
        raise
    await _audit(
        actor=actor,
        action="position_exit_remove",
        subaccount=subaccount,
        parameters=parameters,
        detail=order.status.value,
        ip=ip,
    )
    return order


async def position_exit_move(
    *,
    actor: Any,
    subaccount: Subaccount,
    symbol: str,
    order_id: str,
    trigger_price: Decimal,
    percent: Decimal | None = None,
    limit_price: Decimal | None = None,
    ip: str | None = None,
) -> Order:
    """Move an exit to ``trigger_price``: cancel it, then set the same exit there (its
    percent unless another is given; its trigger reference)."""
    old = await position_exit_remove(
        actor=actor, subaccount=subaccount, symbol=symbol, order_id=order_id, ip=ip
    )
    return await position_exit_set(
        actor=actor,
        subaccount=subaccount,
        symbol=symbol,
        trigger_price=trigger_price,
        percent=percent if percent is not None else (old.trigger_percent or Decimal(100)),
        limit_price=limit_price,
        trigger_by=old.trigger_by or TriggerBy.MARK_PRICE,
        ip=ip,
        action="position_exit_move",
    )
