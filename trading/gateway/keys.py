"""Issuing, listing and revoking script keys (services and selectors).

A member issues a key for chosen subaccounts with permissions within their role there: read
needs viewer, trade needs trader; a key never withdraws. The desk generates the pair (the
secret is returned once and never stored) or takes the public key of a pair the member made.
Creation and revocation are audited on every subaccount of the key.

Issuing is idempotent per form token: the key records the token of the form that issued it
(unique in the database, so two submits racing each other cannot both issue); a later submit
with the same token issues nothing and returns that key, without a secret.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from nacl.signing import SigningKey

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.live import notify_membership_changed
from accounts.models import Role, Subaccount
from accounts.permissions import role_allows, roles_of
from trading.gateway.models import ScriptKey

MAX_DAYS = 365


class ScriptKeyError(ServiceError):
    """A key request that breaks a rule; the message says what to change."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key and, when the desk generated the pair, its secret (shown once); or, with
    `repeated`, the key a resubmitted form issued before (never with its secret)."""

    key: ScriptKey
    secret: str | None
    repeated: bool = False

    def __repr__(self) -> str:
        return f"IssuedKey(key={self.key!r}, secret=<hidden>)"


def _public_key(text: str) -> str:
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ScriptKeyError("The public key is not valid base64.", field="public_key") from None
    if len(raw) != 32:
        raise ScriptKeyError(
            f"The public key must be 32 bytes once decoded; this one is {len(raw)} bytes.",
            field="public_key",
        )
    return base64.b64encode(raw).decode()


def _allowlist(text: str) -> str:
    lines = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
    for line in lines:
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError:
            raise ScriptKeyError(
                f"{line!r} is not an IP address or network (write 10.0.0.5 or 10.0.0.0/24).",
                field="ip_allowlist",
            ) from None
    return "\n".join(lines)


def script_key_create(
    *,
    actor: Any,
    name: str,
    subaccounts: Iterable[Subaccount],
    can_trade: bool,
    days: int,
    ip_allowlist: str = "",
    public_key: str = "",
    form_token: str | None = None,
    ip: str | None = None,
) -> IssuedKey:
    """Issue a key to `actor` for `subaccounts` (read, and trade when `can_trade`).

    With `form_token` (the page's form), at most one key per token: when the token already
    issued a key, nothing is issued and that key comes back with `repeated` set."""
    if form_token:
        earlier = _issued_by_form(actor, form_token)
        if earlier is not None:
            return earlier
    chosen = list(subaccounts)
    if not chosen:
        raise ScriptKeyError("Choose at least one subaccount.", field="subaccounts")
    if not 1 <= days <= MAX_DAYS:
        raise ScriptKeyError(f"The expiry must be 1 to {MAX_DAYS} days.", field="days")
    roles = roles_of(actor)
    need = Role.TRADER if can_trade else Role.VIEWER
    for subaccount in chosen:
        if not role_allows(roles.get(subaccount.pk), need):
            raise ScriptKeyError(
                f"Your role on {subaccount.name} does not allow a key that may "
                f"{'trade' if can_trade else 'read'} there.",
                field="subaccounts",
            )
    allow = _allowlist(ip_allowlist)
    secret = None
    if public_key.strip():
        verify_key = _public_key(public_key)
    else:
        pair = SigningKey.generate()
        secret = base64.b64encode(bytes(pair)).decode()
        verify_key = base64.b64encode(bytes(pair.verify_key)).decode()
    if ScriptKey.objects.filter(public_key=verify_key).exists():
        raise ScriptKeyError("This public key is already issued.", field="public_key")
    try:
        with transaction.atomic():
            key = ScriptKey.objects.create(
                member=actor,
                name=name.strip()[:80] or "script",
                public_key=verify_key,
                can_trade=can_trade,
                expires_at=timezone.now() + timedelta(days=days),
                ip_allowlist=allow,
                form_token=form_token or None,
            )
            key.subaccounts.set(chosen)
            for subaccount in chosen:
                audit_record(
                    actor=actor,
                    action="script_key_create",
                    subaccount=subaccount,
                    parameters=_described(key),
                    ip=ip,
                )
    except IntegrityError:
        # The same form sent twice at once: the other submit issued the key first.
        earlier = _issued_by_form(actor, form_token) if form_token else None
        if earlier is None:
            raise ScriptKeyError("This public key is already issued.", field="public_key") from None
        return earlier
    return IssuedKey(key=key, secret=secret)


def _issued_by_form(actor: Any, form_token: str) -> IssuedKey | None:
    """The key the form with `form_token` issued before, or None when it issued none."""
    key = ScriptKey.objects.filter(form_token=form_token).first()
    if key is None:
        return None
    if key.member_id != actor.pk:  # a token is the form's own; another member's is refused
        raise ScriptKeyError("This form was already used; reload the page and fill it in again.")
    return IssuedKey(key=key, secret=None, repeated=True)


def _described(key: ScriptKey) -> dict[str, Any]:
    return {
        "key": key.name,
        "fingerprint": key.fingerprint,
        "permissions": key.permissions,
        "expires": key.expires_at.isoformat(timespec="seconds"),
        "ip_allowlist": key.ip_allowlist.replace("\n", ", ") or "any",
    }


def script_keys_visible_to(user: Any) -> QuerySet[ScriptKey]:
    """The user's own keys, and every key on a subaccount the user admins (all for
    superusers)."""
    keys = ScriptKey.objects.select_related("member", "revoked_by").prefetch_related("subaccounts")
    if user.is_superuser:
        return keys.all()
    admin_of = [pk for pk, role in roles_of(user).items() if role == Role.ADMIN]
    return keys.filter(Q(member=user) | Q(subaccounts__in=admin_of)).distinct()


def script_key_revoke(*, actor: Any, key_id: int, ip: str | None = None) -> ScriptKey:
    """Revoke a key (its owner, or an admin of one of its subaccounts); refused at once."""
    key = script_keys_visible_to(actor).filter(pk=key_id).first()
    if key is None:
        raise ScriptKeyError("No such key among the keys you may revoke.")
    if key.revoked_at is not None:
        return key
    with transaction.atomic():
        ScriptKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now(), revoked_by=actor)
        key.refresh_from_db()
        notify_membership_changed(key.member_id)  # the key's open streams close at once
        for subaccount in key.subaccounts.all():
            audit_record(
                actor=actor,
                action="script_key_revoke",
                subaccount=subaccount,
                parameters={**_described(key), "member": key.member.get_username()},
                ip=ip,
            )
    return key
