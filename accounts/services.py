"""Use cases that change subaccount administration. Each checks the role and writes the audit.

All functions are keyword-only; `ip` is the request's address for the audit trail. They
raise `PermissionDenied` when the actor's role is too low, `ServiceError` (with the form
field to show it on) when the request breaks a rule, and `KeyCheckError` for bad keys.
The exchange is never called inside a database transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts import crypto
from accounts.audit import audit_record
from accounts.errors import SUBACCOUNT_ADD_HINT, Refusal, ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.keys import (
    MSG_KEY_REGISTERED,
    KeyCheckError,
    KeyPair,
    key_pair_parse,
    key_pair_verify,
)
from accounts.live import notify_membership_changed
from accounts.models import (
    LowBalanceThreshold,
    Membership,
    Role,
    Subaccount,
)
from accounts.permissions import can_create_subaccounts, require_role

__all__ = [
    "ServiceError",
    "low_balance_thresholds_set",
    "membership_remove",
    "membership_set",
    "subaccount_create",
    "subaccount_key_rotate",
    "subaccount_settings_set",
]


def _key_holder(*, api_public_key: str, other_than: Subaccount | None) -> Subaccount | None:
    """The subaccount, other than `other_than`, registered with this key. Keys are compared
    as the exchange compares them, by their 32 bytes: `api_public_key` is the canonical
    base64 of `key_pair_parse`, in which every key is stored (migration 0006 rewrote older
    rows), so the same bytes are the same text however the person spelled or wrapped them."""
    holders = Subaccount.objects.filter(api_public_key=api_public_key)
    if other_than is not None:
        holders = holders.exclude(pk=other_than.pk)
    return holders.order_by("pk").first()


def _refuse_registered_key(*, pair: KeyPair, subaccount: Subaccount | None) -> None:
    """Raise KeyCheckError if another subaccount has the key: one exchange account, one
    subaccount, or the desk counts its equity, fills and positions once per subaccount."""
    holder = _key_holder(api_public_key=pair.api_public_key, other_than=subaccount)
    if holder is not None:
        message = MSG_KEY_REGISTERED.format(name=holder.name)
        raise KeyCheckError(message, field="api_public_key")


@contextmanager
def _key_failures_audited(
    *,
    actor: Any,
    action: str,
    subaccount: Subaccount | None,
    name: str,
    public: str,
    ip: str | None,
) -> Iterator[None]:
    """Record a failed key check in the audit trail (never the secret), then re-raise it."""
    try:
        yield
    except KeyCheckError as exc:
        audit_record(
            actor=actor,
            action=action,
            subaccount=subaccount,
            result="failed",
            parameters={"name": name, "api_public_key": public.strip()[:64]},
            detail=exc.message,
            ip=ip,
        )
        raise


def _checked_key(*, secret: str, otp_code: str, verify: bool, **audited: Any) -> KeyPair:
    """Parse a keypair and refuse a key another subaccount has, then take the actor's fresh
    two-factor code (a key trades and withdraws), then (optionally) verify the key with the
    exchange; failures are audited and re-raised. The code is asked after the local checks,
    so a mistyped key does not use it, and before the exchange is called."""
    with _key_failures_audited(**audited):
        pair = key_pair_parse(api_public_key=audited["public"], api_secret=secret)
        _refuse_registered_key(pair=pair, subaccount=audited["subaccount"])
    fresh_code_require(
        actor=audited["actor"],
        otp_code=otp_code,
        subaccount=audited["subaccount"],
        action=audited["action"],
        ip=audited["ip"],
    )
    if verify:
        with _key_failures_audited(**audited):
            key_pair_verify(pair)
    return pair


def subaccount_create(
    *,
    actor: Any,
    name: str,
    exchange_label: str = "",
    api_public_key: str,
    api_secret: str,
    otp_code: str,
    notes: str = "",
    verify: bool = True,
    ip: str | None = None,
) -> Subaccount:
    """Add a subaccount with its keypair (checked, refused if another subaccount has the
    key, then the actor's fresh two-factor code taken, then the key verified with the
    exchange and sealed); the actor becomes its admin. A missing or wrong code is refused on
    the `otp_code` field and audited as denied; nothing is saved."""
    if not can_create_subaccounts(actor):
        raise Refusal("You may not add subaccounts.", hint=SUBACCOUNT_ADD_HINT)
    name = name.strip()
    if not name:
        raise ServiceError("Give the subaccount a name.", field="name")
    if Subaccount.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"A subaccount named {name!r} exists already.", field="name")
    audited = {
        "actor": actor,
        "action": "subaccount_create",
        "subaccount": None,
        "name": name,
        "public": api_public_key,
        "ip": ip,
    }
    pair = _checked_key(secret=api_secret, otp_code=otp_code, verify=verify, **audited)
    try:
        with transaction.atomic():
            subaccount = Subaccount.objects.create(
                name=name,
                exchange_label=exchange_label.strip(),
                api_public_key=pair.api_public_key,
                api_secret_sealed=crypto.seal(pair.api_secret),
                notes=notes,
            )
            if not actor.is_superuser:
                Membership.objects.create(user=actor, subaccount=subaccount, role=Role.ADMIN)
            audit_record(
                actor=actor,
                action="subaccount_create",
                subaccount=subaccount,
                ip=ip,
                parameters={
                    "name": name,
                    "exchange_label": exchange_label,
                    "api_public_key": pair.api_public_key,
                },
            )
    except IntegrityError:  # someone added the key while the exchange was checking it
        with _key_failures_audited(**audited):
            _refuse_registered_key(pair=pair, subaccount=None)
        raise
    return subaccount


def subaccount_key_rotate(
    *,
    actor: Any,
    subaccount: Subaccount,
    api_public_key: str,
    api_secret: str,
    otp_code: str,
    verify: bool = True,
    ip: str | None = None,
) -> Subaccount:
    """Replace the subaccount's keypair after the same checks as on creation: a key another
    subaccount has is refused (the exchange does not say which account a key belongs to, so
    that is all the desk can check); the subaccount's own key may be entered again. It takes
    the actor's fresh two-factor code, as on creation.

    A subaccount that shared its key since before the one-key rule (`legacy_shared_key`)
    shares it no more; when the first holder of a shared key rotates away, the next one
    becomes the key's holder under the rule."""
    require_role(actor, subaccount, Role.ADMIN)
    audited = {
        "actor": actor,
        "action": "subaccount_key_rotate",
        "subaccount": subaccount,
        "name": subaccount.name,
        "public": api_public_key,
        "ip": ip,
    }
    pair = _checked_key(secret=api_secret, otp_code=otp_code, verify=verify, **audited)
    old_key, was_shared = subaccount.api_public_key, subaccount.legacy_shared_key
    try:
        with transaction.atomic():
            subaccount.api_public_key = pair.api_public_key
            subaccount.api_secret_sealed = crypto.seal(pair.api_secret)
            subaccount.legacy_shared_key = False
            subaccount.save(
                update_fields=[
                    "api_public_key",
                    "api_secret_sealed",
                    "legacy_shared_key",
                    "updated_at",
                ]
            )
            if old_key != pair.api_public_key and not was_shared:
                _shared_key_handed_on(api_public_key=old_key)
            audit_record(
                actor=actor,
                action="subaccount_key_rotate",
                subaccount=subaccount,
                ip=ip,
                parameters={"old_api_public_key": old_key, "api_public_key": pair.api_public_key},
            )
    except IntegrityError:  # someone added the key while the exchange was checking it
        subaccount.refresh_from_db()
        with _key_failures_audited(**audited):
            _refuse_registered_key(pair=pair, subaccount=subaccount)
        raise
    return subaccount


