"""Who is calling: the desk key behind a verified signature, and whether it may do this.

One database round trip per request (`script_key_admit`): the key with its member and
subaccounts, then in order revoked, expired, IP allow-list, the route's scope against the
key's permissions, the subaccount, and the member's role there now. The use is recorded on
the key (last used, from where; at most every 10 s); a refusal of a known key is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Role, Subaccount
from accounts.permissions import role_allows, role_of
from trading.gateway.errors import Refusal, bad_request, forbidden, unauthorized
from trading.gateway.models import ScriptKey
from trading.gateway.routes import Scope, Served

USE_RECORDED_EVERY = timedelta(seconds=10)


@dataclass(frozen=True)
class Caller:
    """An admitted request: the key, its member and the subaccount it acts on."""

    key: ScriptKey
    member: Any
    subaccount: Subaccount

    @property
    def via(self) -> str:
        return f"script key {self.key.name} ({self.key.fingerprint})"


# Plain SQL: compiling the ORM's queries was most of this step's CPU (bench_gateway).
_KEY_SQL = "SELECT * FROM trading_scriptkey WHERE public_key = %s"
_SUBACCOUNTS_SQL = (
    "SELECT s.* FROM accounts_subaccount s JOIN trading_scriptkey_subaccounts k"
    " ON k.subaccount_id = s.id WHERE k.scriptkey_id = %s ORDER BY s.id"
)


def _key(api_key: str) -> ScriptKey | None:
    """The key with its member and its subaccounts (`scoped`), or None."""
    key = next(iter(ScriptKey.objects.raw(_KEY_SQL, [api_key])), None)
    if key is None:
        return None
    users = get_user_model()
    member_sql = f"SELECT * FROM {users._meta.db_table} WHERE id = %s"
    key.member = next(iter(users.objects.raw(member_sql, [key.member_id])))
    key.scoped = list(Subaccount.objects.raw(_SUBACCOUNTS_SQL, [key.pk]))
    return key


def _subaccount(key: ScriptKey, wanted: str | None) -> Subaccount:
    subaccounts = key.scoped
    if wanted:
        for subaccount in subaccounts:
            if wanted == str(subaccount.pk) or wanted == subaccount.name:
                return subaccount
        raise forbidden(f"This key is not scoped to the subaccount {wanted!r}.")
    if len(subaccounts) == 1:
        return subaccounts[0]
    if not subaccounts:
        raise forbidden("This key is scoped to no subaccount.")
    names = ", ".join(s.name for s in subaccounts)
    raise bad_request(
        f"This key is scoped to several subaccounts ({names}): name one in the X-Subaccount "
        "header (its name or desk id)."
    )


def _check(key: ScriptKey, served: Served, wanted: str | None, ip: str | None) -> Subaccount:
    if key.revoked_at is not None:
        raise unauthorized("Invalid X-API-Key Header: this desk key was revoked")
    if key.is_expired():
        raise unauthorized("Invalid X-API-Key Header: this desk key has expired")
    if not key.allows_ip(ip):
        raise forbidden(f"This key may not be used from {ip}: not in its IP allow-list.")
    if served.scope is Scope.WITHDRAW:
        raise unauthorized("Desk keys never withdraw: withdrawals go through the desk's pages.")
    if served.scope is Scope.TRADE and not key.can_trade:
        raise unauthorized("This desk key is read-only: it may not place or cancel orders.")
    subaccount = _subaccount(key, wanted)
    need = Role.TRADER if served.scope is Scope.TRADE else Role.VIEWER
    if not role_allows(role_of(key.member, subaccount), need):
        raise forbidden(
            f"{key.member.get_username()} no longer has the {need.label.lower()} role on "
            f"{subaccount.name}."
        )
    return subaccount


def script_key_admit(
    *, api_key: str, served: Served, subaccount: str | None, ip: str | None
) -> Caller:
    """The caller of a correctly signed request, or a `Refusal` in the exchange's shape."""
    key = _key(api_key)
    if key is None:
        raise unauthorized("Invalid X-API-Key Header: unknown API key")
    try:
        chosen = _check(key, served, subaccount, ip)
    except Refusal as refusal:
        for each in key.scoped:
            audit_record(
                actor=key.member,
                action="bpx_request",
                subaccount=each,
                parameters={
                    "route": served.route.label,
                    "key": key.name,
                    "fingerprint": key.fingerprint,
                },
                result=AuditEvent.Result.DENIED,
                detail=refusal.message,
                ip=ip,
            )
        raise
    now = timezone.now()
    stale = key.last_used_at is None or now - key.last_used_at >= USE_RECORDED_EVERY
    if stale or key.last_used_ip != ip:
        # At most once per USE_RECORDED_EVERY per key and address: a write (and on SQLite a
        # synced commit) on every request was most of the endpoint's cost (bench_gateway).
        ScriptKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)
    return Caller(key=key, member=key.member, subaccount=chosen)
