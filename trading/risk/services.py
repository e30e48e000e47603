"""The risk gate in the service layer: every order passes `risk_gate_admit` before it is signed.

Steps for one order (outside any transaction, then one short transaction, then the exchange):

1. Read the subaccount's exposure from the exchange (positions, open orders, net equity) and
   note when the read started; a read of this process younger than a second is used again
   (`trading.risk.exposure`).
2. In one transaction holding the subaccount's limit row (`SELECT ... FOR UPDATE`, so several
   dashboard processes queue here): add the reservations of orders in flight that the read
   cannot have seen, run the pure `risk_gate_check` (the subaccount's limits against the
   whole subaccount, the member's own limits against what the member's orders built), and on
   a pass insert this order's reservation (`trading.risk.reservations`). The check and the
   reservation are one atomic step; the exchange is not called inside it.
3. The caller sends the order, then calls `risk_reservation_settle` with the outcome: a
   refused order frees its headroom at once; a placed one keeps counting for reads that
   started before it was placed, and is forgotten after `RESERVATION_TTL`. A strategy's
   (TWAP) is held instead (`risk_reservation_hold`): it counts until the strategy ends.

An order that only reduces risk (reduce-only, a close) passes without reserving anything. A
refusal is recorded as a `RiskBreach`, audited, and raised as `RiskRefused` whose message
names the limit, its value and what is left.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.models import AuditEvent, Subaccount
from trading.backpack import Side
from trading.failures import EXCHANGE_ERRORS
from trading.models import RiskBreach, RiskLimit
from trading.monitoring.alerts import AlertChange
from trading.risk.exposure import (
    ExposureRead,
    risk_exposure_current,
    risk_exposure_read,
)
from trading.risk.gate import (
    ZERO,
    Exposure,
    GateOrder,
    GateResult,
    Limits,
    MarketExposure,
    amount_text,
    headroom,
    risk_gate_check,
    tightest,
)
from trading.risk.loss import (
    alerts_push,
    loss_day,
    loss_stop_in_effect,
    loss_stop_twaps_stop,
    loss_stops_apply,
)
from trading.risk.reservations import (
    InFlight,
    limit_rows,
    reservations_in_flight,
    reserve,
)
from trading.risk.reservations import (  # a running strategy's reservation (TWAP)
    risk_reservation_hold as risk_reservation_hold,
)
from trading.risk.reservations import (  # the gate's callers settle through this module
    risk_reservation_settle as risk_reservation_settle,
)
from trading.risk.reservations import (
    risk_reservation_settle_now as risk_reservation_settle_now,
)
from trading.risk.reservations import (
    risk_reservation_strategies_seen as risk_reservation_strategies_seen,
)
from trading.risk.reservations import (
    risk_reservation_strategy_end as risk_reservation_strategy_end,
)

# Defaults for a subaccount without limits, as fractions of its net equity at first order.
log = logging.getLogger(__name__)

DEFAULT_ORDER_FRACTION = Decimal("0.25")
DEFAULT_MARKET_FRACTION = Decimal("1")
DEFAULT_TOTAL_FRACTION = Decimal("2")
DEFAULT_LEVERAGE = Decimal("3")
DEFAULT_OPEN_ORDERS = 50
DEFAULT_DAILY_LOSS_FRACTION = Decimal("0.05")


class RiskRefused(ServiceError):
    """The gate refused an order; the message names the limit, its value and what is left."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


def limits_of(row: RiskLimit | None, day: date | None = None) -> Limits:
    """A `RiskLimit` row as the gate's `Limits` (no row: no limit from this level); its daily
    loss stop counts when it holds on ``day`` (today in the team's time zone by default)."""
    if row is None:
        return Limits()
    markets = [m.strip().upper() for m in row.allowed_markets.split(",") if m.strip()]
    return Limits(
        max_order_notional=row.max_order_notional,
        max_position_notional_market=row.max_position_notional_market,
        max_position_notional_total=row.max_position_notional_total,
        max_open_orders=row.max_open_orders,
        max_leverage=row.max_leverage,
        allowed_markets=frozenset(markets) if markets else None,
        daily_loss_limit=row.daily_loss_limit,
        reduce_only=row.reduce_only,
        reduce_only_reason=row.reduce_only_reason,
        loss_stop=loss_stop_in_effect(row, day or loss_day()),
    )


