"""The risk gate in the service layer: every order passes `risk_gate_admit` before it is signed.

Steps for one order (outside any transaction, then one short transaction, then the exchange):

1. Read the subaccount's exposure from the exchange (positions, open orders, net equity) and
   note when the read started.
2. In one transaction holding the subaccount's limit row (`SELECT ... FOR UPDATE`, so several
   dashboard processes queue here): add the reservations of orders in flight that the read
   cannot have seen, run the pure `risk_gate_check`, and on a pass insert this order's
   reservation. The check and the reservation are one atomic step; the exchange is not
   called inside it.
3. The caller sends the order, then calls `risk_reservation_settle` with the outcome: a
   refused order frees its headroom at once; a placed one keeps counting for reads that
   started before it was placed, and is forgotten after `RESERVATION_TTL`.

An order that only reduces risk (reduce-only, a close) passes without reserving anything. A
refusal is recorded as a `RiskBreach`, audited, and raised as `RiskRefused` whose message
names the limit, its value and what is left.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.models import AuditEvent, Subaccount
from trading.backpack import Side
from trading.exchange import client_for
from trading.models import RiskBreach, RiskLimit, RiskReservation
from trading.monitoring.alerts import AlertChange
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
)
from trading.risk.loss import (
    alerts_push,
    daily_losses,
    loss_stop_in_effect,
    loss_stops_apply,
    today_utc,
)

RESERVATION_TTL = timedelta(seconds=60)
CLEANUP_EVERY = 16

# Defaults for a subaccount without limits, as fractions of its net equity at first order.
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


@dataclass(frozen=True)
class ExposureRead:
    """The exchange's view of a subaccount, and when the read began."""

    exposure: Exposure
    positions: dict[str, Decimal]  # symbol -> signed net quantity
    started_at: datetime
    losses: dict[int | None, Decimal] = field(default_factory=dict)  # today's, by member id


def limits_of(row: RiskLimit | None, day: date | None = None) -> Limits:
    """A `RiskLimit` row as the gate's `Limits` (no row: no limit from this level); its daily
    loss stop counts when it holds on ``day`` (today in UTC by default)."""
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
        loss_stop=loss_stop_in_effect(row, day or today_utc()),
    )


