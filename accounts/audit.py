"""Writing the audit trail: one append-only `AuditEvent` per change, secrets removed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import AuditEvent, Subaccount

SECRET_WORDS = ("secret", "password", "token", "otp", "seed", "code", "private")
REMOVED = "[removed]"


def scrub(parameters: Any) -> Any:
    """A JSON-safe copy of `parameters` with every secret-looking entry replaced."""
    if isinstance(parameters, dict):
        return {
            str(key): REMOVED
            if any(word in str(key).lower() for word in SECRET_WORDS)
            else scrub(value)
            for key, value in parameters.items()
        }
    if isinstance(parameters, list | tuple):
        return [scrub(item) for item in parameters]
    if isinstance(parameters, Decimal):
        return format(parameters, "f")
    if parameters is None or isinstance(parameters, bool | int | str):
        return parameters
    return str(parameters)


def audit_record(
    *,
    actor: Any,
    action: str,
    subaccount: Subaccount | None = None,
    parameters: dict[str, Any] | None = None,
    result: str = AuditEvent.Result.OK,
    detail: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Append one event to the audit trail; secret parameters are replaced by '[removed]'."""
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
        action=action,
        subaccount=subaccount,
        subaccount_name=subaccount.name if subaccount else "",
        parameters=scrub(parameters or {}),
        result=result,
        detail=detail[:2000],
        ip_address=ip or None,
    )
