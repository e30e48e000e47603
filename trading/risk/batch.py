"""The risk gate for a set of orders sent together (a ladder's children): all or none.

`risk_gate_check_all` is pure: it checks the children one after another, each against the
exposure with every earlier child already added, so the set passes only when all of it fits
(50 orders that each fit alone but not together are refused, naming the first child that
breaks a limit). `risk_gate_admit_all` is the service: one exchange read, then one short
transaction holding the limit row (as `risk_gate_admit` does for one order) that checks the
whole set and reserves every child's headroom, or nothing. Settle each child afterwards with
`risk_reservations_settle`. `risk_gate_admit` itself is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.models import Subaccount
from trading.models import RiskReservation
from trading.risk.exposure import ExposureRead, risk_exposure_current
from trading.risk.gate import Exposure, GateOrder, GateResult, Limits, risk_gate_check, tightest
from trading.risk.loss import alerts_push, loss_day, loss_stops_apply
from trading.risk.reservations import reservations_in_flight
from trading.risk.services import (
    RiskRefused,
    _breach_record,
    _limit_rows_locked,
    _with_in_flight,
    limits_of,
)

PASS_ALL = GateResult(allowed=True)


def _plus(exposure: Exposure, order: GateOrder) -> Exposure:
    markets = dict(exposure.markets)
    markets[order.symbol] = exposure.market(order.symbol).plus(
        buy=order.buy, notional=order.notional
    )
    return Exposure(
        markets=markets,
        open_orders=exposure.open_orders + 1,
        net_equity=exposure.net_equity,
        daily_loss=exposure.daily_loss,
    )


def risk_gate_check_all(
    *, limits: Limits, exposure: Exposure, orders: Sequence[GateOrder]
) -> tuple[GateResult, int | None]:
    """Check a set of orders as a whole: (result, index of the first refused order or None).

    Reduce-only children pass and add nothing; every other child is checked with all the
    earlier ones added to the exposure."""
    for index, order in enumerate(orders):
        result = risk_gate_check(limits=limits, exposure=exposure, order=order)
        if not result.allowed:
            return result, index
        if not order.reduce_only:
            exposure = _plus(exposure, order)
    return PASS_ALL, None


def _binding(
    whole: tuple[GateResult, int | None], own: tuple[GateResult, int | None]
) -> tuple[GateResult, int | None]:
    """The refusal to report of a set checked at both levels: the first child refused, and
    at that child the limit that binds (`tightest`: the member's own when it is the
    tighter)."""
    if whole[0].allowed or own[0].allowed:
        return own if whole[0].allowed else whole
    assert whole[1] is not None and own[1] is not None
    if whole[1] != own[1]:
        return whole if whole[1] < own[1] else own
    return tightest(whole[0], own[0]), own[1]


def _refusal_text(result: GateResult, index: int, count: int) -> str:
    return f"{result.message} (order {index + 1} of {count}; nothing was sent)"


@sync_to_async
def _check_and_reserve_all(
    *, actor: Any, subaccount: Subaccount, orders: Sequence[GateOrder], read: ExposureRead
) -> tuple[GateResult, int | None, list[int | None], list[Any]]:
    member = actor if getattr(actor, "is_authenticated", False) else None
    member_id = getattr(member, "pk", None)
    with transaction.atomic():
        rows = _limit_rows_locked(subaccount, member, read.exposure.net_equity)
        stops = loss_stops_apply(subaccount=subaccount, rows=rows, losses=read.losses, day=read.day)
        day = read.day or loss_day()
        in_flight = reservations_in_flight(subaccount, read.started_at)
        # the subaccount's limits against the whole subaccount, and the member's own limits
        # against what the member's own orders built (as `risk_gate_admit` checks one order)
        whole = _with_in_flight(read.exposure, in_flight)
        result, index = risk_gate_check_all(
            limits=limits_of(rows.get(None), day), exposure=whole, orders=orders
        )
        own = rows.get(member_id) if member_id is not None else None
        if own is not None:
            mine = _with_in_flight(read.member(member_id), in_flight, member_id)
            result, index = _binding(
                (result, index),
                risk_gate_check_all(limits=limits_of(own, day), exposure=mine, orders=orders),
            )
        if not result.allowed:
            return result, index, [], stops
        made = RiskReservation.objects.bulk_create(
            RiskReservation(
                subaccount=subaccount,
                member=member,
                symbol=order.symbol,
                buy=order.buy,
                notional=order.notional,
            )
            for order in orders
            if not order.reduce_only
        )
        if any(reservation.pk is None for reservation in made):  # a database without RETURNING
            raise RuntimeError("the database gave the reservations no ids")
        pks = iter(reservation.pk for reservation in made)
        ids = [None if order.reduce_only else next(pks) for order in orders]
        return result, None, ids, stops


async def risk_gate_admit_all(
    *,
    actor: Any,
    subaccount: Subaccount,
    orders: Sequence[GateOrder],
    action: str = "ladder_place",
    ip: str | None = None,
    context: dict[str, Any] | None = None,
) -> list[int | None]:
    """Pass a set of orders through the gate as a whole before any is signed; return each
    one's reservation id (None for reduce-only children), in order.

    A refusal reserves nothing, is recorded as a breach (the first child that breaks a
    limit) and raised as `RiskRefused` naming the limit, what is left and which child; it is
    audited with `ip` and `context` (what the caller knows of the set) as `risk_gate_admit`
    audits one order's."""
    if all(order.reduce_only for order in orders):
        return [None] * len(orders)
    read = await risk_exposure_current(subaccount=subaccount)
    result, index, ids, stops = await _check_and_reserve_all(
        actor=actor, subaccount=subaccount, orders=orders, read=read
    )
    await alerts_push(stops)
    if not result.allowed:
        assert index is not None
        await _breach_record(
            actor=actor,
            subaccount=subaccount,
            order=orders[index],
            result=result,
            action=action,
            ip=ip,
            context=context,
        )
        raise RiskRefused(_refusal_text(result, index, len(orders)), limit=result.limit)
    return ids


@sync_to_async
def risk_reservations_settle(*, outcomes: Sequence[tuple[int | None, bool]]) -> None:
    """The exchange answered a set: each (reservation id, placed) settles as
    `risk_reservation_settle` settles one order, in two statements for the whole set."""
    placed = [pk for pk, ok in outcomes if pk is not None and ok]
    refused = [pk for pk, ok in outcomes if pk is not None and not ok]
    if placed:
        RiskReservation.objects.filter(pk__in=placed).update(placed_at=timezone.now())
    if refused:
        RiskReservation.objects.filter(pk__in=refused).delete()