async def risk_exposure_read(*, subaccount: Subaccount) -> ExposureRead:
    """Positions, open orders and net equity of the subaccount, read from the exchange."""
    started_at = timezone.now()
    client = client_for(subaccount)
    positions, orders, collateral = await asyncio.gather(
        client.positions(), client.open_orders(), client.collateral()
    )
    markets: dict[str, MarketExposure] = {}
    quantities: dict[str, Decimal] = {}
    marks: dict[str, Decimal] = {}
    for p in positions:
        marks[p.symbol] = p.mark_price
        signed = abs(p.net_exposure_notional) * (1 if p.net_quantity > 0 else -1)
        markets[p.symbol] = MarketExposure(position=signed)
        quantities[p.symbol] = p.net_quantity
    for o in orders:
        if o.price is None or o.quantity is None or o.reduce_only:
            continue
        notional = (o.quantity - o.executed_quantity) * o.price
        now = markets.get(o.symbol, MarketExposure())
        markets[o.symbol] = now.plus(buy=o.side == Side.BID, notional=notional)
    losses = await sync_to_async(daily_losses)(subaccount=subaccount, marks=marks)
    exposure = Exposure(
        markets=markets,
        open_orders=len(orders),
        net_equity=collateral.net_equity,
        daily_loss=losses[None],
    )
    return ExposureRead(
        exposure=exposure, positions=quantities, started_at=started_at, losses=losses
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


# The gate's two reads are plain SQL: the ORM spent ~0.5 ms of CPU compiling each of them,
# half the budget of the whole gate (tests/bench/bench_risk.py). Both run in either database.
_LIMITS_SQL = (
    "SELECT * FROM trading_risklimit WHERE subaccount_id = %s"
    " AND (member_id IS NULL OR member_id = %s)"
)
_IN_FLIGHT_SQL = (
    "SELECT symbol, buy, notional FROM trading_riskreservation WHERE subaccount_id = %s"
    " AND created_at >= %s AND (placed_at IS NULL OR placed_at >= %s)"
)


def _limit_rows(subaccount: Subaccount, member: Any | None) -> dict[int | None, RiskLimit]:
    """The subaccount's row (key None) and the member's (key user id), locked FOR UPDATE
    where the database has it (SQLite's IMMEDIATE transactions hold its one write lock)."""
    sql = _LIMITS_SQL
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    rows = RiskLimit.objects.raw(sql, [subaccount.pk, getattr(member, "pk", None)])
    return {row.member_id: row for row in rows}


def _limit_rows_locked(
    subaccount: Subaccount, member: Any | None, equity: Decimal | None
) -> dict[int | None, RiskLimit]:
    """The limit rows, locked; the subaccount's is created with defaults (audited) when
    missing."""
    rows = _limit_rows(subaccount, member)
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
    return _limit_rows(subaccount, member)


def _decimal(value: Any) -> Decimal:
    # PostgreSQL answers a Decimal; SQLite an int or a float of the stored digits.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _in_flight(
    subaccount: Subaccount, read_started_at: datetime
) -> list[tuple[str, bool, Decimal]]:
    """(symbol, buy, notional) of the reservations the exchange read may not include: not
    placed yet, or placed after the read began; younger than `RESERVATION_TTL`."""
    adapt = connection.ops.adapt_datetimefield_value
    params = [subaccount.pk, adapt(timezone.now() - RESERVATION_TTL), adapt(read_started_at)]
    with connection.cursor() as cursor:
        cursor.execute(_IN_FLIGHT_SQL, params)
        return [(symbol, bool(buy), _decimal(n)) for symbol, buy, n in cursor.fetchall()]


def _with_in_flight(exposure: Exposure, reservations: list[tuple[str, bool, Decimal]]) -> Exposure:
    markets = dict(exposure.markets)
    for symbol, buy, notional in reservations:
        markets[symbol] = markets.get(symbol, MarketExposure()).plus(buy=buy, notional=notional)
    return Exposure(
        markets=markets,
        open_orders=exposure.open_orders + len(reservations),
        net_equity=exposure.net_equity,
        daily_loss=exposure.daily_loss,
    )


@sync_to_async
def _check_and_reserve(
    *, actor: Any, subaccount: Subaccount, order: GateOrder, read: ExposureRead
) -> tuple[GateResult, int | None, list[AlertChange]]:
    member = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        rows = _limit_rows_locked(subaccount, member, read.exposure.net_equity)
        stops = loss_stops_apply(subaccount=subaccount, rows=rows, losses=read.losses)
        limits = limits_of(rows.get(None)).stricter(limits_of(rows.get(getattr(member, "pk", 0))))
        exposure = _with_in_flight(read.exposure, _in_flight(subaccount, read.started_at))
        result = risk_gate_check(limits=limits, exposure=exposure, order=order)
        if not result.allowed:
            return result, None, stops
        reservation = RiskReservation.objects.create(
            subaccount=subaccount,
            member=member,
            symbol=order.symbol,
            buy=order.buy,
            notional=order.notional,
        )
        return result, reservation.pk, stops


