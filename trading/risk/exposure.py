"""What a subaccount holds, as the risk gate sees it: read from the exchange, kept a moment.

`risk_exposure_read` asks the exchange (positions with their marks, open orders, net
equity) and takes the ledger's fold (folded again only when the ledger changed:
`trading.risk.loss.ledger_digest_current`) for today's loss of every level and what each
member's own fills built. `risk_exposure_current` is what the gate uses: the last read of
this process, while it is younger than `EXPOSURE_FRESH_S`, else a new read. Keeping a read
is safe for the gate's atomicity because the read carries the time it started: every order
the desk reserved or placed after that time still counts through its reservation
(`trading.risk.services`), whichever process sent it. What a kept read cannot know (a mark
that moved, an order sent outside the desk) is at most `EXPOSURE_FRESH_S` old; the desk's
own changes that a reservation does not cover (a fill, a cancel, a close) drop the kept
read at once (`risk_exposure_forget`).

A member's own exposure (checked against the member's own limits) is what that member's
orders built: the positions of their fills in the ledger (attributed to the ticket of their
order: by order id first, `trading.desk_tickets`; never more than the subaccount's own
position in that market, nor of the other sign), plus their open orders on the exchange
(attributed the same way). The subaccount's limits stay against the
whole subaccount.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Subaccount
from trading.backpack import Order, Side
from trading.desk_tickets import OrderRef, ticket_owners
from trading.exchange import client_for, exchange_session
from trading.risk.gate import ZERO, Exposure, MarketExposure
from trading.risk.loss import ledger_digest_current, losses_of

EXPOSURE_FRESH_S = 1.0
EXPOSURE_REFRESH_S = 0.7  # `risk_exposure_refresh_ahead`: the next read starts at this age


@dataclass(frozen=True)
class ExposureRead:
    """The exchange's view of a subaccount, and when the read began."""

    exposure: Exposure
    positions: dict[str, Decimal]  # symbol -> signed net quantity
    started_at: datetime
    losses: dict[int | None, Decimal] = field(default_factory=dict)  # today's, by member id
    members: dict[int, Exposure] = field(default_factory=dict)  # each member's own
    day: date | None = None  # the day ``losses`` count (in the team's zone)

    def member(self, member_id: int) -> Exposure:
        """The exposure ``member_id``'s own orders built (nothing: an empty one)."""
        found = self.members.get(member_id)
        if found is not None:
            return found
        return Exposure(net_equity=self.exposure.net_equity)


def _clamped(own: Decimal, whole: Decimal) -> Decimal:
    """A member's position in a market is never more than the subaccount's, nor opposite."""
    if not whole or not own or (own > 0) != (whole > 0):
        return ZERO
    return own if abs(own) <= abs(whole) else whole


def _member_exposures(
    *,
    positions: Mapping[str, Decimal],
    marks: Mapping[str, Decimal],
    built: Mapping[int, Mapping[str, Decimal]],
    orders: list[tuple[int, str, bool, Decimal]],
    net_equity: Decimal | None,
) -> dict[int, Exposure]:
    markets: dict[int, dict[str, MarketExposure]] = {}
    counts: dict[int, int] = {}
    for member, quantities in built.items():
        mine = markets.setdefault(member, {})
        for symbol, quantity in quantities.items():
            held = _clamped(quantity, positions.get(symbol, ZERO))
            if held and symbol in marks:
                mine[symbol] = MarketExposure(position=held * marks[symbol])
    for member, symbol, buy, notional in orders:
        mine = markets.setdefault(member, {})
        mine[symbol] = mine.get(symbol, MarketExposure()).plus(buy=buy, notional=notional)
        counts[member] = counts.get(member, 0) + 1
    return {
        member: Exposure(markets=m, open_orders=counts.get(member, 0), net_equity=net_equity)
        for member, m in markets.items()
    }


def _ledger_part(
    subaccount: Subaccount, marks: dict[str, Decimal], orders: list[Order]
) -> tuple[dict[int | None, Decimal], dict[int, dict[str, Decimal]], dict[str, int], date]:
    """Today's losses, each member's positions from the ledger, who sent each open order (by
    order id: `trading.desk_tickets`), and the day the losses count."""
    digest = ledger_digest_current(subaccount=subaccount)
    losses = losses_of(subaccount=subaccount, digest=digest, marks=marks)
    built = {m: digest.positions_of(m) for m in digest.levels if m is not None}
    senders: dict[str, int] = {}
    if orders:
        refs = {o.id: OrderRef.of_order(o) for o in orders}
        owners = ticket_owners(subaccount.pk, refs.values(), value="actor_id")
        senders = {
            order_id: member
            for order_id, ref in refs.items()
            if (member := owners.owner(ref)) is not None
        }
    return losses, built, senders, digest.day


