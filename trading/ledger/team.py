"""The team overview's read model: what the team holds, made and risks, over the subaccounts
one user may see (team totals only over those).

Per subaccount: equity (the balances read model's, as on the balances page), today's PnL
from the ledger (realized - fees + funding of the fills and payments of today, in the
team's time zone),
unrealized PnL at mark of what the ledger holds, open positions, margin used, and the
distance of the nearest position to its liquidation estimate; today's PnL and unrealized
only when the equity was read (and unrealized only when the positions were too). Across
them: net exposure per asset in USDC (spot holdings plus perpetual delta at mark), the
largest positions by notional, and the ledger's latest unexplained difference with the
exchange's equity (shown with its size, never hidden; while the ledger is still reading
history none is claimed: it is being checked).

A read that failed carries its reason and is left out of the totals, never counted as zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.db.models import Count

from accounts.models import Subaccount
from accounts.team import team_time_zone
from trading.backpack import Market, Position
from trading.balances.readmodel import SubaccountBalances
from trading.balances.selectors import balances_for_subaccounts
from trading.formatting import DASH, percent, plain, price, quantity_places
from trading.ledger.histories import LEDGER_HISTORIES
from trading.ledger.pnl import ZERO, Reconciliation
from trading.ledger.running import (
    ledger_days_running,
    ledger_pnls_running,
    ledger_reconcile_many,
    ledger_stamps,
)
from trading.ledger.selectors import LedgerPnl
from trading.models.ledger import LedgerCursor
from trading.selectors import (
    EXCHANGE_ERRORS,
    SubaccountAccess,
    exchange_error_text,
    markets_known,
    positions_recent,
    subaccount_access_async,
)

QUOTE = "USDC"
LARGEST = 5


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """One open perpetual position: signed size, mark, notional at mark (absolute) and the
    fraction the mark must move to reach the liquidation estimate (None: no estimate)."""

    subaccount_id: int
    subaccount_name: str
    symbol: str
    net_quantity: Decimal
    mark_price: Decimal
    notional: Decimal
    liquidation: Decimal | None
    distance: Decimal | None
    market: Market | None = None  # its rules, for the decimals (None: unknown)

    @property
    def liquidation_text(self) -> str:
        """The liquidation estimate with the market's tick decimals; the dash when unknown."""
        if self.market is None:
            return plain(self.liquidation)
        return price(self.liquidation, self.market)

    @property
    def distance_text(self) -> str:
        """How far the mark is from the estimate, as a percentage; the dash when unknown."""
        return percent(self.distance, signed=False)


@dataclass(frozen=True, slots=True)
class SubaccountFigures:
    """One subaccount's card. ``*_error`` set means that figure could not be read."""

    access: SubaccountAccess
    equity: Decimal | None
    equity_error: str
    today: Decimal | None
    unrealized: Decimal | None
    positions: tuple[PositionRisk, ...]
    positions_error: str
    margin_used: Decimal | None
    mismatch: Decimal | None
    mismatch_day: datetime | None
    pnl: LedgerPnl | None = None  # the ledger's lines, for the PnL page
    ledger_ready: bool = True  # every history read to its end at least once

    @property
    def mismatch_pending(self) -> bool:
        """The ledger is still reading history: whether it differs is not known yet."""
        return not self.ledger_ready

    @property
    def nearest(self) -> PositionRisk | None:
        """The position nearest to its liquidation estimate."""
        known = [p for p in self.positions if p.distance is not None]
        return min(known, key=lambda p: p.distance) if known else None

    @property
    def nearest_text(self) -> str:
        """ "SOL_USDC_PERP 12.50% away", or the dash when no position has an estimate."""
        nearest = self.nearest
        return DASH if nearest is None else f"{nearest.symbol} {nearest.distance_text} away"


@dataclass(frozen=True, slots=True)
class Exposure:
    """Net exposure to one asset across the subaccounts: spot holdings and perpetual delta
    (quantities), and their value in USDC at mark (None when the asset has no price)."""

    asset: str
    spot: Decimal
    perp: Decimal
    value: Decimal | None
    places: int = 8  # decimals of the asset's quantities

    @property
    def net(self) -> Decimal:
        return self.spot + self.perp


