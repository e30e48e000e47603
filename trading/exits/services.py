"""Setting, moving and removing a position's take-profit / stop-loss (trader role).

An exit is a reduce-only trigger order on the closing side for a percent of the position as
it is when the trigger fires (`BackpackClient.place_position_exit`); the exchange expires it
when the position closes. It only reduces risk, so the gate lets it pass (nothing reserved),
but it goes through the gate like every order. Moving is cancel then place (the exchange has
no amend); a limit exit keeps its limit as far from its trigger as it was. If the new one is
refused (a limit outside the price band, say) the old one is put back where it was, so a
failed move never leaves a position without the exit it had (audited as
``position_exit_restore``; a restore the exchange refuses too is logged and audited).
Every exit is sent with a desk ticket in the member's name (its clientId), so its fills
are the member's in PnL by member and its row names them. Every change leaves one audit
record.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from accounts.errors import ServiceError
from accounts.models import Subaccount
from trading.audited import audited, require_trader
from trading.backpack import BackpackError, Order, OrderStatus, Side, TriggerBy
from trading.backpack.errors import InvalidOrderError, OrderNotFoundError
from trading.desk_tickets import desk_tickets_finish, desk_tickets_record
from trading.exchange import client_for
from trading.failures import failure_reason
from trading.formatting import plain, price
from trading.risk.services import risk_gate_admit
from trading.selectors.markets import market_get

log = logging.getLogger(__name__)


class ExitError(ServiceError):
    """An exit that cannot be set as asked; the message says why."""


# What to correct on the position card's exit form, by the field the exchange client names
# (its own words, "Correct the order and send it again.", name no form).
EXIT_CORRECTIONS = {
    "triggerPrice": "Correct the trigger price in the exit form.",
    "price": "Correct the limit price in the exit form.",
    "triggerQuantity": "Correct the share of the position in the exit form.",
}
EXIT_CORRECTION = "Correct the exit form's trigger price, share and limit price."


MARK_MULTIPLE = Decimal(10)
NEARER = "Type a price nearer the market."


async def _prices_check(
    client: Any,
    symbol: str,
    trigger_price: Decimal,
    limit_price: Decimal | None,
    mark: Decimal | None = None,
) -> None:
    """Refuse (`ExitError`, in the words of the field it names) a trigger or limit price
    outside the market's price filter (``minPrice`` / ``maxPrice`` of its definition) or more
    than `MARK_MULTIPLE` times away from the mark price (a tenth of it below): an exit there
    would never trigger, or the exchange would refuse its order when it does. Nothing is sent.
    ``mark``: the position's mark price when the caller has it; read otherwise."""
    market = await market_get(symbol)
    if mark is None:
        marks = [m.mark_price for m in await client.mark_prices(symbol) if m.symbol == symbol]
        mark = marks[0] if marks else None
    prices = (
        ("Trigger price", trigger_price, "an exit there would never trigger"),
        ("Limit price", limit_price, "the exchange would refuse it"),
    )
    for label, value, why in prices:
        if value is None:
            continue
        typed = plain(value)
        if market.max_price is not None and value > market.max_price:
            most = price(market.max_price, market)
            raise ExitError(f"{label}: {typed} is above the highest price of {symbol}, {most}.")
        if value < market.min_price:
            least = price(market.min_price, market)
            raise ExitError(f"{label}: {typed} is below the lowest price of {symbol}, {least}.")
        if not mark or mark <= 0:
            continue
        shown = f"the mark price {price(mark, market)} of {symbol}: {why}. {NEARER}"
        if value > mark * MARK_MULTIPLE:
            raise ExitError(f"{label}: {typed} is more than {MARK_MULTIPLE} times {shown}")
        if value * MARK_MULTIPLE < mark:
            raise ExitError(f"{label}: {typed} is less than a tenth of {shown}")