def risk_default_limits(equity: Decimal | None) -> dict[str, Any]:
    """A new subaccount's limits, relative to its net equity (zero when it is unknown)."""
    base = max(equity or ZERO, ZERO)
    return {
        "max_order_notional": base * DEFAULT_ORDER_FRACTION,
        "max_position_notional_market": base * DEFAULT_MARKET_FRACTION,
        "max_position_notional_total": base * DEFAULT_TOTAL_FRACTION,
        "max_open_orders": DEFAULT_OPEN_ORDERS,
        "max_leverage": DEFAULT_LEVERAGE,
        "daily_loss_limit": base * DEFAULT_DAILY_LOSS_FRACTION,
    }


def _limit_rows_locked(
    subaccount: Subaccount, member: Any | None, equity: Decimal | None
) -> dict[int | None, RiskLimit]:
    """The limit rows, locked; the subaccount's is created with defaults (audited) when
    missing."""
    rows = limit_rows(subaccount, member)
    if None in rows:
        return rows
    values = risk_default_limits(equity)
    _row, created = RiskLimit.objects.get_or_create(
        subaccount=subaccount, member=None, defaults=values
    )
    if created:
        audit_record(
            actor=None,
            action="risk_limits_default",
            subaccount=subaccount,
            parameters={**values, "net_equity": equity},
            detail="defaults relative to net equity, set before the first order",
        )
    return limit_rows(subaccount, member)


def _with_in_flight(
    exposure: Exposure, reservations: list[InFlight], member_id: int | None = None
) -> Exposure:
    """The exposure plus the reservations in flight (only ``member_id``'s when given)."""
    # Summed per market and side, one `MarketExposure` built per market touched: there are
    # as many reservations as orders placed since the last exchange read (bench_gateway).
    markets = exposure.markets
    buys: dict[str, Decimal] = {}
    sells: dict[str, Decimal] = {}
    touched: dict[str, None] = {}
    count = 0
    for symbol, buy, notional, who, alike in reservations:
        if member_id is not None and who != member_id:
            continue
        sums = buys if buy else sells
        total = sums.get(symbol)
        if total is None:
            held = markets.get(symbol)
            total = ZERO if held is None else held.open_buys if buy else held.open_sells
        sums[symbol] = total + notional * alike
        touched[symbol] = None
        count += alike
    changed = dict(markets)
    for symbol in touched:
        held = markets.get(symbol) or MarketExposure()
        changed[symbol] = MarketExposure(
            held.position, buys.get(symbol, held.open_buys), sells.get(symbol, held.open_sells)
        )
    return Exposure(
        markets=changed,
        open_orders=exposure.open_orders + count,
        net_equity=exposure.net_equity,
        daily_loss=exposure.daily_loss,
    )


def _gate_check(
    *,
    rows: dict[int | None, RiskLimit],
    member_id: int | None,
    read: ExposureRead,
    in_flight: list[InFlight],
    order: GateOrder,
) -> GateResult:
    """The subaccount's limits against the whole subaccount's exposure, and the member's own
    limits (when the member has a row) against what the member's own orders built; a refusal
    names the limit that binds (`tightest`), the member's own when it is the tighter."""
    whole = _with_in_flight(read.exposure, in_flight)
    day = read.day or loss_day()
    result = risk_gate_check(limits=limits_of(rows.get(None), day), exposure=whole, order=order)
    own = rows.get(member_id) if member_id is not None else None
    if own is None:
        return result
    mine = _with_in_flight(read.member(member_id), in_flight, member_id)
    return tightest(result, risk_gate_check(limits=limits_of(own, day), exposure=mine, order=order))


