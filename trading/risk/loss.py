"""The daily loss limit (issue 15.3): measured from the ledger, enforced by the gate.

Today's loss of a subaccount is minus its PnL for the day from its ledger, the day counted in
the team's time zone (`accounts.team.team_time_zone`, as the overview, the PnL calendar and
the checkpoints count it)::

    loss today = -(realized today + funding today - fees today
                   + (unrealized now - unrealized at the day's start))

Unrealized now is what it holds at the exchange's mark prices. Unrealized at the day's start
is what it held at 00:00 in the team's zone (the ledger's fills before today) valued at the
marks of the day's first evaluation, stored then (`RiskDayStart`, per zone) so that a loss
accrued before today does not count again today. Spot holdings have no mark here and count at
cost. A member's loss is the same fold over the fills of the orders that member sent (found
by ``clientId``); funding belongs to the subaccount only.

When the loss of a level (the whole subaccount, or a member with a limit of their own)
passes its ``daily_loss_limit``, the gate switches that `RiskLimit` row to reduce-only for
the day (`loss_stop_day`, with the reason), audits it and opens one alert (bell and
webhooks, deduplicated by a key holding the day). The stop lasts until the day ends (it is
only in effect while `loss_stop_day` is today) or an admin releases it with a fresh
two-factor code; a released level is not stopped again the same day.

The loss is as current as the ledger: the relay's ledger keeper catches up after each fill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.models import Role, Subaccount
from accounts.permissions import require_role
from accounts.team import team_time_zone
from trading.desk_tickets import OrderRef, ticket_owners
from trading.ledger.pnl import ZERO, FillEvent, FundingEvent, Holding, PnlFold
from trading.models import RiskDayStart, RiskLimit
from trading.models.ledger import LedgerCursor, LedgerEntry
from trading.monitoring.alerts import AlertChange, _clear, _open
from trading.monitoring.bell import alert_recipients, bell_messages, push_bells
from trading.risk.gate import amount_text

UTC = ZoneInfo("UTC")
Kind = LedgerEntry.Kind
ALERT_KIND = "daily_loss"
SUBACCOUNT = "subaccount"


def today_utc(now: datetime | None = None) -> date:
    """The UTC day of ``now`` (the daily loss limit counts in the team's zone: `loss_day`)."""
    return (now or timezone.now()).astimezone(UTC).date()


def loss_day(now: datetime | None = None, zone: str | None = None) -> date:
    """The day the daily loss limit counts in: today in the team's time zone (``zone`` when
    the caller read it already)."""
    return (now or timezone.now()).astimezone(ZoneInfo(zone or team_time_zone())).date()


@dataclass
class LevelLedger:
    """One level's fold of the ledger (the whole subaccount, or one member's fills) and what
    it held when the day began (``start``: copies of the holdings when the day began)."""

    fold: PnlFold
    start: dict[str, Holding] | None = None  # None: the day has not begun in the ledger yet

    def held_at_start(self) -> dict[str, Holding]:
        return self.start if self.start is not None else _copy(self.fold.holdings)


@dataclass
class LedgerDigest:
    """The subaccount's ledger folded once: per level (None: whole subaccount; a user id),
    its days counted in ``zone``."""

    day: date
    levels: dict[int | None, LevelLedger]
    zone: str = "UTC"

    def positions_of(self, member_id: int) -> dict[str, Decimal]:
        """The signed quantity per market that ``member_id``'s own fills built."""
        level = self.levels.get(member_id)
        if level is None:
            return {}
        return {s: h.quantity for s, h in level.fold.holdings.items() if h.quantity}


def _copy(holdings: Mapping[str, Holding]) -> dict[str, Holding]:
    return {s: Holding(quantity=h.quantity, cost=h.cost) for s, h in holdings.items()}


def _unrealized(holdings: Mapping[str, Holding], marks: Mapping[str, Decimal]) -> Decimal:
    return sum(
        (h.unrealized(marks[s]) for s, h in holdings.items() if s in marks and h.quantity), ZERO
    )


def ledger_digest(
    *, subaccount: Subaccount, day: date | None = None, zone: str | None = None
) -> LedgerDigest:
    """Fold the subaccount's fills and funding once, for the whole subaccount and for each
    member who sent an order that filled (the ticket of its order: by order id first,
    `trading.desk_tickets`), noting the holdings at the
    start of ``day`` (today by default), days counted in ``zone`` (the team's by default)."""
    zone = zone or team_time_zone()
    where = ZoneInfo(zone)
    day = day or loss_day(zone=zone)
    senders = ticket_owners(subaccount.pk, value="actor_id", fills=True)
    levels: dict[int | None, LevelLedger] = {None: LevelLedger(PnlFold(zone=where))}
    entries = LedgerEntry.objects.filter(
        subaccount_id=subaccount.pk, kind__in=(Kind.FILL, Kind.FUNDING)
    ).order_by("occurred_at", "id")
    fields = ("kind", "occurred_at", "symbol", "side", "quantity", "price", "fee", "fee_symbol")
    begun = False
    for row in entries.values_list(*fields, "client_id", "order_id", "origin").iterator(2000):
        kind, at, symbol, side, quantity, price, fee, fee_symbol, client_id, order_id, origin = row
        # the fold's own day rule (a row's day is its time's date in the zone): the day
        # begins where the fold's lines of ``day`` do, whatever the zone's midnight does
        if not begun and at.astimezone(where).date() >= day:
            begun = True
            for level in levels.values():
                level.start = _copy(level.fold.holdings)
        whole = levels[None].fold
        if kind == Kind.FUNDING:
            whole.add(FundingEvent(at, symbol, quantity))
            continue
        fill = FillEvent(at, symbol, side, quantity, price, fee, fee_symbol)
        whole.add_fill(fill)
        member = senders.owner(OrderRef.of_fill(order_id, client_id, origin))
        if member is not None:
            if member not in levels:
                levels[member] = LevelLedger(PnlFold(zone=where), {} if begun else None)
            levels[member].fold.add_fill(fill)
    return LedgerDigest(day=day, levels=levels, zone=zone)


# subaccount id -> (the ledger's version when folded, the digest)
_digests: dict[int, tuple[tuple[Any, ...], LedgerDigest]] = {}


def _ledger_version(subaccount_id: int, day: date, zone: str) -> tuple[Any, ...]:
    """What changes whenever the ledger of the subaccount does: every sync moves its history
    cursors, and every new entry has a higher id."""
    cursors = tuple(
        LedgerCursor.objects.filter(subaccount_id=subaccount_id)
        .order_by("history")
        .values_list("history", "rows_read", "synced_at")
    )
    newest = LedgerEntry.objects.filter(subaccount_id=subaccount_id).aggregate(Max("id"))
    return day, zone, cursors, newest["id__max"]


def ledger_digest_current(*, subaccount: Subaccount, day: date | None = None) -> LedgerDigest:
    """`ledger_digest`, folded again only when the ledger changed (or the day, or the team's
    time zone did): a large ledger is not read again at every exposure read."""
    zone = team_time_zone()
    day = day or loss_day(zone=zone)
    version = _ledger_version(subaccount.pk, day, zone)
    kept = _digests.get(subaccount.pk)
    if kept is not None and kept[0] == version:
        return kept[1]
    digest = ledger_digest(subaccount=subaccount, day=day, zone=zone)
    _digests[subaccount.pk] = (version, digest)
    return digest


def _day_starts(
    subaccount: Subaccount, digest: LedgerDigest, marks: Mapping[str, Decimal]
) -> dict[int | None, Decimal]:
    """Each level's unrealized PnL at the day's start: stored at the day's first evaluation
    (what it held at 00:00 in the digest's zone, at that evaluation's marks), read back
    afterwards (per zone: the team's day of another zone starts at another moment). Not stored
    while a perpetual held at the day's start has no mark (it would count as zero)."""
    found: dict[int | None, Decimal] = {}
    stored = dict(
        RiskDayStart.objects.filter(
            subaccount_id=subaccount.pk, day=digest.day, zone=digest.zone
        ).values_list("level", "unrealized")
    )
    new: list[RiskDayStart] = []
    for member, level in digest.levels.items():
        key = member or 0
        if key in stored:
            found[member] = stored[key]
            continue
        held = level.held_at_start()
        found[member] = _unrealized(held, marks)
        if all(s in marks for s, h in held.items() if h.quantity and s.endswith("_PERP")):
            new.append(
                RiskDayStart(
                    subaccount_id=subaccount.pk,
                    level=key,
                    day=digest.day,
                    zone=digest.zone,
                    unrealized=found[member],
                )
            )
    if new:
        RiskDayStart.objects.bulk_create(new, ignore_conflicts=True)
        # Another process may have stored a level first: its value is the day's.
        keys = [r.level for r in new]
        for key, value in RiskDayStart.objects.filter(
            subaccount_id=subaccount.pk, day=digest.day, zone=digest.zone, level__in=keys
        ).values_list("level", "unrealized"):
            found[key or None] = value
    return found


def losses_of(
    *, subaccount: Subaccount, digest: LedgerDigest, marks: Mapping[str, Decimal]
) -> dict[int | None, Decimal]:
    """Today's loss of every level of the digest: minus (realized - fees + funding of today's
    lines + unrealized now at ``marks`` - unrealized at the day's start)."""
    starts = _day_starts(subaccount, digest, marks)
    found: dict[int | None, Decimal] = {}
    for member, level in digest.levels.items():
        rows = level.fold.rows.items()
        made = sum((row.net for (d, _s, _m), row in rows if d == digest.day), ZERO)
        now = _unrealized(level.fold.holdings, marks)
        found[member] = -(made + now - starts.get(member, ZERO))
    return found


def daily_losses(
    *, subaccount: Subaccount, marks: Mapping[str, Decimal], day: date | None = None
) -> dict[int | None, Decimal]:
    """Today's loss (positive: lost, negative: made) of the subaccount (key None) and of each
    member who sent an order that filled (key the user id), from the ledger, with unrealized
    PnL at ``marks`` ({symbol: mark price}) counted as its change since the day began."""
    digest = ledger_digest_current(subaccount=subaccount, day=day)
    return losses_of(subaccount=subaccount, digest=digest, marks=marks)


def daily_loss_for(
    *, subaccount: Subaccount, marks: Mapping[str, Decimal] | None = None, member: Any = None
) -> Decimal:
    """Today's realized plus unrealized loss of the subaccount (or of one member on it), as a
    positive amount (negative: a gain). See the module docstring."""
    losses = daily_losses(subaccount=subaccount, marks=marks or {})
    if member is None:
        return losses[None]
    return losses.get(member.pk, ZERO)


def loss_stop_in_effect(row: RiskLimit | None, day: date) -> str:
    """The row's daily loss stop reason when it holds today ("" otherwise)."""
    if row is None or row.loss_stop_day != day:
        return ""
    return row.loss_stop_reason


def _alert_key(row: RiskLimit, day: date) -> str:
    level = row.member_id if row.member_id is not None else SUBACCOUNT
    return f"{ALERT_KIND}:{row.subaccount_id}:{level}:{day.isoformat()}"


def _who(row: RiskLimit) -> str:
    return "the whole subaccount" if row.member_id is None else row.member.get_username()


@dataclass(frozen=True)
class LossStop:
    """A level the daily loss limit just stopped."""

    row_id: int
    reason: str


def loss_stops_apply(
    *,
    subaccount: Subaccount,
    rows: Mapping[int | None, RiskLimit],
    losses: Mapping[int | None, Decimal],
    now: datetime | None = None,
    day: date | None = None,
) -> list[AlertChange]:
    """Inside the gate's transaction, with ``rows`` locked: switch every row whose level's loss
    passed its limit today (``day``: the day ``losses`` were counted for, today in the team's
    zone by default) to reduce-only (audited, one alert). Returns the alerts opened (their
    bells are pushed by the caller once the transaction is over)."""
    now = now or timezone.now()
    day = day or loss_day(now)
    changes: list[AlertChange] = []
    for member_id, row in rows.items():
        limit = row.daily_loss_limit
        loss = losses.get(member_id)
        if (
            limit is None
            or loss is None
            or loss <= limit
            or loss <= 0
            or row.loss_stop_day == day
            or row.loss_released_day == day
        ):
            continue
        who = _who(row)
        scope = "" if row.member_id is None else f" of {who}"
        row.loss_stop_day = day
        row.loss_stop_reason = (
            f"daily loss limit{scope}: today's loss {amount_text(loss)} USDC passed the limit "
            f"of {amount_text(limit)} USDC"
        )
        row.save(update_fields=["loss_stop_day", "loss_stop_reason", "updated_at"])
        audit_record(
            actor=None,
            action="risk_daily_loss_stop",
            subaccount=subaccount,
            parameters={"member": who, "loss": loss, "limit": limit, "day": day.isoformat()},
            detail=f"{row.loss_stop_reason}; reduce-only until released or the day ends",
        )
        message = (
            f"{subaccount.name}: {who} switched to reduce-only: today's loss "
            f"{amount_text(loss)} USDC passed the daily loss limit of {amount_text(limit)} USDC."
        )
        changes += _open(_alert_key(row, day), ALERT_KIND, subaccount.pk, message, now)
    return changes


def _watch_apply(subaccount: Subaccount, losses: Mapping[int | None, Decimal], day: date) -> list:
    expired = loss_alerts_expire(timezone.now(), day)
    with transaction.atomic():
        rows = {
            row.member_id: row
            for row in RiskLimit.objects.order_by()
            .select_for_update(of=("self",))
            .filter(subaccount=subaccount, daily_loss_limit__isnull=False)
            .select_related("member")
        }
        return expired + loss_stops_apply(subaccount=subaccount, rows=rows, losses=losses, day=day)


def _watched(subaccount: Subaccount) -> bool:
    return RiskLimit.objects.filter(subaccount=subaccount, daily_loss_limit__isnull=False).exists()


async def risk_loss_watch(*, subaccount: Subaccount, client: Any = None) -> list[AlertChange]:
    """Check the subaccount's and its members' daily loss now, without an order: read the
    marks from the exchange (no transaction open), then stop every level past its limit as
    the gate would (audited, one alert). The ledger keeper calls it after each sync."""
    if not await sync_to_async(_watched)(subaccount):
        return []
    if client is None:
        from trading.exchange import client_for

        client = client_for(subaccount)
    marks = {p.symbol: p.mark_price for p in await client.positions()}
    digest = await sync_to_async(ledger_digest_current)(subaccount=subaccount)
    losses = await sync_to_async(losses_of)(subaccount=subaccount, digest=digest, marks=marks)
    changes = await sync_to_async(_watch_apply)(subaccount, losses, digest.day)
    await alerts_push(changes)
    await loss_stop_twaps_stop(subaccount=subaccount, day=digest.day, client=client)
    return changes


def _stopped_levels(subaccount: Subaccount, day: date | None) -> list[int | None]:
    rows = RiskLimit.objects.filter(subaccount=subaccount, loss_stop_day=day or loss_day())
    return list(rows.values_list("member_id", flat=True))


async def loss_stop_twaps_stop(
    *, subaccount: Subaccount, day: date | None = None, client: Any = None
) -> None:
    """Stop the running TWAPs of every level the daily loss limit stopped on ``day`` (today
    in the team's zone by default): all of the subaccount's when the whole subaccount is
    stopped, else those its stopped members started. The exchange sends their slices past
    the gate, so they would keep adding risk while the level is reduce-only. Nothing is read
    from the exchange while no level is stopped."""
    levels = await sync_to_async(_stopped_levels)(subaccount, day)
    if not levels:
        return
    from trading.twap.services import twaps_stop_for_risk  # it imports the gate, which imports us

    whole = None in levels
    await twaps_stop_for_risk(
        subaccount=subaccount,
        reason="daily loss stop",
        members=None if whole else {m for m in levels if m is not None},
        client=client,
    )


async def alerts_push(changes: list[AlertChange]) -> None:
    """Push the bells of the users concerned by ``changes`` (after the transaction)."""
    if not changes:
        return
    messages = await sync_to_async(bell_messages)(
        await sync_to_async(alert_recipients)([c.subaccount_id for c in changes])
    )
    await push_bells(messages)


def _release(
    actor: Any, subaccount: Subaccount, member: Any | None, otp_code: str, ip: str | None
) -> list[AlertChange]:
    require_role(actor, subaccount, Role.ADMIN)
    fresh_code_require(
        actor=actor,
        otp_code=otp_code,
        subaccount=subaccount,
        action="risk_daily_loss_release",
        ip=ip,
    )
    now = timezone.now()
    day = loss_day(now)
    with transaction.atomic():
        row = (
            RiskLimit.objects.order_by()
            .select_for_update(of=("self",))
            .filter(subaccount=subaccount, member=member)
            .first()
        )
        if row is None or row.loss_stop_day != day:
            raise ServiceError("The daily loss limit has not stopped this today.", field="member")
        reason = row.loss_stop_reason
        row.loss_stop_day = None
        row.loss_stop_reason = ""
        row.loss_released_day = day
        row.save(
            update_fields=["loss_stop_day", "loss_stop_reason", "loss_released_day", "updated_at"]
        )
        who = _who(row)
        audit_record(
            actor=actor,
            action="risk_daily_loss_release",
            subaccount=subaccount,
            parameters={"member": who, "day": day.isoformat()},
            detail=f"released: {reason}",
            ip=ip,
        )
        text = f"{subaccount.name}: {who} released from the daily loss stop by an admin."
        return _clear(_alert_key(row, day), text, now)


async def risk_loss_release(
    *,
    actor: Any,
    subaccount: Subaccount,
    member: Any | None = None,
    otp_code: str,
    ip: str | None = None,
) -> None:
    """Lift today's daily loss stop of the subaccount (``member`` None) or of one member:
    admin of the subaccount, fresh two-factor code, audited; the alert clears. The level is
    not stopped again by the daily loss limit until the day ends."""
    changes = await sync_to_async(_release)(actor, subaccount, member, otp_code, ip)
    await alerts_push(changes)


def loss_alerts_expire(now: datetime, today: date | None = None) -> list[AlertChange]:
    """Clear the daily loss alerts of days that are over (the stop ended with its day; days
    in the team's zone); run by `risk_loss_watch` after each ledger sync, not in the gate
    (one query less per order)."""
    from trading.models import Alert

    day = (today or loss_day(now)).isoformat()
    changes: list[AlertChange] = []
    for key in Alert.objects.filter(kind=ALERT_KIND, cleared_at__isnull=True).values_list(
        "key", flat=True
    ):
        if not key.endswith(f":{day}"):
            changes += _clear(key, "The day ended: the daily loss stop is over.", now)
    return changes
