"""Sending a withdrawal at most once: claim the record, reconcile an earlier try, check that its
address is still in the book and usable, then call the exchange once.

The local record with its `client_id` exists before the exchange is called. When the answer is
lost (connection cut, timeout, 5xx) the record turns `unknown` and the exchange's withdrawal
history is searched for that `client_id` before anything is resent. By then the request's
signature window has passed, so a late copy can no longer be executed. The exchange is never
called inside a database transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audit_record
from trading.backpack.errors import (
    BackpackError,
    ExchangeUnavailableError,
    MaintenanceError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
)
from trading.failures import failure_reason, failure_text, withdrawal_refusal_text
from trading.withdrawals.models import WithdrawalRequest
from trading.withdrawals.selectors import (
    address_name,
    find_on_exchange,
    request_address,
    unusable_reason,
)

Status = WithdrawalRequest.Status
# A lost connection, a timeout, a 5xx or a 503 may come after the exchange ran the request.
UNCERTAIN = (ExchangeUnavailableError, ServerError, MalformedResponseError, MaintenanceError)
# A 429 (or the local budget's refusal) means the request was not run.
NOT_EXECUTED = (RateLimitedError,)
FOUND, ABSENT, UNKNOWN = "found", "absent", "unknown"


async def send_once(
    record: WithdrawalRequest, *, actor: Any, client: Any, ip: str | None
) -> WithdrawalRequest:
    """Claim the record, reconcile an earlier try, then call the exchange at most once."""
    claimed = await WithdrawalRequest.objects.filter(
        pk=record.pk, status__in=[Status.APPROVED, Status.UNKNOWN]
    ).aupdate(status=Status.SENDING, send_attempts=F("send_attempts") + 1)
    if not claimed:
        await record.arefresh_from_db()
        return record  # another request is sending it right now
    reconciled = record.send_attempts > 0
    if reconciled:
        # An earlier try may have reached the exchange: only "absent" allows sending.
        if await _reconcile(record, actor=actor, client=client, ip=ip) != ABSENT:
            await record.arefresh_from_db()
            return record
    if not await _address_claim(record, actor, ip, reconciled=reconciled):
        await record.arefresh_from_db()
        return record
    try:
        answer = await client.request_withdrawal(
            symbol=record.asset,
            blockchain=record.blockchain,
            address=record.address,
            quantity=_as_typed(record.quantity),
            client_id=record.client_id,
        )
    except UNCERTAIN as error:
        await _finish(
            record,
            actor,
            ip,
            Status.UNKNOWN,
            "withdrawal_send",
            "failed",
            f"The exchange's answer was lost ({failure_reason(error)}); checking its history "
            "before anything is sent again.",
        )
        await _reconcile(record, actor=actor, client=client, ip=ip)
    except NOT_EXECUTED as error:
        await _finish(
            record,
            actor,
            ip,
            Status.APPROVED,
            "withdrawal_send",
            "failed",
            f"Not sent: {failure_text(error, sentences=True)}",
        )
    except BackpackError as error:
        await _finish(
            record,
            actor,
            ip,
            Status.FAILED,
            "withdrawal_send",
            "failed",
            withdrawal_refusal_text(error),
        )
    else:
        await _mark_sent(record, actor, ip, answer, "withdrawal_send")
    await record.arefresh_from_db()
    return record


def _as_typed(quantity: Decimal) -> Decimal:
    """The quantity without the zeros the database pads it with (18 places): the exchange
    refuses more decimals than the asset has on its blockchain, zeros included."""
    trimmed = quantity.normalize()
    return trimmed.quantize(Decimal(1)) if trimmed.as_tuple().exponent > 0 else trimmed


def _address_claim_sync(
    record: WithdrawalRequest, actor: Any, ip: str | None, *, reconciled: bool
) -> bool:
    """Just before the exchange is called: True when the request's address is still in the
    book and usable, the request is sending and nothing can cancel it any more. Otherwise the
    request is cancelled (address removed) or left approved (address not usable now), with
    the reason, and False.

    The address's row is locked while this decides, and a removal refuses an address with a
    request being sent: a removal and a send never both go ahead."""
    # A reconciliation left the request "approved": it is claimed back, unless a removal
    # cancelled it or another send claimed it meanwhile.
    held = WithdrawalRequest.objects.filter(
        pk=record.pk, status=Status.APPROVED if reconciled else Status.SENDING
    )
    with transaction.atomic():
        entry = request_address(record=record, lock=True)
        problem = unusable_reason(entry=entry) if entry is not None else None
        if entry is not None and problem is None:
            return bool(held.update(status=Status.SENDING))
        if entry is None:
            reason = f"{address_name(record=record)} is no longer in the address book; "
            reason += "nothing was sent."
            changed = held.update(
                status=Status.CANCELLED,
                decided_by=actor,
                decided_at=timezone.now(),
                reject_reason=reason[:200],
                error="",
            )
        else:
            reason = f"Not sent: {problem[:1].lower()}{problem[1:]}"
            changed = held.update(status=Status.APPROVED, error=reason)
        if not changed:
            return False
        audit_record(
            actor=actor,
            action="withdrawal_send",
            subaccount=record.subaccount,
            result="denied",
            detail=reason,
            ip=ip,
            parameters={"withdrawal": record.pk, "client_id": record.client_id},
        )
    return False


async def _reconcile(record: WithdrawalRequest, *, actor: Any, client: Any, ip: str | None) -> str:
    """Look for the record's client_id on the exchange: FOUND (now marked sent), ABSENT (it
    never arrived: approved again), or UNKNOWN (the history could not be read)."""
    await WithdrawalRequest.objects.filter(pk=record.pk).aupdate(status=Status.UNKNOWN)
    try:
        found = await find_on_exchange(client=client, record=record)
    except BackpackError as error:
        await _finish(
            record,
            actor,
            ip,
            Status.UNKNOWN,
            "withdrawal_reconcile",
            "failed",
            f"Could not check the exchange's withdrawal history ({failure_reason(error)}); "
            "it will be checked again before anything is sent.",
        )
        return UNKNOWN
    if found is not None:
        await _mark_sent(record, actor, ip, found, "withdrawal_reconcile")
        return FOUND
    await _finish(
        record,
        actor,
        ip,
        Status.APPROVED,
        "withdrawal_reconcile",
        "ok",
        "The exchange never received this withdrawal; nothing left the account. "
        "Send it again when ready.",
    )
    return ABSENT


def _finish_sync(
    record: WithdrawalRequest,
    actor: Any,
    ip: str | None,
    status: str,
    action: str,
    result: str,
    message: str,
) -> None:
    WithdrawalRequest.objects.filter(pk=record.pk).update(status=status, error=message)
    audit_record(
        actor=actor,
        action=action,
        subaccount=record.subaccount,
        result=result,
        detail=message,
        ip=ip,
        parameters={"withdrawal": record.pk, "client_id": record.client_id, "status": status},
    )


def _mark_sent_sync(
    record: WithdrawalRequest, actor: Any, ip: str | None, answer: Any, action: str
) -> None:
    WithdrawalRequest.objects.filter(pk=record.pk).update(
        status=Status.SENT,
        exchange_id=str(answer.id),
        exchange_status=answer.status,
        sent_at=timezone.now(),
        error="",
    )
    audit_record(
        actor=actor,
        action=action,
        subaccount=record.subaccount,
        ip=ip,
        parameters={
            "withdrawal": record.pk,
            "client_id": record.client_id,
            "exchange_id": str(answer.id),
            "asset": record.asset,
            "quantity": record.quantity,
            "address": record.address,
        },
    )


_address_claim = sync_to_async(_address_claim_sync)
_finish = sync_to_async(_finish_sync)
_mark_sent = sync_to_async(_mark_sent_sync)
