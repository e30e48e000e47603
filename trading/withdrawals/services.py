"""Withdrawals under policy: request, approve, reject, send (never twice).

Rules, in the order they are checked:
- only an admin of the subaccount requests, approves or rejects;
- the address comes from the subaccount's address book and must be usable (confirmed as
  2FA-exempt on the exchange and, when the policy asks, approved by a second admin);
- today's non-rejected requests of the asset plus this one stay within the asset's daily limit
  (an asset without a limit cannot be withdrawn);
- the quantity has no more decimals than the asset has on the address's blockchain, and is at
  most what the exchange says can be withdrawn now;
- a fresh two-factor code confirms the request (django-otp refuses a code used once);
- when the policy asks for a second admin, the request waits (pending -> approved -> sent, or
  rejected, or cancelled) and nobody approves their own request;
- approving and sending check the address again: one removed from the book (its waiting
  requests are cancelled then) or no longer usable is never sent to.

Never sent twice: the local record with its `client_id` exists before the exchange is called,
and `trading.withdrawals.sending` calls the exchange at most once for it.

The exchange is never called inside a database transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.fields import storable_digits
from accounts.models import Role, Subaccount
from accounts.permissions import require_role
from accounts.twofactor import CodeThrottled, code_check
from trading.backpack.decimals import parse_decimal
from trading.backpack.errors import (
    BackpackError,
    InvalidNumberError,
)
from trading.exchange import client_for
from trading.failures import failure_text
from trading.formatting import plain
from trading.withdrawals.errors import WithdrawalError
from trading.withdrawals.models import WithdrawalLimit, WithdrawalRequest
from trading.withdrawals.selectors import (
    address_name,
    day_used,
    request_address,
    unusable_reason,
    usable_address,
    withdrawal_policy_of,
)
from trading.withdrawals.sending import send_once

Status = WithdrawalRequest.Status
STUCK_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class _Checked:
    asset: str
    quantity: Decimal


def _client(subaccount: Subaccount, client: Any) -> Any:
    if client is not None:
        return client
    return client_for(subaccount)


def _parse(asset: str, quantity: Any) -> _Checked:
    asset = (asset or "").strip().upper()
    if not asset or len(asset) > 20 or not asset.isalnum():
        raise WithdrawalError("Choose the asset to withdraw.", field="asset")
    try:
        # Stored, then sent from the record: refuse digits the database would round.
        amount = parse_decimal(quantity, field="quantity", max_significant=storable_digits())
    except InvalidNumberError as error:
        raise WithdrawalError(error.reason, field="quantity") from None
    if amount is None or amount <= 0:
        raise WithdrawalError("The quantity must be above zero.", field="quantity")
    return _Checked(asset, amount)


def _deny(
    actor: Any,
    subaccount: Subaccount,
    action: str,
    error: WithdrawalError,
    ip: str | None,
    parameters: dict | None = None,
) -> WithdrawalError:
    audit_record(
        actor=actor,
        action=action,
        subaccount=subaccount,
        result="denied",
        detail=failure_text(error),
        parameters=parameters or {},
        ip=ip,
    )
    return error


def _limit_check(subaccount: Subaccount, asset: str, quantity: Decimal) -> None:
    limit = WithdrawalLimit.objects.filter(subaccount=subaccount, asset=asset).first()
    if limit is None:
        raise WithdrawalError(
            f"No daily limit is set for {asset} on {subaccount.name}; an admin sets one in the "
            "withdrawal policy first.",
            field="asset",
        )
    used = day_used(subaccount=subaccount, asset=asset)
    if used + quantity > limit.daily_limit:
        left = max(limit.daily_limit - used, Decimal(0))
        raise WithdrawalError(
            f"Over the daily limit: {plain(limit.daily_limit)} {asset} a day, "
            f"{plain(used)} requested today, {plain(left)} left.",
            field="quantity",
        )


def _check_code(actor: Any, otp_code: str) -> None:
    try:
        accepted = code_check(actor, otp_code) is not None
    except CodeThrottled as throttled:
        raise WithdrawalError(throttled.message, field="otp_code") from None
    if not accepted:
        raise WithdrawalError(
            "That two-factor code is wrong or was used already. Wait for the next code in your "
            "app and type it.",
            field="otp_code",
        )


async def _exchange_checks(client: Any, checked: _Checked, blockchain: str) -> None:
    """What only the exchange knows: the asset moves on that blockchain, withdrawals are on,
    the quantity has no more decimals than the asset has there (its native decimals), is above
    its minimum and at most what can be withdrawn now."""
    asset, quantity = checked.asset, checked.quantity
    try:
        listed = {item.symbol: item for item in await client.assets()}
        available = (await client.max_withdrawal_quantity(asset)).max_quantity
    except BackpackError as error:
        raise WithdrawalError(
            f"Could not ask the exchange how much {asset} can be withdrawn: "
            f"{failure_text(error, sentences=True)}"
        ) from error
    if asset not in listed:
        raise WithdrawalError(f"The exchange does not list {asset}.", field="asset")
    tokens = {token.blockchain: token for token in listed[asset].tokens}
    token = tokens.get(blockchain)
    if token is None:
        chains = " or ".join(sorted(tokens)) or "no blockchain"
        raise WithdrawalError(
            f"{asset} does not move on {blockchain}; choose an address on {chains}.",
            field="address",
        )
    if not token.withdraw_enabled:
        raise WithdrawalError(
            f"The exchange has paused {asset} withdrawals on {blockchain}; try again later.",
            field="asset",
        )
    decimals = _decimals(quantity)
    if token.native_decimals is not None and 0 <= token.native_decimals < decimals:
        most = token.native_decimals
        raise WithdrawalError(
            f"{asset} on {blockchain} has at most {most} decimal{'s' if most != 1 else ''}; "
            f"{plain(quantity)} has {decimals}. Round the quantity to {most} "
            f"decimal{'s' if most != 1 else ''}.",
            field="quantity",
        )
    if token.minimum_withdrawal is not None and quantity < token.minimum_withdrawal:
        raise WithdrawalError(
            f"Below the exchange's minimum withdrawal of {plain(token.minimum_withdrawal)} "
            f"{asset} on {blockchain}.",
            field="quantity",
        )
    if quantity > available:
        raise WithdrawalError(
            f"More than available: at most {plain(available)} {asset} can be withdrawn now.",
            field="quantity",
        )


def _decimals(quantity: Decimal) -> int:
    """The decimals `quantity` needs (trailing zeros need none): 10.50 -> 1, 100 -> 0."""
    exponent = quantity.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _prepare(
    actor: Any, subaccount: Subaccount, address_id: Any, asset: str, quantity: Any, ip: str | None
) -> tuple[Any, _Checked]:
    require_role(actor, subaccount, Role.ADMIN)
    parameters = {"asset": asset, "quantity": str(quantity), "address_id": address_id}
    try:
        checked = _parse(asset, quantity)
        entry = usable_address(subaccount=subaccount, address_id=address_id)
        _limit_check(subaccount, checked.asset, checked.quantity)
    except WithdrawalError as error:
        raise _deny(actor, subaccount, "withdrawal_request", error, ip, parameters) from None
    return entry, checked


def _record(
    actor: Any, subaccount: Subaccount, entry: Any, checked: _Checked, otp_code: str, ip: str | None
) -> WithdrawalRequest:
    parameters = {
        "asset": checked.asset,
        "quantity": checked.quantity,
        "blockchain": entry.blockchain,
        "address": entry.address,
    }
    try:
        _check_code(actor, otp_code)
    except WithdrawalError as error:
        raise _deny(actor, subaccount, "withdrawal_request", error, ip, parameters) from None
    needs_second = withdrawal_policy_of(subaccount=subaccount).second_admin_required
    with transaction.atomic():
        # Lock the asset's limit row so two requests at once cannot both fit the limit.
        WithdrawalLimit.objects.select_for_update().filter(
            subaccount=subaccount, asset=checked.asset
        ).first()
        try:
            _limit_check(subaccount, checked.asset, checked.quantity)
        except WithdrawalError as error:
            raise _deny(actor, subaccount, "withdrawal_request", error, ip, parameters) from None
        record = WithdrawalRequest.objects.create(
            subaccount=subaccount,
            address_entry=entry,
            asset=checked.asset,
            blockchain=entry.blockchain,
            address=entry.address,
            address_label=entry.label,
            quantity=checked.quantity,
            client_id=f"desk-{uuid.uuid4().hex}",
            status=Status.PENDING if needs_second else Status.APPROVED,
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action="withdrawal_request",
            subaccount=subaccount,
            ip=ip,
            parameters={**parameters, "client_id": record.client_id, "status": record.status},
        )
    return record


async def withdrawal_request(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: Any,
    asset: str,
    quantity: Any,
    otp_code: str,
    ip: str | None = None,
    client: Any = None,
) -> WithdrawalRequest:
    """Request a withdrawal (see the module docstring); sends it at once unless the policy
    asks for a second admin. Raises PermissionDenied or WithdrawalError."""
    entry, checked = await sync_to_async(_prepare)(
        actor, subaccount, address_id, asset, quantity, ip
    )
    client = _client(subaccount, client)
    try:
        await _exchange_checks(client, checked, entry.blockchain)
    except WithdrawalError as error:
        await sync_to_async(_deny)(
            actor,
            subaccount,
            "withdrawal_request",
            error,
            ip,
            {"asset": checked.asset, "quantity": checked.quantity, "address": entry.address},
        )
        raise
    record = await sync_to_async(_record)(actor, subaccount, entry, checked, otp_code, ip)
    if record.status == Status.APPROVED:
        record = await send_once(record, actor=actor, client=client, ip=ip)
    return record


def _approve(
    actor: Any, subaccount: Subaccount, withdrawal_id: Any, otp_code: str, ip: str | None
) -> WithdrawalRequest:
    require_role(actor, subaccount, Role.ADMIN)
    record = _pending(subaccount, withdrawal_id)
    try:
        if record.requested_by_id == actor.pk:
            raise WithdrawalError("You requested this withdrawal; a second admin must approve it.")
        _address_check(record)
        _check_code(actor, otp_code)
    except WithdrawalError as error:
        raise _deny(
            actor, subaccount, "withdrawal_approve", error, ip, {"withdrawal": record.pk}
        ) from None
    with transaction.atomic():
        now = timezone.now()
        if not WithdrawalRequest.objects.filter(pk=record.pk, status=Status.PENDING).update(
            status=Status.APPROVED, decided_by=actor, decided_at=now
        ):
            raise WithdrawalError("Someone else decided this withdrawal a moment ago.")
        audit_record(
            actor=actor,
            action="withdrawal_approve",
            subaccount=subaccount,
            ip=ip,
            parameters={
                "withdrawal": record.pk,
                "client_id": record.client_id,
                "asset": record.asset,
                "quantity": record.quantity,
            },
        )
    record.refresh_from_db()
    return record


def _address_check(record: WithdrawalRequest) -> None:
    """The request's address is still in the book and usable, or WithdrawalError."""
    entry = request_address(record=record)
    if entry is None:
        raise WithdrawalError(
            f"Not approved: {address_name(record=record)} is no longer in the address book, "
            "so nothing was sent. Reject this request; the requester can ask again with an "
            "address from the book."
        )
    problem = unusable_reason(entry=entry)
    if problem is not None:
        raise WithdrawalError(f"Not approved: {problem[:1].lower()}{problem[1:]}")


