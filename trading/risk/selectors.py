"""The risk page's read model: every limit row with its current usage, and the breaches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import AuditEvent, Subaccount
from accounts.team import team_time_zone
from trading.exchange import exchange_session
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.formatting import fixed, plain, usdc
from trading.models import RiskBreach, RiskLimit
from trading.risk.gate import ZERO, Exposure
from trading.risk.limits import KILL_REASON, LimitValues, kill_switch_holds
from trading.risk.loss import loss_day, loss_stop_in_effect
from trading.risk.services import risk_default_limits

BREACHES_SHOWN = 50
CENT = Decimal("0.01")


@dataclass
class Usage:
    """One limit of a row: its value, what is used, and the bar's percentage (None: no bar)."""

    name: str
    limit: str
    used: str
    percent: int | None


@dataclass
class LimitRow:
    """One `RiskLimit` row with its usage (a member's row: what the member's own orders
    built, and the member's own loss today)."""

    row: RiskLimit
    who: str
    usages: list[Usage] = field(default_factory=list)


def _usage(
    name: str, limit: Decimal | int | None, used: Decimal, shown: Callable[[Decimal], str]
) -> Usage:
    if limit is None:
        return Usage(name, "no limit", shown(used), None)
    limit = Decimal(limit)
    if limit <= 0:
        return Usage(name, shown(limit), shown(used), 100 if used > 0 else 0)
    percent = int(min(Decimal(100), max(ZERO, used * 100 / limit)))
    return Usage(name, shown(limit), shown(used), percent)


def _loss(value: Decimal) -> str:
    """Today's loss; a gain (a negative loss) says so, never read as a loss."""
    return f"gain {usdc(-value)}" if value < 0 else usdc(value)


def _times(value: Decimal) -> str:
    return f"{fixed(value, 2)}x"


def _usages(row: RiskLimit, exposure: Exposure | None) -> list[Usage]:
    if exposure is None:
        exposure = Exposure()
    widest = max((m.worst for m in exposure.markets.values()), default=ZERO)
    leverage = (
        exposure.total / exposure.net_equity
        if exposure.net_equity is not None and exposure.net_equity > 0
        else ZERO
    )
    return [
        _usage("Order notional", row.max_order_notional, ZERO, usdc),
        _usage("Position, largest market", row.max_position_notional_market, widest, usdc),
        _usage("Position, total", row.max_position_notional_total, exposure.total, usdc),
        _usage("Open orders", row.max_open_orders, Decimal(exposure.open_orders), plain),
        _usage("Leverage", row.max_leverage, leverage, _times),
        _usage("Daily loss", row.daily_loss_limit, exposure.daily_loss or ZERO, _loss),
    ]


def _own(row: RiskLimit, exposure: Exposure | None, read: Any) -> Exposure | None:
    """The exposure a row's limits bind: the whole subaccount's, or the member's own."""
    if row.member_id is None or read is None or exposure is None:
        return exposure
    mine = read.member(row.member_id)
    loss = read.losses.get(row.member_id, ZERO)
    return Exposure(mine.markets, mine.open_orders, mine.net_equity, daily_loss=loss)


def risk_rows_for(
    *, subaccount: Subaccount, exposure: Exposure | None, read: Any = None
) -> list[LimitRow]:
    """The subaccount's row first, then one per member with limits of their own (``read``, an
    `ExposureRead`, gives each member's own usage)."""
    rows = RiskLimit.objects.filter(subaccount=subaccount).select_related("member")
    out = [
        LimitRow(row, row.member.get_username() if row.member else "Whole subaccount")
        for row in rows
    ]
    out.sort(key=lambda r: (r.row.member_id is not None, r.who))
    for item in out:
        item.usages = _usages(item.row, _own(item.row, exposure, read))
    return out


def risk_breaches_for(*, subaccount: Subaccount) -> list[RiskBreach]:
    """The latest refusals of the gate on the subaccount, newest first."""
    return list(RiskBreach.objects.filter(subaccount=subaccount)[:BREACHES_SHOWN])


def risk_members_of(*, subaccount: Subaccount) -> list[tuple[int, str]]:
    """(user id, username) of every member, for the form's member choice."""
    return [
        (m.user_id, m.user.get_username())
        for m in subaccount.memberships.select_related("user").order_by("user__username")
    ]


def risk_page_context(
    *, subaccount: Subaccount, exposure: Exposure | None, read: Any = None
) -> dict[str, Any]:
    rows = risk_rows_for(subaccount=subaccount, exposure=exposure, read=read)
    zone = team_time_zone()
    today = loss_day(zone=zone)
    return {
        "day_zone": zone,  # the daily loss counts the team's days
        "rows": rows,
        "reduce_only": [r for r in rows if r.row.reduce_only],
        "kill_engaged": any(r.row.member_id is None and kill_switch_holds(r.row) for r in rows),
        "loss_stops": [r for r in rows if loss_stop_in_effect(r.row, today)],
        "breaches": risk_breaches_for(subaccount=subaccount),
        "members": risk_members_of(subaccount=subaccount),
    }


