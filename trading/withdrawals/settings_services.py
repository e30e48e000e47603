"""Withdrawal settings: the address book and the policy (admins; each change needs a fresh code).

A fresh code is a TOTP code (or a backup code) checked now, on top of the verified session;
django-otp refuses a TOTP code of a time step already used, so a code works once.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.models import Role, Subaccount
from accounts.permissions import require_role
from trading.formatting import plain
from trading.withdrawals.addresses import address_problem, blockchain_problem
from trading.withdrawals.models import (
    WithdrawalAddress,
    WithdrawalLimit,
    WithdrawalPolicy,
    WithdrawalRequest,
)

T = TypeVar("T")
E = TypeVar("E")


def _admin_change(
    *,
    actor: Any,
    subaccount: Subaccount,
    action: str,
    otp_code: str,
    ip: str | None,
    check: Callable[[], T],
    apply: Callable[[T], tuple[E, dict[str, Any]]],
) -> E:
    """The one shape of every settings change: admin role, the input checked (`check`
    returns what `apply` changes), a fresh code, then the change and its audit record in one
    transaction (`apply` returns the result and the audited parameters)."""
    require_role(actor, subaccount, Role.ADMIN)
    target = check()
    fresh_code_require(actor=actor, otp_code=otp_code, subaccount=subaccount, action=action, ip=ip)
    with transaction.atomic():
        result, parameters = apply(target)
        audit_record(
            actor=actor, action=action, subaccount=subaccount, ip=ip, parameters=parameters
        )
    return result


def _where(entry: WithdrawalAddress) -> dict[str, Any]:
    return {"address": entry.address, "blockchain": entry.blockchain}


def withdrawal_address_add(
    *,
    actor: Any,
    subaccount: Subaccount,
    blockchain: str,
    address: str,
    label: str,
    otp_code: str,
    ip: str | None = None,
) -> WithdrawalAddress:
    """Add an address to the book (not usable until confirmed and, if required, approved).

    The blockchain must be one the exchange names and the address must have its format
    (`trading.withdrawals.addresses`); `ServiceError` naming the field otherwise."""
    blockchain, address = blockchain.strip(), address.strip()

    def check() -> None:
        problem = blockchain_problem(blockchain)
        if problem is not None:
            raise ServiceError(problem, field="blockchain")
        problem = address_problem(blockchain, address)
        if problem is not None:
            raise ServiceError(problem, field="address")

    def apply(_: None) -> tuple[WithdrawalAddress, dict[str, Any]]:
        # Looked up after the code is checked, as always: a duplicate still uses the code.
        if WithdrawalAddress.objects.filter(
            subaccount=subaccount, blockchain=blockchain, address=address
        ).exists():
            raise ServiceError("That address is in the book already.", field="address")
        entry = WithdrawalAddress.objects.create(
            subaccount=subaccount,
            blockchain=blockchain,
            address=address,
            label=label.strip(),
            added_by=actor,
        )
        return entry, {"blockchain": blockchain, "address": address, "label": label}

    return _admin_change(
        actor=actor,
        subaccount=subaccount,
        action="withdrawal_address_add",
        otp_code=otp_code,
        ip=ip,
        check=check,
        apply=apply,
    )


def withdrawal_address_confirm(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: int,
    otp_code: str,
    ip: str | None = None,
) -> WithdrawalAddress:
    """Record that the address is configured as 2FA-exempt on the exchange."""

    def apply(entry: WithdrawalAddress) -> tuple[WithdrawalAddress, dict[str, Any]]:
        entry.confirmed_2fa_exempt = True
        entry.save(update_fields=["confirmed_2fa_exempt"])
        return entry, _where(entry)

    return _admin_change(
        actor=actor,
        subaccount=subaccount,
        action="withdrawal_address_confirm",
        otp_code=otp_code,
        ip=ip,
        check=lambda: _address(subaccount, address_id),
        apply=apply,
    )


def withdrawal_address_approve(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: int,
    otp_code: str,
    ip: str | None = None,
) -> WithdrawalAddress:
    """A second admin (not the one who added it) approves an address."""

    def check() -> WithdrawalAddress:
        entry = _address(subaccount, address_id)
        if entry.added_by_id == actor.pk:
            raise ServiceError(
                "A second admin must approve this address, not the one who added it."
            )
        return entry

    def apply(entry: WithdrawalAddress) -> tuple[WithdrawalAddress, dict[str, Any]]:
        entry.approved_by = actor
        entry.save(update_fields=["approved_by"])
        return entry, _where(entry)

    return _admin_change(
        actor=actor,
        subaccount=subaccount,
        action="withdrawal_address_approve",
        otp_code=otp_code,
        ip=ip,
        check=check,
        apply=apply,
    )


def withdrawal_address_remove(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: int,
    otp_code: str,
    ip: str | None = None,
) -> list[WithdrawalRequest]:
    """Delete an address from the book and cancel the withdrawals that wait to go to it
    (pending or approved, nothing sent yet); returns those, cancelled.

    Removing an address is how an admin stops money going there, so it takes effect at once
    rather than waiting for someone to reject each request: every cancelled request names who
    removed the address, for its requester to read, and the removal's audit record lists them.
    An address with a withdrawal being sent right now is refused (the send has passed its
    checks); a request whose answer was lost stays, to be reconciled with the exchange, and
    the send re-checks the book before anything goes out again."""

    def apply(entry: WithdrawalAddress) -> tuple[list[WithdrawalRequest], dict[str, Any]]:
        # The row lock orders this against a send deciding on the same address.
        WithdrawalAddress.objects.select_for_update().filter(pk=entry.pk).first()
        requests = WithdrawalRequest.objects.filter(address_entry=entry)
        if requests.filter(status=WithdrawalRequest.Status.SENDING).exists():
            raise ServiceError(
                "A withdrawal to this address is being sent right now; remove the address "
                "once the withdrawals page shows it sent (in a minute at most)."
            )
        waiting = list(
            requests.select_for_update().filter(status__in=WithdrawalRequest.NOT_SENT_YET)
        )
        reason = f"{actor.get_username()} removed the address from the address book."
        requests.filter(pk__in=[r.pk for r in waiting]).update(
            status=WithdrawalRequest.Status.CANCELLED,
            decided_by=actor,
            decided_at=timezone.now(),
            reject_reason=reason[:200],
        )
        entry.delete()
        cancelled = [
            {
                "withdrawal": r.pk,
                "client_id": r.client_id,
                "asset": r.asset,
                "quantity": plain(r.quantity),
            }
            for r in waiting
        ]
        return waiting, {**_where(entry), "cancelled_withdrawals": cancelled}

    return _admin_change(
        actor=actor,
        subaccount=subaccount,
        action="withdrawal_address_remove",
        otp_code=otp_code,
        ip=ip,
        check=lambda: _address(subaccount, address_id),
        apply=apply,
    )


def _address(subaccount: Subaccount, address_id: int) -> WithdrawalAddress:
    entry = WithdrawalAddress.objects.filter(pk=address_id, subaccount=subaccount).first()
    if entry is None:
        raise ServiceError("That address is not in this subaccount's book.")
    return entry


def withdrawal_policy_set(
    *,
    actor: Any,
    subaccount: Subaccount,
    second_admin_required: bool,
    daily_limits: dict[str, Decimal],
    otp_code: str,
    ip: str | None = None,
) -> WithdrawalPolicy:
    """Replace the policy: second-admin approval and the daily limit per asset."""

    def check() -> None:
        for asset, limit in daily_limits.items():
            if not isinstance(limit, Decimal) or not limit.is_finite() or limit < 0:
                raise ServiceError(
                    f"The daily limit of {asset} must be zero or more.", field="daily_limits"
                )

    def apply(_: None) -> tuple[WithdrawalPolicy, dict[str, Any]]:
        policy, _ = WithdrawalPolicy.objects.get_or_create(subaccount=subaccount)
        policy.second_admin_required = second_admin_required
        policy.save()
        WithdrawalLimit.objects.filter(subaccount=subaccount).exclude(
            asset__in=list(daily_limits)
        ).delete()
        for asset, limit in daily_limits.items():
            WithdrawalLimit.objects.update_or_create(
                subaccount=subaccount, asset=asset, defaults={"daily_limit": limit}
            )
        parameters = {"second_admin_required": second_admin_required, "daily_limits": daily_limits}
        return policy, parameters

    return _admin_change(
        actor=actor,
        subaccount=subaccount,
        action="withdrawal_policy_set",
        otp_code=otp_code,
        ip=ip,
        check=check,
        apply=apply,
    )