@dataclass(frozen=True, slots=True)
class TeamFigures:
    """The team overview of one user."""

    subaccounts: tuple[SubaccountFigures, ...]
    exposure: tuple[Exposure, ...]
    largest: tuple[PositionRisk, ...]
    zone: str = "UTC"  # the team's time zone: the days are its days

    @property
    def equity(self) -> Decimal:
        """Equity of the subaccounts whose balances were read."""
        return sum((s.equity for s in self.subaccounts if s.equity is not None), ZERO)

    @property
    def today(self) -> Decimal:
        return sum((s.today for s in self.subaccounts if s.today is not None), ZERO)

    @property
    def today_change(self) -> Decimal | None:
        """Today's PnL as a fraction of the equity the day started with (equity less it)."""
        start = self.equity - self.today
        return self.today / start if start > 0 else None

    @property
    def unread(self) -> tuple[SubaccountFigures, ...]:
        """Subaccounts left out of the totals because their equity could not be read."""
        return tuple(s for s in self.subaccounts if s.equity is None)


def _risk(
    sub: Subaccount, position: Position, liquidation: Decimal | None, market: Market | None
) -> PositionRisk:
    mark = position.mark_price
    distance = None
    if liquidation is not None and mark > 0:
        distance = abs(mark - liquidation) / mark
    return PositionRisk(
        sub.pk,
        sub.name,
        position.symbol,
        position.net_quantity,
        mark,
        abs(position.net_quantity * mark),
        liquidation,
        distance,
        market,
    )


def _marks(view: SubaccountBalances | None, positions: list[Position]) -> dict[str, Decimal]:
    marks = {p.symbol: p.mark_price for p in positions}
    for quote in view.quotes if view is not None and view.ok else ():
        marks.setdefault(f"{quote.asset}_{QUOTE}", quote.price)
    return marks


def _equity(view: SubaccountBalances | None) -> tuple[Decimal | None, str]:
    if view is None or not view.ok:
        return None, (view.error if view is not None else "") or "could not be read"
    value = view.equity_usdc  # a sum over every asset: computed once
    if value is None:
        value = view.value_usdc
    return value, ""


def _margin_used(view: SubaccountBalances | None) -> Decimal | None:
    if view is None or view.perp is None:
        return None
    return view.perp.net_equity - view.perp.net_equity_available


async def _positions(sub: Subaccount) -> tuple[list[Position], dict[str, Any], str]:
    try:
        positions, liquidations = await positions_recent(sub)
    except EXCHANGE_ERRORS as error:
        return [], {}, exchange_error_text(error)
    return positions, liquidations, ""


def _mismatch(last: Reconciliation | None) -> tuple[Decimal | None, datetime | None]:
    if last is None:
        return None, None
    return last.mismatch, last.end


def _today(pnl: LedgerPnl, today: Any) -> Decimal:
    return sum((line.row.net for line in pnl.lines if line.day == today), ZERO)


def _figures(
    access: SubaccountAccess,
    view: SubaccountBalances | None,
    markets: dict[str, Market],
    ready: bool,
    last: Reconciliation | None,
    read: tuple[list[Position], dict[str, Any], str],
    made: tuple[Decimal, Mapping[str, Decimal], LedgerPnl | None],
) -> SubaccountFigures:
    sub = access.subaccount
    positions, liquidations, error = read
    today_net, unrealized, pnl = made
    # until every history was read once, the ledger lacks fills and transfers the equity
    # already holds: a difference then is the reading, not a mismatch (claimed once ready)
    mismatch, day = _mismatch(last) if ready else (None, None)
    equity, equity_error = _equity(view)
    read_ok = equity is not None  # else the ledger's figures cannot be checked against anything
    risks = tuple(
        _risk(sub, p, liquidations.get(p.symbol), markets.get(p.symbol)) for p in positions
    )
    return SubaccountFigures(
        access=access,
        equity=equity,
        equity_error=equity_error,
        today=today_net if read_ok else None,
        unrealized=sum(unrealized.values(), ZERO) if read_ok and not error else None,
        positions=risks,
        positions_error=error,
        margin_used=_margin_used(view),
        mismatch=mismatch,
        mismatch_day=day,
        pnl=pnl,
        ledger_ready=ready,
    )


