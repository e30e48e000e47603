"""One shape for an audited action on the exchange: role check, call, one audit record.

Every trading service that changes something does the same three things: check the actor's
role (a refusal is audited as denied and re-raised), call the exchange, and leave one audit
record: failed with the failure's words when the call raised (the error is re-raised), or
the outcome the service reports when it returned::

    await require_trader(actor, subaccount, "order_cancel", ip, parameters)
    async with audited(actor=actor, subaccount=subaccount, action="order_cancel", ip=ip,
                       parameters=parameters) as call:
        order = await client.cancel_order(symbol, order_id=order_id)
        call.outcome(detail=order.status.value)

`parameters` is the dict the service keeps filling while it works (a failure is audited with
it as it is then); `call.outcome(**extra)` adds the keys only the success record carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied

from accounts.audit import audit_record
from accounts.models import AuditEvent, Role, Subaccount
from accounts.permissions import require_role
from trading.failures import EXCHANGE_ERRORS, failure_text

audit = sync_to_async(audit_record)

ErrorTypes = type[BaseException] | tuple[type[BaseException], ...]


def require_trader_now(
    actor: Any, subaccount: Subaccount, action: str, ip: str | None, parameters: dict[str, Any]
) -> None:
    """The trader role check (call it in a worker thread): a refusal is audited as denied
    and `PermissionDenied` re-raised."""
    try:
        require_role(actor, subaccount, Role.TRADER)
    except PermissionDenied as denied:
        audit_record(
            actor=actor,
            action=action,
            subaccount=subaccount,
            parameters=parameters,
            result=AuditEvent.Result.DENIED,
            detail=str(denied),
            ip=ip,
        )
        raise


require_trader = sync_to_async(require_trader_now)


async def audit_failed(
    *,
    actor: Any,
    subaccount: Subaccount,
    action: str,
    ip: str | None,
    parameters: dict[str, Any],
    error: BaseException,
    detail: Callable[[Any], str] = failure_text,
) -> None:
    """Audit `action` as failed, with `detail(error)` as the words."""
    await audit(
        actor=actor,
        action=action,
        subaccount=subaccount,
        parameters=parameters,
        result=AuditEvent.Result.FAILED,
        detail=detail(error),
        ip=ip,
    )


@dataclass
class AuditedCall:
    """What the service reports when its call returned: the record's words, its result
    (ok unless told), and the keys only the success record carries."""

    detail: str = ""
    result: str = AuditEvent.Result.OK
    extra: dict[str, Any] = field(default_factory=dict)

    def outcome(self, *, detail: str = "", result: str = AuditEvent.Result.OK, **extra: Any):
        self.detail, self.result, self.extra = detail, result, extra


@asynccontextmanager
async def audited(
    *,
    actor: Any,
    subaccount: Subaccount,
    action: str,
    ip: str | None,
    parameters: dict[str, Any],
    errors: ErrorTypes = EXCHANGE_ERRORS,
    detail: Callable[[Any], str] = failure_text,
    on_error: Callable[[BaseException], Awaitable[None]] | None = None,
) -> AsyncIterator[AuditedCall]:
    """Run the block as one audited action: one of `errors` raised in it is audited as
    failed (after `on_error`, e.g. freeing a reservation) and re-raised; a block that
    finishes is audited with what it reported through `AuditedCall.outcome`."""
    call = AuditedCall()
    try:
        yield call
    except errors as error:
        if on_error is not None:
            await on_error(error)
        await audit_failed(
            actor=actor,
            subaccount=subaccount,
            action=action,
            ip=ip,
            parameters=parameters,
            error=error,
            detail=detail,
        )
        raise
    await audit(
        actor=actor,
        action=action,
        subaccount=subaccount,
        parameters={**parameters, **call.extra},
        result=call.result,
        detail=call.detail,
        ip=ip,
    )
