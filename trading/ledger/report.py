"""The PnL page's read model: the ledger's PnL of the subaccounts a user is a member of,
summed per day (the calendar), per subaccount, market and member, with the team's equity
curve. Built on :func:`trading.ledger.team.team_figures`, so the figures are the overview's.

Figures are realized - fees + funding from the ledger; "unrealized" is what the ledger holds
now at mark, per subaccount (a subaccount whose equity could not be read shows none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from trading.ledger.curve import CurvePoint
from trading.ledger.pnl import ZERO, PnlRow
from trading.ledger.selectors import equity_curve
from trading.ledger.team import SubaccountFigures, TeamFigures, team_figures

CALENDAR_WEEKS = 6
LEVELS = 4


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """One row of a breakdown table: its label and what it made."""

    label: str
    realized: Decimal
    fees: Decimal
    funding: Decimal
    unrealized: Decimal | None = None

    @property
    def net(self) -> Decimal:
        return self.realized - self.fees + self.funding


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day of the calendar: its net PnL (None: nothing happened) and how strong its
    colour is (0 none, 1..LEVELS by size against the largest day shown)."""

    day: date
    net: Decimal | None
    level: int
    in_range: bool

    @property
    def sign(self) -> str:
        if self.net is None or self.net == 0:
            return "flat"
        return "gain" if self.net > 0 else "loss"


@dataclass(frozen=True, slots=True)
class PnlReport:
    team: TeamFigures
    weeks: tuple[tuple[CalendarDay, ...], ...]
    by_subaccount: tuple[BreakdownRow, ...]
    by_market: tuple[BreakdownRow, ...]
    by_member: tuple[BreakdownRow, ...]
    curve: tuple[CurvePoint, ...]

    @property
    def total(self) -> BreakdownRow:
        rows = self.by_subaccount
        return BreakdownRow(
            "Team",
            sum((r.realized for r in rows), ZERO),
            sum((r.fees for r in rows), ZERO),
            sum((r.funding for r in rows), ZERO),
            sum((r.unrealized for r in rows if r.unrealized is not None), ZERO),
        )


def _add(found: dict[str, PnlRow], key: str, row: PnlRow) -> None:
    total = found.setdefault(key, PnlRow())
    total.realized += row.realized
    total.fees += row.fees
    total.funding += row.funding


def _rows(found: dict[str, PnlRow]) -> tuple[BreakdownRow, ...]:
    rows = [BreakdownRow(k, r.realized, r.fees, r.funding) for k, r in found.items()]
    return tuple(sorted(rows, key=lambda r: (-r.net, r.label)))


def _subaccount_row(figures: SubaccountFigures) -> BreakdownRow:
    totals = figures.pnl.totals if figures.pnl is not None else PnlRow()
    return BreakdownRow(
        figures.access.subaccount.name,
        totals.realized,
        totals.fees,
        totals.funding,
        figures.unrealized,
    )


def _calendar(days: dict[date, Decimal], today: date) -> tuple[tuple[CalendarDay, ...], ...]:
    last = today + timedelta(days=6 - today.weekday())  # the Sunday of this week
    first = last - timedelta(days=7 * CALENDAR_WEEKS - 1)
    biggest = max((abs(v) for d, v in days.items() if first <= d <= today), default=ZERO)
    weeks = []
    for week in range(CALENDAR_WEEKS):
        row = []
        for weekday in range(7):
            day = first + timedelta(days=7 * week + weekday)
            net = days.get(day)
            level = 0
            if net is not None and net != 0 and biggest > 0:
                level = max(1, min(LEVELS, int(abs(net) / biggest * LEVELS + Decimal("0.999"))))
            row.append(CalendarDay(day, net, level, day <= today))
        weeks.append(tuple(row))
    return tuple(weeks)


def _lines(subaccounts: Iterable[SubaccountFigures]) -> Iterable[Any]:
    for figures in subaccounts:
        if figures.pnl is not None:
            yield from figures.pnl.lines


async def pnl_report(*, user: Any, now: datetime | None = None) -> PnlReport:
    """The PnL page of ``user``: only subaccounts they are a member of (days in the team's
    time zone)."""
    now = now or datetime.now(UTC)
    team = await team_figures(user=user, now=now)
    days: dict[date, Decimal] = {}
    markets: dict[str, PnlRow] = {}
    members: dict[str, PnlRow] = {}
    for line in _lines(team.subaccounts):
        days[line.day] = days.get(line.day, ZERO) + line.row.net
        _add(markets, line.symbol, line.row)
        _add(members, line.member, line.row)
    subs = [f.access.subaccount for f in team.subaccounts]
    curve = await equity_curve(subaccounts=subs) if subs else []
    return PnlReport(
        team=team,
        weeks=_calendar(days, now.astimezone(ZoneInfo(team.zone)).date()),
        by_subaccount=tuple(_subaccount_row(f) for f in team.subaccounts),
        by_market=_rows(markets),
        by_member=_rows(members),
        curve=tuple(curve),
    )


__all__ = ["BreakdownRow", "CalendarDay", "PnlReport", "pnl_report"]
