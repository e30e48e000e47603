"""Withdrawal settings: the address book and the policy (admins; each change needs a fresh code).

A fresh code is a TOTP code (or a backup code) checked now, on top of the verified session;
django-otp refuses a TOTP code of a time step already used, so a code works once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.models import Role, Subaccount
from accounts.permissions import require_role
from trading.withdrawals.models import WithdrawalAddress, WithdrawalLimit, WithdrawalPolicy


def _fresh_code(
    actor: Any, otp_code: str, subaccount: Subaccount, action: str, ip: str | None
) -> None:
    fresh_code_require(actor=actor, otp_code=otp_code, subaccount=subaccount, action=action, ip=ip)


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
    """Add an address to the book (not usable until confirmed and, if required, approved)."""
    require_role(actor, subaccount, Role.ADMIN)
    blockchain, address = blockchain.strip(), address.strip()
    if not blockchain or not address:
        raise ServiceError("Give both the blockchain and the address.", field="address")
    _fresh_code(actor, otp_code, subaccount, "withdrawal_address_add", ip)
    if WithdrawalAddress.objects.filter(
        subaccount=subaccount, blockchain=blockchain, address=address
    ).exists():
        raise ServiceError("That address is in the book already.", field="address")
    with transaction.atomic():
        entry = WithdrawalAddress.objects.create(
            subaccount=subaccount,
            blockchain=blockchain,
            address=address,
            label=label.strip(),
            added_by=actor,
        )
        audit_record(
            actor=actor,
            action="withdrawal_address_add",
            subaccount=subaccount,
            ip=ip,
            parameters={"blockchain": blockchain, "address": address, "label": label},
        )
    return entry


def withdrawal_address_confirm(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: int,
    otp_code: str,
    ip: str | None = None,
) -> WithdrawalAddress:
    """Record that the address is configured as 2FA-exempt on the exchange."""
    require_role(actor, subaccount, Role.ADMIN)
    entry = _address(subaccount, address_id)
    _fresh_code(actor, otp_code, subaccount, "withdrawal_address_confirm", ip)
    with transaction.atomic():
        entry.confirmed_2fa_exempt = True
        entry.save(update_fields=["confirmed_2fa_exempt"])
        audit_record(
            actor=actor,
            action="withdrawal_address_confirm",
            subaccount=subaccount,
            ip=ip,
            parameters={"address": entry.address, "blockchain": entry.blockchain},
        )
    return entry


def withdrawal_address_approve(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: int,
    otp_code: str,
    ip: str | None = None,
) -> WithdrawalAddress:
    """A second admin (not the one who added it) approves an address."""
    require_role(actor, subaccount, Role.ADMIN)
    entry = _address(subaccount, address_id)
    if entry.added_by_id == actor.pk:
        raise ServiceError("A second admin must approve this address, not the one who added it.")
    _fresh_code(actor, otp_code, subaccount, "withdrawal_address_approve", ip)
    with transaction.atomic():
        entry.approved_by = actor
        entry.save(update_fields=["approved_by"])
        audit_record(
            actor=actor,
            action="withdrawal_address_approve",
            subaccount=subaccount,
            ip=ip,
            parameters={"address": entry.address, "blockchain": entry.blockchain},
        )
    return entry


def withdrawal_address_remove(
    *,
    actor: Any,
    subaccount: Subaccount,
    address_id: int,
    otp_code: str,
    ip: str | None = None,
) -> None:
    """Delete an address from the book."""
    require_role(actor, subaccount, Role.ADMIN)
    entry = _address(subaccount, address_id)
    _fresh_code(actor, otp_code, subaccount, "withdrawal_address_remove", ip)
    with transaction.atomic():
        entry.delete()
        audit_record(
            actor=actor,
            action="withdrawal_address_remove",
            subaccount=subaccount,
            ip=ip,
            parameters={"address": entry.address, "blockchain": entry.blockchain},
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
    require_role(actor, subaccount, Role.ADMIN)
    for asset, limit in daily_limits.items():
        if not isinstance(limit, Decimal) or not limit.is_finite() or limit < 0:
            raise ServiceError(
                f"The daily limit of {asset} must be zero or more.", field="daily_limits"
            )
    _fresh_code(actor, otp_code, subaccount, "withdrawal_policy_set", ip)
    with transaction.atomic():
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
        audit_record(
            actor=actor,
            action="withdrawal_policy_set",
            subaccount=subaccount,
            ip=ip,
            parameters={
                "second_admin_required": second_admin_required,
                "daily_limits": daily_limits,
            },
        )
    return policy