def risk_gate_reserve_now(
    *, actor: Any, subaccount: Subaccount, order: GateOrder, read: ExposureRead
) -> tuple[GateResult, int | None, list[AlertChange]]:
    """The gate's step 2 for a caller already in the database thread and inside its own
    transaction (the script endpoint records its tickets in the same one): the limit rows
    locked, the loss stops applied, the check and, on a pass, the reservation. Conclude with
    `risk_gate_conclude` once the transaction is over."""
    member = actor if getattr(actor, "is_authenticated", False) else None
    member_id = getattr(member, "pk", None)
    rows = _limit_rows_locked(subaccount, member, read.exposure.net_equity)
    stops = loss_stops_apply(subaccount=subaccount, rows=rows, losses=read.losses, day=read.day)
    in_flight = reservations_in_flight(subaccount, read.started_at)
    result = _gate_check(
        rows=rows, member_id=member_id, read=read, in_flight=in_flight, order=order
    )
    if not result.allowed:
        return result, None, stops
    return result, reserve(subaccount, member_id, order), stops


@sync_to_async
def _check_and_reserve(
    *, actor: Any, subaccount: Subaccount, order: GateOrder, read: ExposureRead
) -> tuple[GateResult, int | None, list[AlertChange]]:
    with transaction.atomic():
        return risk_gate_reserve_now(actor=actor, subaccount=subaccount, order=order, read=read)