@sync_to_async
def _breach_record(
    *, actor: Any, subaccount: Subaccount, order: GateOrder, result: GateResult, action: str
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
            "symbol": order.symbol,
            "side": "Bid" if order.buy else "Ask",
            "notional": order.notional,
            "limit": result.limit,
        },
        result=AuditEvent.Result.DENIED,
        detail=result.message,
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
) -> int | None:
    """Pass one order through the gate before it is signed; return its reservation id.

    Reduce-only orders (closes are reduce-only) pass at once (None: nothing reserved): the
    exchange itself refuses a reduce-only order that would grow the position. An order
    without the flag is checked even when it happens to reduce the position, because several
    of them in flight could together flip it. Others are checked against the stricter of the
    subaccount's and the member's limits with the exposure read now plus orders in flight;
    a refusal is recorded and raised as `RiskRefused`. Call `risk_reservation_settle` after
    the exchange answered. `read`: the exposure when the caller read it already (the ticket
    reads it while it claims its token); read now when None.
    """
    order = GateOrder(
        symbol=symbol, buy=side == Side.BID, notional=notional, quote=quote, reduce_only=reduce_only
    )
    if reduce_only:
        return None
    if read is None:
        read = await risk_exposure_read(subaccount=subaccount)
    result, reservation_id, stops = await _check_and_reserve(
        actor=actor, subaccount=subaccount, order=order, read=read
    )
    await alerts_push(stops)
    if not result.allowed:
        await _breach_record(
            actor=actor, subaccount=subaccount, order=order, result=result, action=action
        )
        raise RiskRefused(result.message, limit=result.limit)
    return reservation_id


def risk_reservation_settle_now(*, reservation_id: int | None, placed: bool) -> None:
    """The exchange answered: a refused order frees its headroom, a placed one is timestamped
    (synchronous, for a caller that records the outcome in the same transaction)."""
    if reservation_id is None:
        return
    reservations = RiskReservation.objects.filter(pk=reservation_id)
    if placed:
        reservations.update(placed_at=timezone.now())
    else:
        reservations.delete()
    # Forget expired reservations (they no longer count) after the exchange answered, not
    # inside the gate, and only on every CLEANUP_EVERY-th order: one query saved per order.
    if reservation_id % CLEANUP_EVERY == 0:
        RiskReservation.objects.filter(created_at__lt=timezone.now() - RESERVATION_TTL).delete()


risk_reservation_settle = sync_to_async(risk_reservation_settle_now)


@sync_to_async
def _limits_now(
    *, actor: Any, subaccount: Subaccount, read: ExposureRead
) -> tuple[Limits, Exposure]:
    """The effective limits (defaults, unsaved, when none are set) and the in-flight exposure."""
    member = actor if getattr(actor, "is_authenticated", False) else None
    row = RiskLimit.objects.filter(subaccount=subaccount, member__isnull=True).first()
    if row is None:
        row = RiskLimit(subaccount=subaccount, **risk_default_limits(read.exposure.net_equity))
    own = RiskLimit.objects.filter(subaccount=subaccount, member=member).first() if member else None
    exposure = _with_in_flight(read.exposure, _in_flight(subaccount, read.started_at))
    return limits_of(row).stricter(limits_of(own)), exposure


async def risk_headroom_text(
    *, actor: Any, subaccount: Subaccount, symbol: str, side: Side, quote: str = "USDC"
) -> str:
    """What the ticket shows before sending: how much more this member may add here now."""
    read = await risk_exposure_read(subaccount=subaccount)
    limits, exposure = await _limits_now(actor=actor, subaccount=subaccount, read=read)
    if limits.reduce_only:
        why = f" ({limits.reduce_only_reason})" if limits.reduce_only_reason else ""
        return f"Reduce-only{why}: only orders that reduce risk will pass."
    if limits.loss_stop:
        return f"Reduce-only ({limits.loss_stop}): only orders that reduce risk will pass."
    if limits.allowed_markets is not None and symbol not in limits.allowed_markets:
        return f"{symbol} is not an allowed market: only orders that reduce risk will pass."
    room = headroom(limits=limits, exposure=exposure, symbol=symbol, buy=side == Side.BID)
    if room is None:
        return f"No risk limit on {symbol}."
    verb = "buy" if side == Side.BID else "sell"
    return f"Headroom: max {amount_text(room, left=True)} {quote} more to {verb} in {symbol}."