def _exit_correction(error: BackpackError) -> None:
    """Word what to do about a refused exit in the exit form's terms."""
    if isinstance(error, InvalidOrderError) and not isinstance(error, OrderNotFoundError):
        error.action = EXIT_CORRECTIONS.get(error.field or "", EXIT_CORRECTION)


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
    await require_trader(actor, subaccount, action, ip, parameters)
    client = client_for(subaccount)
    async with audited(
        actor=actor,
        subaccount=subaccount,
        action=action,
        ip=ip,
        parameters=parameters,
        errors=(ExitError, BackpackError),
        detail=failure_reason,
    ) as call:
        positions = [p for p in await client.positions(symbol) if p.symbol == symbol]
        size = sum((p.net_quantity for p in positions), Decimal(0))
        if not size:
            raise ExitError(f"There is no open position in {symbol} to protect.")
        exit_side = Side.ASK if size > 0 else Side.BID
        parameters["side"] = exit_side.value
        await _prices_check(client, symbol, trigger_price, limit_price, positions[0].mark_price)
        await risk_gate_admit(  # an exit only reduces risk: it passes, nothing reserved
            actor=actor,
            subaccount=subaccount,
            symbol=symbol,
            side=exit_side,
            notional=Decimal(0),
            reduce_only=True,
            action=action,
        )
        tickets, (client_id,) = await desk_tickets_record(
            actor=actor, subaccount=subaccount, symbol=symbol, count=1, source="exit"
        )
        parameters["clientId"] = client_id
        try:
            order = await client.place_position_exit(
                symbol,
                exit_side,
                trigger_price=trigger_price,
                percent=percent,
                limit_price=limit_price,
                trigger_by=trigger_by,
                client_id=client_id,
            )
        except BackpackError as error:
            _exit_correction(error)
            await desk_tickets_finish(tickets=tickets, results=[error])
            raise
        await desk_tickets_finish(tickets=tickets, results=[order])
        call.outcome(detail=order.status.value, orderId=order.id)
    return order


async def position_exit_remove(
    *, actor: Any, subaccount: Subaccount, symbol: str, order_id: str, ip: str | None = None
) -> Order:
    """Remove one exit (cancel its trigger order); one already gone answers its final state."""
    parameters = {"symbol": symbol, "orderId": order_id}
    await require_trader(actor, subaccount, "position_exit_remove", ip, parameters)
    async with audited(
        actor=actor,
        subaccount=subaccount,
        action="position_exit_remove",
        ip=ip,
        parameters=parameters,
        errors=BackpackError,
        detail=failure_reason,
    ) as call:
        order = await client_for(subaccount).cancel_order(symbol, order_id=order_id)
        call.outcome(detail=order.status.value)
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
    percent unless another is given; its trigger reference; a limit exit stays one, its limit
    moved as far as its trigger unless another limit is given). A new price far off the
    market is refused before the exit is removed."""
    await _prices_check(client_for(subaccount), symbol, trigger_price, limit_price)
    old = await position_exit_remove(
        actor=actor, subaccount=subaccount, symbol=symbol, order_id=order_id, ip=ip
    )
    if limit_price is None and old.price is not None and old.trigger_price is not None:
        limit_price = old.price + (trigger_price - old.trigger_price)
    same = {
        "actor": actor,
        "subaccount": subaccount,
        "symbol": symbol,
        "percent": percent if percent is not None else (old.trigger_percent or Decimal(100)),
        "trigger_by": old.trigger_by or TriggerBy.MARK_PRICE,
        "ip": ip,
    }
    try:
        return await position_exit_set(
            trigger_price=trigger_price,
            limit_price=limit_price,
            action="position_exit_move",
            **same,
        )
    except (ExitError, BackpackError):
        if old.trigger_price is not None and old.status is OrderStatus.CANCELLED:
            await _restore(old, same)
        raise


async def _restore(old: Order, same: dict[str, Any]) -> None:
    """Put a moved exit back where it was (its own percent, limit and reference)."""
    try:
        await position_exit_set(
            **{**same, "percent": old.trigger_percent or Decimal(100)},
            trigger_price=old.trigger_price,
            limit_price=old.price,
            action="position_exit_restore",
        )
    except (ExitError, BackpackError) as error:  # audited as failed by the set
        log.warning("exit %s of %s not put back after a failed move: %s", old.id, old.symbol, error)
