"""Setting risk limits (admins of the subaccount, with a fresh two-factor code, audited).

Every limit may be left empty, which means "no limit": that is an explicit choice, recorded
in the audit trail as "no limit" next to the value it replaced.

The subaccount's row also holds the kill switch's reduce-only mode (`trading.risk.kill`):
saving limits never lifts it; only "Lift the kill switch" does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.models import Membership, Role, Subaccount
from accounts.permissions import require_role
from trading.models import RiskLimit

NO_LIMIT = "no limit"
KILL_REASON = "kill switch"  # how the kill switch's reduce-only reason starts
KILL_HOLDS = (
    "The kill switch holds this subaccount reduce-only: saving limits does not lift it. "
    "Keep Reduce only ticked, or lift the kill switch with its own button first."
)

ZERO_LEVERAGE = (
    "A max leverage of 0 would refuse every order that adds risk: type a leverage above 0, or "
    "leave it empty for no limit."
)


def markets_unknown(allowed_markets: str, known: frozenset[str]) -> list[str]:
    """The names of ``allowed_markets`` (comma separated, any case) that are not in
    ``known`` (the exchange's market symbols), upper-cased and sorted."""
    names = {m.strip().upper() for m in allowed_markets.split(",") if m.strip()}
    return sorted(names - known)


@dataclass(frozen=True)
class LimitValues:
    """The values an admin sets on one `RiskLimit` row (None: no limit)."""

    max_order_notional: Decimal | None = None
    max_position_notional_market: Decimal | None = None
    max_position_notional_total: Decimal | None = None
    max_open_orders: int | None = None
    max_leverage: Decimal | None = None
    allowed_markets: str = ""
    daily_loss_limit: Decimal | None = None
    reduce_only: bool = False
    reduce_only_reason: str = ""


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {k: NO_LIMIT if v is None else v for k, v in values.items()}


def _checked(values: LimitValues) -> LimitValues:
    for name in (
        "max_order_notional",
        "max_position_notional_market",
        "max_position_notional_total",
        "max_leverage",
        "daily_loss_limit",
    ):
        value = getattr(values, name)
        if value is not None and (not value.is_finite() or value < 0):
            raise ServiceError("A limit must be zero or more (or empty for no limit).", field=name)
    if values.max_leverage is not None and values.max_leverage == 0:
        raise ServiceError(ZERO_LEVERAGE, field="max_leverage")
    if values.reduce_only and not values.reduce_only_reason.strip():
        raise ServiceError("Say why the member is reduce-only.", field="reduce_only_reason")
    markets = sorted({m.strip().upper() for m in values.allowed_markets.split(",") if m.strip()})
    return LimitValues(**{**asdict(values), "allowed_markets": ",".join(markets)})


def kill_switch_holds(row: RiskLimit) -> bool:
    """Whether the row is reduce-only because the kill switch was pulled."""
    return row.reduce_only and row.reduce_only_reason.startswith(f"{KILL_REASON}:")


def risk_limits_set(
    *,
    actor: Any,
    subaccount: Subaccount,
    member: Any | None,
    values: LimitValues,
    otp_code: str,
    ip: str | None = None,
) -> RiskLimit:
    """Set the limits of the subaccount (`member` None) or of one of its members.

    Admin of the subaccount; needs a fresh two-factor code (refused and audited as denied
    otherwise). Audited with the previous and the new values. Refused when it would lift the
    kill switch's reduce-only mode (that is `kill_switch_release`'s job).
    """
    require_role(actor, subaccount, Role.ADMIN)
    if (
        member is not None
        and not Membership.objects.filter(user=member, subaccount=subaccount).exists()
    ):
        raise ServiceError("That user is not a member of this subaccount.", field="member")
    fresh_code_require(
        actor=actor, otp_code=otp_code, subaccount=subaccount, action="risk_limits_set", ip=ip
    )
    values = _checked(values)
    with transaction.atomic():
        row = (
            RiskLimit.objects.order_by()
            .select_for_update(of=("self",))
            .filter(subaccount=subaccount, member=member)
        )
        current = row.first()
        if current is not None and kill_switch_holds(current) and not values.reduce_only:
            raise ServiceError(KILL_HOLDS, field="reduce_only")
        previous = {k: getattr(current, k) for k in asdict(values)} if current is not None else None
        limit, _ = RiskLimit.objects.update_or_create(
            subaccount=subaccount, member=member, defaults=asdict(values)
        )
        audit_record(
            actor=actor,
            action="risk_limits_set",
            subaccount=subaccount,
            ip=ip,
            parameters={
                "member": member.get_username() if member is not None else "(subaccount)",
                "limits": _shown(asdict(values)),
                "previous": _shown(previous) if previous is not None else None,
            },
        )
    return limit