async def risk_market_names() -> tuple[frozenset[str] | None, str]:
    """The market symbols the exchange lists and "", or None and the reason when it cannot
    be read (the limits form then saves allowed markets unchecked, and says so)."""
    try:
        markets = await exchange_session().markets.all()
    except EXCHANGE_ERRORS as error:
        return None, failure_text(error)
    return frozenset(markets), ""


def risk_limits_in_force(
    *, subaccount: Subaccount, member: Any | None, equity: Decimal | None
) -> LimitValues | None:
    """What the limits form opens with, so that changing one field keeps the others: the
    stored row of the subaccount (``member`` None) or of the member, reduce-only included.

    The subaccount without a row: the defaults its first order would get from ``equity``
    (amounts down to the cent, so the form takes them back as typed), or None while the
    equity is unknown (the defaults cannot be told). A member without a row of their own:
    no limit of their own (every field empty).
    """
    row = RiskLimit.objects.filter(subaccount=subaccount, member=member).first()
    if row is not None:
        return LimitValues(**{f.name: getattr(row, f.name) for f in fields(LimitValues)})
    if member is not None:
        return LimitValues()
    if equity is None:
        return None
    defaults = risk_default_limits(equity)
    return LimitValues(
        **{
            name: value.quantize(CENT, rounding=ROUND_DOWN)
            if isinstance(value, Decimal) and name != "max_leverage"
            else value
            for name, value in defaults.items()
        }
    )


@dataclass(frozen=True)
class StopMarker:
    """Why a subaccount (or one of its members) may only reduce risk now, as its overview
    card says it: ``kind`` is "kill-switch", "reduce-only" or "daily-loss"."""

    kind: str
    text: str


def _since(moment: datetime | None, zone: str, today: date) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    shown = local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
    return f" since {shown} {zone}"


def _kill_engaged_at(subaccount_ids: list[int]) -> dict[int, datetime]:
    """When the kill switch was last pulled on each of the subaccounts (its audit record)."""
    events = AuditEvent.objects.filter(
        action="kill_switch_engage", subaccount_id__in=subaccount_ids, result=AuditEvent.Result.OK
    ).values_list("subaccount_id", "created_at")
    latest: dict[int, datetime] = {}
    for subaccount_id, created_at in events:
        if subaccount_id not in latest or created_at > latest[subaccount_id]:
            latest[subaccount_id] = created_at
    return latest


def risk_stops_for(*, subaccount_ids: Iterable[int]) -> dict[int, list[StopMarker]]:
    """Every stop in force on the subaccounts, by subaccount id (none: no entry): the kill
    switch (since when, in the team's zone, and why), a reduce-only mode an admin set, and
    today's daily loss stops; the whole subaccount's first, then its members' by name."""
    rows = list(
        RiskLimit.objects.filter(subaccount_id__in=list(subaccount_ids)).select_related("member")
    )
    zone = team_time_zone()
    today = loss_day(zone=zone)
    kill_ids = [r.subaccount_id for r in rows if r.member_id is None and kill_switch_holds(r)]
    engaged_at = _kill_engaged_at(kill_ids) if kill_ids else {}
    rows.sort(key=lambda r: (r.member_id is not None, r.member.get_username() if r.member else ""))
    stops: dict[int, list[StopMarker]] = {}
    for row in rows:
        who = f"{row.member.get_username()}: " if row.member else ""
        found = stops.setdefault(row.subaccount_id, [])
        if row.member_id is None and kill_switch_holds(row):
            reason = row.reduce_only_reason.removeprefix(f"{KILL_REASON}:").strip()
            since = _since(engaged_at.get(row.subaccount_id), zone, today)
            text = f"Kill switch engaged: reduce-only{since}, reason: {reason}"
            found.append(StopMarker("kill-switch", text))
        elif row.reduce_only:
            text = (
                f"{who}reduce-only ({row.reduce_only_reason})"
                if who
                else (f"Reduce-only ({row.reduce_only_reason})")
            )
            found.append(StopMarker("reduce-only", text))
        loss = loss_stop_in_effect(row, today)
        if loss:
            text = (
                f"{who}daily loss stop: reduce-only for today ({loss})"
                if who
                else (f"Daily loss stop: reduce-only for today ({loss})")
            )
            found.append(StopMarker("daily-loss", text))
    return {pk: found for pk, found in stops.items() if found}