async def _made(
    subs: list[Subaccount],
    today: Any,
    marks: dict[int, dict[str, Decimal]],
    zone: str,
    stamps: dict[int, tuple],
    detail: bool,
) -> dict[int, tuple[Decimal, Mapping[str, Decimal], LedgerPnl | None]]:
    """Each subaccount's PnL of ``today`` and unrealized at its marks (and its lines, with
    ``detail``), from the running folds in one hop to the database thread."""
    if detail:
        pnls = await ledger_pnls_running(subaccounts=subs, marks=marks, zone=zone, stamps=stamps)
        return {pk: (_today(p, today), p.unrealized, p) for pk, p in pnls.items()}
    days = await ledger_days_running(
        subaccounts=subs, day=today, marks=marks, zone=zone, stamps=stamps
    )
    return {pk: (d.net, d.unrealized, None) for pk, d in days.items()}


def _exposure(
    views: list[SubaccountBalances], subaccounts: tuple[SubaccountFigures, ...]
) -> tuple[Exposure, ...]:
    spot: dict[str, Decimal] = {}
    perp: dict[str, Decimal] = {}
    prices: dict[str, Decimal] = {}
    places: dict[str, int] = {}
    for view in views:
        if not view.ok:
            continue
        for row in view.rows:
            if row.asset == QUOTE or row.total == 0:
                continue
            spot[row.asset] = spot.get(row.asset, ZERO) + row.total
            places[row.asset] = row.places
            if row.quote is not None:
                prices[row.asset] = row.quote.price
    for figures in subaccounts:
        for position in figures.positions:
            asset = position.symbol.split("_", 1)[0]
            perp[asset] = perp.get(asset, ZERO) + position.net_quantity
            prices.setdefault(asset, position.mark_price)
            if position.market is not None:
                places.setdefault(asset, quantity_places(position.market))
    found = []
    for asset in sorted(set(spot) | set(perp)):
        held, delta = spot.get(asset, ZERO), perp.get(asset, ZERO)
        price = prices.get(asset)
        value = None if price is None else (held + delta) * price
        found.append(Exposure(asset, held, delta, value, places.get(asset, 8)))
    found.sort(key=lambda e: abs(e.value) if e.value is not None else ZERO, reverse=True)
    return tuple(found)


def _ledgers_ready(subaccount_ids: list[int]) -> set[int]:
    """The subaccounts whose every ledger history has been read to its end once."""
    done = LedgerCursor.objects.filter(subaccount_id__in=subaccount_ids, done=True)
    counts = done.values("subaccount_id").annotate(n=Count("history"))
    return {c["subaccount_id"] for c in counts if c["n"] >= len(LEDGER_HISTORIES)}


async def team_figures(
    *, user: Any, now: datetime | None = None, detail: bool = True
) -> TeamFigures:
    """The team overview over the subaccounts ``user`` is a member of (all, for a
    superuser), read concurrently. ``detail=False`` leaves out each subaccount's PnL lines
    (``pnl`` None): the overview needs only today's figures, read from the running fold
    without the lines of every past day."""
    accesses = await subaccount_access_async(user=user)
    subs = [a.subaccount for a in accesses]
    # the exchange reads start at once and run while the database answers the rest
    reads = asyncio.gather(*(_positions(sub) for sub in subs))
    views, markets, stamps, ready, zone = await asyncio.gather(
        balances_for_subaccounts(subs, fresh=False, sparklines=False),
        markets_known(),
        ledger_stamps(subaccounts=subs),
        sync_to_async(_ledgers_ready)([s.pk for s in subs]),
        sync_to_async(team_time_zone)(),
    )
    by_id = {v.subaccount_id: v for v in views}
    lasts = await ledger_reconcile_many(subaccounts=subs, stamps=stamps)
    read = dict(zip([s.pk for s in subs], await reads, strict=True))
    marks = {pk: _marks(by_id.get(pk), found[0]) for pk, found in read.items()}
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()
    made = await _made(subs, today, marks, zone, stamps, detail)
    figures = tuple(
        _figures(
            a,
            by_id.get(a.subaccount.pk),
            markets,
            a.subaccount.pk in ready,
            lasts[a.subaccount.pk],
            read[a.subaccount.pk],
            made[a.subaccount.pk],
        )
        for a in accesses
    )
    positions = [p for f in figures for p in f.positions]
    largest = tuple(sorted(positions, key=lambda p: p.notional, reverse=True)[:LARGEST])
    return TeamFigures(figures, _exposure(views, figures), largest, zone)


__all__ = ["Exposure", "PositionRisk", "SubaccountFigures", "TeamFigures", "team_figures"]