def _open_notional(order: Order) -> Decimal | None:
    """What an open order may still add to a position, in its quote asset: its size left at
    the highest price it may execute at. A stop waiting for its trigger counts too (its size
    is its ``triggerQuantity``, a stop-market has no price but its trigger price), as the gate
    counted it when it was sent. None: it adds nothing (reduce-only) or cannot be sized (a
    trigger quantity in percent of the position, which the desk sends only reduce-only)."""
    if order.reduce_only:
        return None
    size = order.quantity if order.quantity is not None else order.trigger_quantity
    prices = [p for p in (order.price, order.trigger_price) if p is not None]
    if size is None or not prices:
        return None
    return max(size - order.executed_quantity, Decimal(0)) * max(prices)


async def risk_exposure_read(*, subaccount: Subaccount) -> ExposureRead:
    """Positions, open orders and net equity of the subaccount, read from the exchange now,
    with today's losses and each member's own exposure from the ledger; kept for the gate."""
    started_at = timezone.now()
    started = time.monotonic()
    session = exchange_session()
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
    counted: list[tuple[str, str, bool, Decimal]] = []
    named: list[Order] = []  # those a desk ticket may have sent
    for o in orders:
        notional = _open_notional(o)
        if notional is None:
            continue
        buy = o.side == Side.BID
        markets[o.symbol] = markets.get(o.symbol, MarketExposure()).plus(buy=buy, notional=notional)
        counted.append((o.id, o.symbol, buy, notional))
        if o.client_id is not None or o.strategy_id or o.related_order_id:
            named.append(o)
    losses, built, senders, day = await sync_to_async(_ledger_part)(subaccount, marks, named)
    member_orders = [
        (senders[order_id], symbol, buy, notional)
        for order_id, symbol, buy, notional in counted
        if order_id in senders
    ]
    exposure = Exposure(
        markets=markets,
        open_orders=len(orders),
        net_equity=collateral.net_equity,
        daily_loss=losses[None],
    )
    read = ExposureRead(
        exposure=exposure,
        positions=quantities,
        started_at=started_at,
        losses=losses,
        members=_member_exposures(
            positions=quantities,
            marks=marks,
            built=built,
            orders=member_orders,
            net_equity=collateral.net_equity,
        ),
        day=day,
    )
    _kept[subaccount.pk] = (started, weakref.ref(session), read)
    return read


# subaccount id -> (monotonic time the read began, its exchange session, the read)
_kept: dict[int, tuple[float, Any, ExposureRead]] = {}
# (subaccount id, event loop id) -> the read under way, shared by the orders that need one
_reading: dict[tuple[int, int], asyncio.Task[ExposureRead]] = {}


def risk_exposure_kept(*, subaccount_id: int) -> ExposureRead | None:
    """This process's last read of the subaccount while younger than `EXPOSURE_FRESH_S` (and
    of the same exchange session); None otherwise. No I/O: a caller that has it can check
    and reserve in the same database step that admits the order (the script endpoint)."""
    kept = _kept.get(subaccount_id)
    if kept is not None:
        started, session, read = kept
        if session() is exchange_session() and time.monotonic() - started < EXPOSURE_FRESH_S:
            return read
    return None


async def risk_exposure_current(*, subaccount: Subaccount) -> ExposureRead:
    """The gate's view: this process's last read while younger than `EXPOSURE_FRESH_S` (and
    of the same exchange session), else a new read; orders arriving while one is under way
    share it (like a kept read: what was placed after it began counts by reservation)."""
    read = risk_exposure_kept(subaccount_id=subaccount.pk)
    if read is not None:
        return read
    return await asyncio.shield(_read_under_way(subaccount))


def risk_exposure_refresh_ahead(*, subaccount: Subaccount) -> None:
    """For a caller whose orders come in runs (the script endpoint), once one of them was
    checked with a kept read: when that read is older than `EXPOSURE_REFRESH_S`, the next one
    starts now, in the background (shared as any read under way), so the order that would
    have found the kept read expired finds the next one kept instead of waiting for the
    exchange's three reads (the script endpoint's slowest orders, bench_gateway)."""
    kept = _kept.get(subaccount.pk)
    if kept is None:
        return
    started, session, _read = kept
    if session() is exchange_session() and time.monotonic() - started >= EXPOSURE_REFRESH_S:
        _read_under_way(subaccount)


def _read_under_way(subaccount: Subaccount) -> asyncio.Future[ExposureRead]:
    """The read of the subaccount under way in this event loop, started now if none is."""
    key = (subaccount.pk, id(asyncio.get_running_loop()))
    task = _reading.get(key)
    if task is None or task.done():
        task = asyncio.ensure_future(risk_exposure_read(subaccount=subaccount))
        _reading[key] = task
        task.add_done_callback(lambda done: _forget_task(key, done))
    return task


def _forget_task(key: tuple[int, int], done: asyncio.Task[ExposureRead]) -> None:
    if _reading.get(key) is done:
        del _reading[key]
    if not done.cancelled():
        done.exception()  # retrieved here too: every waiter may have gone


def risk_exposure_forget(*, subaccount_id: int) -> None:
    """The desk changed what the subaccount holds in a way no reservation covers (a fill, a
    cancel, a close): the next order reads the exchange again."""
    _kept.pop(subaccount_id, None)