async def withdrawal_approve(
    *,
    actor: Any,
    subaccount: Subaccount,
    withdrawal_id: Any,
    otp_code: str,
    ip: str | None = None,
    client: Any = None,
) -> WithdrawalRequest:
    """A second admin approves a pending withdrawal with a fresh code; it is sent at once."""
    record = await sync_to_async(_approve)(actor, subaccount, withdrawal_id, otp_code, ip)
    return await send_once(record, actor=actor, client=_client(subaccount, client), ip=ip)


def withdrawal_reject(
    *,
    actor: Any,
    subaccount: Subaccount,
    withdrawal_id: Any,
    reason: str = "",
    ip: str | None = None,
) -> WithdrawalRequest:
    """An admin rejects a pending withdrawal; its requester doing so cancels it (status
    cancelled, audited as withdrawal_cancel)."""
    require_role(actor, subaccount, Role.ADMIN)
    record = _pending(subaccount, withdrawal_id)
    reason = (reason or "").strip()[:200]
    own = record.requested_by_id == actor.pk
    with transaction.atomic():
        if not WithdrawalRequest.objects.filter(pk=record.pk, status=Status.PENDING).update(
            status=Status.CANCELLED if own else Status.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
            reject_reason=reason,
        ):
            raise WithdrawalError("Someone else decided this withdrawal a moment ago.")
        audit_record(
            actor=actor,
            action="withdrawal_cancel" if own else "withdrawal_reject",
            subaccount=subaccount,
            ip=ip,
            parameters={"withdrawal": record.pk, "reason": reason},
        )
    record.refresh_from_db()
    return record


