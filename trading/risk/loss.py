"""The daily loss limit (issue 15.3): measured from the ledger, enforced by the gate.

Today's loss of a subaccount is minus its PnL for the UTC day from its ledger: realized
minus fees plus funding of today's lines, plus the unrealized PnL of what it holds now at
the exchange's mark prices. A position opened before today counts its whole unrealized PnL
(the ledger keeps no marks of the day's start): the figure errs on the side of stopping.
Spot holdings have no mark here and count at cost. A member's loss is the same fold over
the fills of the orders that member sent (found by ``clientId``); funding belongs to the
subaccount only.

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
from django.utils import timezone

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.models import Role, Subaccount
from accounts.permissions import require_role
from trading.ledger.pnl import ZERO, FillEvent, FundingEvent, PnlFold
from trading.models import RiskLimit
from trading.models.ledger import LedgerEntry
from trading.models.tickets import OrderTicket
from trading.monitoring.alerts import AlertChange, _clear, _open
from trading.monitoring.bell import alert_recipients, bell_messages, push_bells
from trading.risk.gate import amount_text

UTC = ZoneInfo("UTC")
Kind = LedgerEntry.Kind
ALERT_KIND = "daily_loss"
SUBACCOUNT = "subaccount"


def today_utc(now: datetime | None = None) -> date:
    """The UTC day the daily loss limit counts in."""
    return (now or timezone.now()).astimezone(UTC).date()


def _loss(fold: PnlFold, day: date, marks: Mapping[str, Decimal]) -> Decimal:
    made = sum((row.net for (d, _s, _m), row in fold.rows.items() if d == day), ZERO)
    return -(made + sum(fold.unrealized(marks).values(), ZERO))


def daily_losses(
    *, subaccount: Subaccount, marks: Mapping[str, Decimal], day: date | None = None
) -> dict[int | None, Decimal]:
    """Today's loss (positive: lost, negative: made) of the subaccount (key None) and of each
    member who sent an order that filled (key the user id), from the ledger, with unrealized
    PnL at ``marks`` ({symbol: mark price})."""
    day = day or today_utc()
    senders = dict(
        OrderTicket.objects.filter(subaccount_id=subaccount.pk, actor__isnull=False).values_list(
            "client_id", "actor_id"
        )
    )
    whole = PnlFold(zone=UTC)
    members: dict[int, PnlFold] = {}
    entries = LedgerEntry.objects.filter(
        subaccount_id=subaccount.pk, kind__in=(Kind.FILL, Kind.FUNDING)
    ).order_by("occurred_at", "id")
    fields = ("kind", "occurred_at", "symbol", "side", "quantity", "price", "fee", "fee_symbol")
    for row in entries.values_list(*fields, "client_id").iterator(2000):
        kind, at, symbol, side, quantity, price, fee, fee_symbol, client_id = row
        if kind == Kind.FUNDING:
            whole.add(FundingEvent(at, symbol, quantity))
            continue
        fill = FillEvent(at, symbol, side, quantity, price, fee, fee_symbol)
        whole.add_fill(fill)
        member = senders.get(client_id) if client_id is not None else None
        if member is not None:
            members.setdefault(member, PnlFold(zone=UTC)).add_fill(fill)
    found: dict[int | None, Decimal] = {None: _loss(whole, day, marks)}
    for member, fold in members.items():
        found[member] = _loss(fold, day, marks)
    return found


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
) -> list[AlertChange]:
    """Inside the gate's transaction, with ``rows`` locked: switch every row whose level's loss
    passed its limit today to reduce-only (audited, one alert). Returns the alerts opened
    (their bells are pushed by the caller once the transaction is over)."""
    now = now or timezone.now()
    day = today_utc(now)
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


def _watch_apply(subaccount: Subaccount, losses: Mapping[int | None, Decimal]) -> list:
    expired = loss_alerts_expire(timezone.now())
    with transaction.atomic():
        rows = {
            row.member_id: row
            for row in RiskLimit.objects.order_by()
            .select_for_update(of=("self",))
            .filter(subaccount=subaccount, daily_loss_limit__isnull=False)
            .select_related("member")
        }
        return expired + loss_stops_apply(subaccount=subaccount, rows=rows, losses=losses)


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
    losses = await sync_to_async(daily_losses)(subaccount=subaccount, marks=marks)
    changes = await sync_to_async(_watch_apply)(subaccount, losses)
    await alerts_push(changes)
    return changes


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
    day = today_utc(now)
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


def loss_alerts_expire(now: datetime) -> list[AlertChange]:
    """Clear the daily loss alerts of days that are over (the stop ended with its day); run
    by `risk_loss_watch` after each ledger sync, not in the gate (one query less per order)."""
    from trading.models import Alert

    day = today_utc(now).isoformat()
    changes: list[AlertChange] = []
    for key in Alert.objects.filter(kind=ALERT_KIND, cleared_at__isnull=True).values_list(
        "key", flat=True
    ):
        if not key.endswith(f":{day}"):
            changes += _clear(key, "The day ended: the daily loss stop is over.", now)
    return changes