@sync_to_async
def _breach_record(
    *,
    actor: Any,
    subaccount: Subaccount,
    order: GateOrder,
    result: GateResult,
    action: str,
    ip: str | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    signed_in = getattr(actor, "is_authenticated", False)
    RiskBreach.objects.create(
        subaccount=subaccount,
        member=actor if signed_in else None,
        member_name=actor.get_username() if signed_in else "",
        symbol=order.symbol,
        limit=result.limit,
        message=result.message,
    )
    audit_record(
        actor=actor,
        action=action,
        subaccount=subaccount,
        parameters={
            **(context or {}),
            "symbol": order.symbol,
            "side": "Bid" if order.buy else "Ask",
            "notional": order.notional,
            "limit": result.limit,
        },
        result=AuditEvent.Result.DENIED,
        detail=result.message,
        ip=ip,
    )


async def risk_gate_admit(
    *,
    actor: Any,
    subaccount: Subaccount,
    symbol: str,
    side: Side,
    notional: Decimal,
    reduce_only: bool = False,
    quote: str = "USDC",
    action: str = "order_place",
    read: ExposureRead | None = None,
    ip: str | None = None,
    context: dict[str, Any] | None = None,
) -> int | None:
    """Pass one order through the gate before it is signed; return its reservation id.

    Reduce-only orders (closes are reduce-only) pass at once (None: nothing reserved): the
    exchange itself refuses a reduce-only order that would grow the position. An order
    without the flag is checked even when it happens to reduce the position, because several
    of them in flight could together flip it. Others are checked against the stricter of the
    subaccount's and the member's limits with the exposure read now plus orders in flight;
    a refusal is recorded and raised as `RiskRefused`. Call `risk_reservation_settle` after
    the exchange answered. `read`: the exposure when the caller read it already (the ticket
    reads it while it claims its token); read now when None. A refusal is audited once, by
    the gate, with `ip` and `context` (what the caller knows of the order: its fields, the
    key it came through) beside the gate's own fields.
    """
    order = risk_gate_order(
        symbol=symbol, side=side, notional=notional, quote=quote, reduce_only=reduce_only
    )
    if reduce_only:
        return None
    if read is None:
        read = await risk_exposure_current(subaccount=subaccount)
    result, reservation_id, stops = await _check_and_reserve(
        actor=actor, subaccount=subaccount, order=order, read=read
    )
    return await risk_gate_conclude(
        actor=actor,
        subaccount=subaccount,
        order=order,
        result=result,
        reservation_id=reservation_id,
        stops=stops,
        action=action,
        ip=ip,
        context=context,
    )


def risk_gate_order(
    *, symbol: str, side: Side, notional: Decimal, quote: str = "USDC", reduce_only: bool = False
) -> GateOrder:
    """One order as the gate checks it."""
    return GateOrder(
        symbol=symbol, buy=side == Side.BID, notional=notional, quote=quote, reduce_only=reduce_only
    )


async def risk_gate_conclude(
    *,
    actor: Any,
    subaccount: Subaccount,
    order: GateOrder,
    result: GateResult,
    reservation_id: int | None,
    stops: list[AlertChange],
    action: str = "order_place",
    ip: str | None = None,
    context: dict[str, Any] | None = None,
) -> int | None:
    """After `risk_gate_reserve_now`'s transaction: the bells of any loss stop pushed; a
    refusal recorded (audited with `ip` and `context`, see `risk_gate_admit`) and raised as
    `RiskRefused`; else the reservation id. A level the loss limit just stopped has its
    running TWAPs stopped too (`loss_stop_twaps_stop`)."""
    await alerts_push(stops)
    if stops:
        try:
            await loss_stop_twaps_stop(subaccount=subaccount)
        except EXCHANGE_ERRORS as error:  # the ledger keeper's next check tries again
            log.warning("stopping the TWAPs of %s failed: %s", subaccount.pk, error)
    if not result.allowed:
        await _breach_record(
            actor=actor,
            subaccount=subaccount,
            order=order,
            result=result,
            action=action,
            ip=ip,
            context=context,
        )
        raise RiskRefused(result.message, limit=result.limit)
    return reservation_id


@sync_to_async
def _limits_now(
    *, actor: Any, subaccount: Subaccount, read: ExposureRead
) -> tuple[Limits, list[tuple[Limits, Exposure]]]:
    """The effective limits (defaults, unsaved, when none are set) and each level's limits
    with the exposure they are checked against (whole subaccount; the member's own)."""
    member = actor if getattr(actor, "is_authenticated", False) else None
    row = RiskLimit.objects.filter(subaccount=subaccount, member__isnull=True).first()
    if row is None:
        row = RiskLimit(subaccount=subaccount, **risk_default_limits(read.exposure.net_equity))
    own = RiskLimit.objects.filter(subaccount=subaccount, member=member).first() if member else None
    in_flight = reservations_in_flight(subaccount, read.started_at)
    day = read.day or loss_day()
    levels = [(limits_of(row, day), _with_in_flight(read.exposure, in_flight))]
    if own is not None:
        mine = _with_in_flight(read.member(member.pk), in_flight, member.pk)
        levels.append((limits_of(own, day), mine))
    return limits_of(row, day).stricter(limits_of(own, day)), levels


async def risk_headroom_text(
    *, actor: Any, subaccount: Subaccount, symbol: str, side: Side, quote: str = "USDC"
) -> str:
    """What the ticket shows before sending: how much more this member may add here now."""
    read = await risk_exposure_read(subaccount=subaccount)
    limits, levels = await _limits_now(actor=actor, subaccount=subaccount, read=read)
    if limits.reduce_only:
        why = f" ({limits.reduce_only_reason})" if limits.reduce_only_reason else ""
        return f"Reduce-only{why}: only orders that reduce risk will pass."
    if limits.loss_stop:
        return f"Reduce-only ({limits.loss_stop}): only orders that reduce risk will pass."
    if limits.allowed_markets is not None and symbol not in limits.allowed_markets:
        return f"{symbol} is not an allowed market: only orders that reduce risk will pass."
    buy = side == Side.BID
    rooms = [
        room
        for level, exposure in levels
        if (room := headroom(limits=level, exposure=exposure, symbol=symbol, buy=buy)) is not None
    ]
    if not rooms:
        return f"No risk limit on {symbol}."
    verb = "buy" if buy else "sell"
    return f"Headroom: max {amount_text(min(rooms), left=True)} {quote} more to {verb} in {symbol}."
