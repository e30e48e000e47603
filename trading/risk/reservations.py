"""The gate's database statements: the limit rows locked, the reservations in flight, this
order's reservation, and its settling after the exchange answered.

Plain SQL on a plain cursor: the ORM spent more CPU compiling these statements and building
their rows (a raw queryset resolves its columns each time) than the whole check
(tests/bench/bench_risk.py). Every statement runs in either database.
"""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from accounts.models import Subaccount
from trading.models import RiskLimit, RiskReservation
from trading.risk.gate import GateOrder

RESERVATION_TTL = timedelta(seconds=60)
CLEANUP_EVERY = 16


_LIMIT_FIELDS = [f for f in RiskLimit._meta.concrete_fields]
_LIMIT_NAMES = [f.attname for f in _LIMIT_FIELDS]
_LIMIT_KINDS = [f.get_internal_type() for f in _LIMIT_FIELDS]
_LIMITS_SQL = (
    f"SELECT {', '.join(f.column for f in _LIMIT_FIELDS)} FROM trading_risklimit"
    " WHERE subaccount_id = %s AND (member_id IS NULL OR member_id = %s)"
)
# Grouped: as many reservations count as orders were placed since the last exchange read
# (hundreds at a script's pace), mostly of a few sizes; each group comes once with its count.
# Three disjoint parts, each read through an index (no scan of the subaccount's last minute of
# placed orders, thousands at a script's pace: bench_gateway): not placed yet; placed after the
# read began; a running strategy's, not already counted by the first two.
_IN_FLIGHT_SQL = (
    "SELECT symbol, buy, notional, member_id, COUNT(*) FROM ("
    " SELECT symbol, buy, notional, member_id FROM trading_riskreservation"
    " WHERE subaccount_id = %(sub)s AND placed_at IS NULL AND created_at >= %(young)s"
    " UNION ALL SELECT symbol, buy, notional, member_id FROM trading_riskreservation"
    " WHERE subaccount_id = %(sub)s AND placed_at >= %(read)s AND created_at >= %(young)s"
    " UNION ALL SELECT symbol, buy, notional, member_id FROM trading_riskreservation"
    " WHERE subaccount_id = %(sub)s AND until >= %(now)s AND NOT (created_at >= %(young)s"
    " AND (placed_at IS NULL OR placed_at >= %(read)s))"
    ") AS in_flight GROUP BY symbol, buy, notional, member_id"
)
# One statement inserts the reservation and answers its id (RETURNING: PostgreSQL, SQLite
# 3.35+), instead of the ORM's create (compiling it cost more than the whole check).
_RESERVE_SQL = (
    "INSERT INTO trading_riskreservation (subaccount_id, member_id, symbol, buy, notional,"
    " created_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
)
_FREE_SQL = "DELETE FROM trading_riskreservation WHERE id = %s"
_PLACED_SQL = "UPDATE trading_riskreservation SET placed_at = %s WHERE id = %s"
_EXPIRED_SQL = (
    "DELETE FROM trading_riskreservation WHERE created_at < %s AND (until IS NULL OR until < %s)"
)
# A running strategy's reservation: placed, and counting until it ends.
_HOLD_SQL = (
    "UPDATE trading_riskreservation SET placed_at = %s, strategy_id = %s, until = %s WHERE id = %s"
)

# (symbol, buy, notional of each, member id, how many reservations of that notional)
InFlight = tuple[str, bool, Decimal, int | None, int]


def limit_rows(subaccount: Subaccount, member: Any | None) -> dict[int | None, RiskLimit]:
    """The subaccount's row (key None) and the member's (key user id), locked FOR UPDATE
    where the database has it (SQLite's IMMEDIATE transactions hold its one write lock)."""
    sql = _LIMITS_SQL
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [subaccount.pk, getattr(member, "pk", None)])
        fetched = cursor.fetchall()
    rows = [
        RiskLimit.from_db(
            connection.alias,
            _LIMIT_NAMES,
            [_value(kind, v) for kind, v in zip(_LIMIT_KINDS, r, strict=True)],
        )
        for r in fetched
    ]
    return {row.member_id: row for row in rows}


_FLOAT_DIGITS = decimal.Context(prec=15)


def _value(kind: str, value: Any) -> Any:
    """A column as the ORM would give it (SQLite answers dates as text, decimals as numbers)."""
    if value is None or isinstance(value, (Decimal, date, bool)):
        return value
    if kind == "DecimalField":
        if isinstance(value, float):
            return _FLOAT_DIGITS.create_decimal_from_float(value)
        return Decimal(str(value))
    if kind == "DateField":
        return date.fromisoformat(value)
    if kind == "DateTimeField":
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if kind == "BooleanField":
        return bool(value)
    return value