def _shared_key_handed_on(*, api_public_key: str) -> None:
    """The next (oldest) subaccount sharing a key since before the one-key rule becomes its
    holder under the database's rule, now that the first holder has another key."""
    heir = (
        Subaccount.objects.filter(api_public_key=api_public_key, legacy_shared_key=True)
        .order_by("pk")
        .first()
    )
    if heir is not None:
        heir.legacy_shared_key = False
        heir.save(update_fields=["legacy_shared_key", "updated_at"])


GUARD_MAX_PCT = Decimal("1000")


def _guard_pct(value: Decimal | None, current: Decimal, *, field: str, words: str) -> Decimal:
    """A fat-finger guard setting: None keeps the current one (the guard is never removed)."""
    if value is None:
        return current
    if value <= 0 or value > GUARD_MAX_PCT:
        raise ServiceError(
            f"The {words} must be above 0% and at most {GUARD_MAX_PCT}%.", field=field
        )
    return value


def subaccount_settings_set(
    *,
    actor: Any,
    subaccount: Subaccount,
    exchange_label: str,
    notes: str,
    is_active: bool,
    order_confirm_notional: Decimal | None,
    order_confirm_equity_pct: Decimal | None = None,
    order_confirm_price_pct: Decimal | None = None,
    ip: str | None = None,
) -> Subaccount:
    """Change a subaccount's label, notes, active flag and order-confirmation rules.

    The fat-finger guard (share of equity, price distance) can be changed but not removed:
    None leaves it as it is. The audit record holds the guard's previous and new values.
    """
    require_role(actor, subaccount, Role.ADMIN)
    if order_confirm_notional is not None and order_confirm_notional <= 0:
        raise ServiceError(
            "The confirmation notional must be above zero.", field="order_confirm_notional"
        )
    previous_equity_pct = subaccount.order_confirm_equity_pct
    previous_price_pct = subaccount.order_confirm_price_pct
    equity_pct = _guard_pct(
        order_confirm_equity_pct,
        previous_equity_pct,
        field="order_confirm_equity_pct",
        words="share of equity",
    )
    price_pct = _guard_pct(
        order_confirm_price_pct,
        previous_price_pct,
        field="order_confirm_price_pct",
        words="price distance",
    )
    with transaction.atomic():
        subaccount.exchange_label = exchange_label.strip()
        subaccount.notes = notes
        subaccount.is_active = is_active
        subaccount.order_confirm_notional = order_confirm_notional
        subaccount.order_confirm_equity_pct = equity_pct
        subaccount.order_confirm_price_pct = price_pct
        subaccount.save()
        audit_record(
            actor=actor,
            action="subaccount_settings",
            subaccount=subaccount,
            ip=ip,
            parameters={
                "exchange_label": exchange_label,
                "is_active": is_active,
                "order_confirm_notional": order_confirm_notional,
                "order_confirm_equity_pct": equity_pct,
                "order_confirm_price_pct": price_pct,
                "previous_order_confirm_equity_pct": previous_equity_pct,
                "previous_order_confirm_price_pct": previous_price_pct,
            },
        )
    return subaccount