async def withdrawal_send(
    *,
    actor: Any,
    subaccount: Subaccount,
    withdrawal_id: Any,
    ip: str | None = None,
    client: Any = None,
) -> WithdrawalRequest:
    """Send again an approved withdrawal whose earlier try did not reach the exchange, or
    re-check one whose answer was lost. The history is always searched first."""
    await sync_to_async(require_role)(actor, subaccount, Role.ADMIN)
    record = (
        await WithdrawalRequest.objects.select_related("subaccount")
        .filter(pk=_int(withdrawal_id), subaccount=subaccount)
        .afirst()
    )
    if record is None:
        raise WithdrawalError("That withdrawal is not on this subaccount.")
    if record.status == Status.SENDING:
        # A process that stopped in the middle of sending leaves the record "sending": once
        # it is clearly stale, its outcome is unknown and the history decides.
        if timezone.now() - record.updated_at < STUCK_AFTER:
            raise WithdrawalError("It is being sent right now; look again in a minute.")
        await WithdrawalRequest.objects.filter(
            pk=record.pk, status=Status.SENDING, updated_at=record.updated_at
        ).aupdate(status=Status.UNKNOWN)
    elif record.status not in (Status.APPROVED, Status.UNKNOWN):
        raise WithdrawalError(
            f"This withdrawal is {record.get_status_display().lower()}; there is nothing to send."
        )
    return await send_once(record, actor=actor, client=_client(subaccount, client), ip=ip)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WithdrawalError("That withdrawal does not exist.") from None


def _pending(subaccount: Subaccount, withdrawal_id: Any) -> WithdrawalRequest:
    record = WithdrawalRequest.objects.filter(pk=_int(withdrawal_id), subaccount=subaccount).first()
    if record is None:
        raise WithdrawalError("That withdrawal is not on this subaccount.")
    if record.status != Status.PENDING:
        raise WithdrawalError(
            f"This withdrawal is {record.get_status_display().lower()} "
            "already; only a waiting one can be decided."
        )
    return record
