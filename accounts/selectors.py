"""Read models for subaccount administration, always filtered by the reader's membership."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Role, Subaccount
from accounts.permissions import role_of, subaccounts_visible_to
from trading.formatting import DASH, percent, plain, usdc


@dataclass(frozen=True)
class SubaccountRow:
    """A subaccount as listed for one reader, with the reader's role."""

    subaccount: Subaccount
    role: Role


def subaccount_list(*, user: Any) -> list[SubaccountRow]:
    """The subaccounts the user may see, with the user's role on each."""
    if user.is_superuser:
        return [SubaccountRow(s, Role.ADMIN) for s in Subaccount.objects.all()]
    memberships = Membership.objects.filter(user=user).select_related("subaccount")
    return [SubaccountRow(m.subaccount, Role(m.role)) for m in memberships]


def subaccount_get(*, user: Any, subaccount_id: int) -> Subaccount | None:
    """The subaccount when the user may see it, else None (the view answers 404)."""
    return subaccounts_visible_to(user).filter(pk=subaccount_id).first()


def shared_key_text(*, subaccount: Subaccount) -> str:
    """For the subaccount's admins: which other subaccounts have its API key (possible only
    for subaccounts added before the desk refused a key twice), or "" when none has."""
    others = list(
        Subaccount.objects.filter(api_public_key=subaccount.api_public_key)
        .exclude(pk=subaccount.pk)
        .order_by("pk")
        .values_list("name", flat=True)
    )
    if not others:
        return ""
    who = (
        f"The subaccount {others[0]} has"
        if len(others) == 1
        else (f"The subaccounts {', '.join(others)} have")
    )
    return (
        f"{who} this API key too, so team equity, PnL and positions count this exchange "
        "account more than once. Rotate the key of the subaccount that is not this exchange "
        "account to the key of its own exchange account."
    )


def subaccount_members(*, subaccount: Subaccount) -> QuerySet[Membership]:
    return Membership.objects.filter(subaccount=subaccount).select_related("user")


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log page; every field optional."""

    subaccount_id: int | None = None
    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_events(*, user: Any, filters: AuditFilter | None = None) -> QuerySet[AuditEvent]:
    """Audit events the user may read: of subaccounts they admin, and their own actions.

    Superusers read everything, including events that concern no subaccount.
    """
    filters = filters or AuditFilter()
    events = AuditEvent.objects.select_related("subaccount")
    if not user.is_superuser:
        admin_of = subaccounts_visible_to(user, min_role=Role.ADMIN).values("pk")
        events = events.filter(Q(subaccount__in=admin_of) | Q(actor=user))
    if filters.subaccount_id:
        events = events.filter(subaccount_id=filters.subaccount_id)
    if filters.actor:
        events = events.filter(actor_name__iexact=filters.actor.strip())
    if filters.action:
        events = events.filter(action=filters.action.strip())
    tz = timezone.get_current_timezone()
    if filters.date_from:
        events = events.filter(created_at__gte=datetime.combine(filters.date_from, time(), tz))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tz)
        events = events.filter(created_at__lt=end)
    return events


def audit_actions() -> list[str]:
    """Every action name present in the trail, for the filter's choices."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def role_label(*, user: Any, subaccount: Subaccount) -> str:
    role = role_of(user, subaccount)
    return role.label if role else ""


def _pct(value: Decimal) -> str:
    """A setting held in percent (10 -> "10.00"), by the one rule for ratios."""
    return percent(value / 100, signed=False).removesuffix("%")


def confirm_guard_text(*, subaccount: Subaccount) -> str:
    """The subaccount's fat-finger guard in words (every subaccount has one)."""
    text = f"Confirm orders above {_pct(subaccount.order_confirm_equity_pct)}% of equity"
    if subaccount.order_confirm_notional is not None:
        text += f" or above {usdc(subaccount.order_confirm_notional)} USDC notional"
    return (
        f"{text}, and limit prices more than {_pct(subaccount.order_confirm_price_pct)}% "
        "through the best opposite price."
    )


# A Decimal as the trail stores it (`accounts.audit.scrub`: every digit the database held).
_STORED_DECIMAL = re.compile(r"-?\d+\.\d+")


def _audit_value(value: Any) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{_audit_key(k)}: {_audit_value(v)}" for k, v in value.items()) or DASH
    if isinstance(value, list | tuple):
        return ", ".join(_audit_value(v) for v in value) or DASH
    if isinstance(value, Decimal) or (isinstance(value, str) and _STORED_DECIMAL.fullmatch(value)):
        return plain(value)  # a stored setting: "1173840", "3", never its database's zeros
    return str(value)


def _audit_key(key: Any) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in str(key)).replace("_", " ")
    words = " ".join(words.split())
    return words[:1].upper() + words[1:]


def audit_fields(parameters: Any) -> list[tuple[str, str]]:
    """An audit record's parameters as (label, value) pairs a person reads: "Order confirm
    notional" / "5000" (a stored decimal by `plain`, without the database's trailing zeros),
    booleans as yes/no, nothing as the desk's dash, nested values inline; in the order of
    their labels (PostgreSQL's jsonb keeps no key order, so the order they were recorded in
    is not there to show)."""
    if not isinstance(parameters, dict):
        return [("Parameters", _audit_value(parameters))] if parameters else []
    return sorted((_audit_key(k), _audit_value(v)) for k, v in parameters.items())