def _admins_left(subaccount: Subaccount, *, without_user_id: int) -> int:
    return (
        Membership.objects.filter(subaccount=subaccount, role=Role.ADMIN)
        .exclude(user_id=without_user_id)
        .count()
    )


def membership_set(
    *,
    actor: Any,
    subaccount: Subaccount,
    username: str,
    role: Role | str,
    otp_code: str = "",
    ip: str | None = None,
) -> Membership:
    """Add `username` to the subaccount with `role`, or change the role they have. Making
    someone an admin (who approves addresses and withdrawals) takes a fresh two-factor code
    of the actor's."""
    require_role(actor, subaccount, Role.ADMIN)
    try:
        role = Role(role)
    except ValueError as exc:
        raise ServiceError(f"Unknown role {role!r}.", field="role") from exc
    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise ServiceError(f"There is no active user named {username.strip()!r}.", field="username")
    already = Membership.objects.filter(user=user, subaccount=subaccount, role=Role.ADMIN)
    if role == Role.ADMIN and not already.exists():
        fresh_code_require(
            actor=actor, otp_code=otp_code, subaccount=subaccount, action="membership_role", ip=ip
        )
    with transaction.atomic():
        current = (
            Membership.objects.select_for_update().filter(user=user, subaccount=subaccount).first()
        )
        if (
            current
            and current.role == Role.ADMIN
            and role != Role.ADMIN
            and not _admins_left(subaccount, without_user_id=user.pk)
        ):
            raise ServiceError("A subaccount needs at least one admin.", field="role")
        try:
            membership, created = Membership.objects.update_or_create(
                user=user, subaccount=subaccount, defaults={"role": role}
            )
        except IntegrityError as exc:  # a concurrent add of the same member
            raise ServiceError("That member was just added by someone else.") from exc
        notify_membership_changed(user.pk)  # live connections re-check at once (on commit)
        audit_record(
            actor=actor,
            action="membership_add" if created else "membership_role",
            subaccount=subaccount,
            ip=ip,
            parameters={
                "username": user.get_username(),
                "role": role.value,
                "previous_role": current.role if current else None,
            },
        )
    return membership


def membership_remove(
    *, actor: Any, subaccount: Subaccount, membership_id: int, ip: str | None = None
) -> None:
    """Take a member off the subaccount (the last admin stays)."""
    require_role(actor, subaccount, Role.ADMIN)
    with transaction.atomic():
        membership = Membership.objects.filter(pk=membership_id, subaccount=subaccount).first()
        if membership is None:
            raise ServiceError("That member is not on this subaccount any more.")
        if membership.role == Role.ADMIN and not _admins_left(
            subaccount, without_user_id=membership.user_id
        ):
            raise ServiceError("A subaccount needs at least one admin.")
        membership.delete()
        notify_membership_changed(membership.user_id)  # its streams stop at once (on commit)
        audit_record(
            actor=actor,
            action="membership_remove",
            subaccount=subaccount,
            ip=ip,
            parameters={"username": membership.user.get_username(), "role": membership.role},
        )


def low_balance_thresholds_set(
    *, actor: Any, subaccount: Subaccount, minimums: dict[str, Decimal], ip: str | None = None
) -> None:
    """Replace the low-balance warning thresholds (asset -> minimum)."""
    require_role(actor, subaccount, Role.ADMIN)
    for asset, minimum in minimums.items():
        if not isinstance(minimum, Decimal) or not minimum.is_finite() or minimum < 0:
            raise ServiceError(f"The minimum of {asset} must be zero or more.", field="minimums")
    with transaction.atomic():
        LowBalanceThreshold.objects.filter(subaccount=subaccount).exclude(
            asset__in=list(minimums)
        ).delete()
        for asset, minimum in minimums.items():
            LowBalanceThreshold.objects.update_or_create(
                subaccount=subaccount, asset=asset, defaults={"minimum": minimum}
            )
        audit_record(
            actor=actor,
            action="low_balance_thresholds_set",
            subaccount=subaccount,
            ip=ip,
            parameters={"minimums": minimums},
        )


def user_theme_set(*, user: Any, theme: str) -> str:
    """Remember the user's light or dark theme (a look, not a team setting: not audited)."""
    from accounts.models import UserPreference

    if theme not in UserPreference.Theme.values:
        raise ServiceError(f"Unknown theme {theme!r}.", field="theme")
    UserPreference.objects.update_or_create(user=user, defaults={"theme": theme})
    return theme