def _decimal(value: Any) -> Decimal:
    # PostgreSQL answers a Decimal; SQLite an int or a float of the stored digits.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def reservations_in_flight(subaccount: Subaccount, read_started_at: datetime) -> list[InFlight]:
    """(symbol, buy, notional, member id, count) of the reservations the exchange read may
    not include: not placed yet, or placed after the read began; younger than
    `RESERVATION_TTL`; and those of running strategies (the read never includes what they
    have still to do). Reservations alike are one entry with their count."""
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    params = {
        "sub": subaccount.pk,
        "young": adapt(now - RESERVATION_TTL),
        "read": adapt(read_started_at),
        "now": adapt(now),
    }
    with connection.cursor() as cursor:
        cursor.execute(_IN_FLIGHT_SQL, params)
        return [
            (sym, bool(buy), _decimal(n), who, count)
            for sym, buy, n, who, count in cursor.fetchall()
        ]


def reserve(subaccount: Subaccount, member_id: int | None, order: GateOrder) -> int:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    notional = connection.ops.adapt_decimalfield_value(order.notional, 36, 18)
    with connection.cursor() as cursor:
        cursor.execute(
            _RESERVE_SQL, [subaccount.pk, member_id, order.symbol, order.buy, notional, now]
        )
        return cursor.fetchone()[0]


def risk_reservation_settle_now(*, reservation_id: int | None, placed: bool) -> None:
    """The exchange answered: a refused order frees its headroom, a placed one is timestamped
    (synchronous, for a caller that records the outcome in the same transaction)."""
    if reservation_id is None:
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        if placed:
            cursor.execute(_PLACED_SQL, [adapt(timezone.now()), reservation_id])
        else:
            cursor.execute(_FREE_SQL, [reservation_id])
        # Forget expired reservations (they no longer count) after the exchange answered, not
        # inside the gate, and only on every CLEANUP_EVERY-th order: one query saved per order.
        if reservation_id % CLEANUP_EVERY == 0:
            now = timezone.now()
            cursor.execute(_EXPIRED_SQL, [adapt(now - RESERVATION_TTL), adapt(now)])


risk_reservation_settle = sync_to_async(risk_reservation_settle_now)


def risk_reservation_hold_now(
    *, reservation_id: int | None, strategy_id: str, until: datetime
) -> None:
    """A strategy (TWAP) started: its reservation keeps counting, though placed, until the
    strategy ends (`risk_reservation_strategies_seen`, `risk_reservation_strategy_end`) or
    until `until` at the latest."""
    if reservation_id is None:
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLD_SQL, [adapt(timezone.now()), strategy_id, adapt(until), reservation_id]
        )


risk_reservation_hold = sync_to_async(risk_reservation_hold_now)


def risk_reservation_strategy_end_now(*, subaccount: Subaccount, strategy_id: str) -> None:
    """A strategy was cancelled: what it had still to do no longer counts."""
    RiskReservation.objects.filter(subaccount=subaccount, strategy_id=strategy_id).delete()


risk_reservation_strategy_end = sync_to_async(risk_reservation_strategy_end_now)


def risk_reservation_strategies_seen_now(
    *,
    subaccount: Subaccount,
    remaining: dict[str, Decimal | None],
    read_started_at: datetime,
    symbol: str | None = None,
) -> None:
    """The exchange's list of the subaccount's running strategies (of `symbol`, or all) was
    read from `read_started_at`: `remaining` maps each running one to the notional it has
    still to execute (None: not known). A strategy's reservation shrinks to that (what it
    executed is in the positions now); one no longer running (completed, cancelled
    elsewhere) stops counting. A reservation held after the read began is left alone."""
    held = RiskReservation.objects.filter(
        subaccount=subaccount, until__isnull=False, placed_at__lt=read_started_at
    ).exclude(strategy_id="")
    if symbol is not None:
        held = held.filter(symbol=symbol)
    for row in held:
        if row.strategy_id not in remaining:
            row.delete()
            continue
        left = remaining[row.strategy_id]
        if left is not None and left < row.notional:
            row.notional = left
            row.save(update_fields=["notional"])


risk_reservation_strategies_seen = sync_to_async(risk_reservation_strategies_seen_now)
