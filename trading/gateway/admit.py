"""Who is calling: the desk key behind a verified signature, and whether it may do this.

One database statement per request (`script_key_admit`): the key with its member, its
subaccounts and the member's role on each; then in order revoked, expired, IP allow-list,
the route's scope against the key's permissions, the subaccount, and the member's role there
now. The use is recorded on
the key (last used, from where; at most every 10 s); a refusal of a known key is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership, Role, Subaccount
from accounts.permissions import role_allows, role_given
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


# One plain SQL statement for the key, its member, its subaccounts and the member's role on
# each: the ORM's four queries (compiling them, building their rows) were most of this step's
# CPU and the largest part of what the desk added to an order (bench_gateway).
@dataclass(frozen=True)
class _Reader:
    """The statement and, per model, its fields with the database's value converters."""

    sql: str
    parts: tuple[tuple[type, list[str], list[tuple[Any, list[Any]]]], ...]


_readers: dict[str, _Reader] = {}


def _reader() -> _Reader:
    reader = _readers.get(connection.alias)
    if reader is not None:
        return reader
    users = get_user_model()
    through = ScriptKey.subaccounts.through._meta.db_table
    membership = Membership._meta.db_table
    columns: list[str] = []
    parts = []
    for alias, model in zip("kus", (ScriptKey, users, Subaccount), strict=True):
        fields = model._meta.concrete_fields
        columns += [f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields]
        converters = []
        for f in fields:
            col = f.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            converters.append((col, found))
        parts.append((model, [f.attname for f in fields], converters))
    sql = (
        f"SELECT {', '.join(columns)}, m.role FROM {ScriptKey._meta.db_table} k"
        f" JOIN {users._meta.db_table} u ON u.{users._meta.pk.column} = k.member_id"
        f" LEFT JOIN {through} ks ON ks.scriptkey_id = k.id"
        f" LEFT JOIN {Subaccount._meta.db_table} s ON s.id = ks.subaccount_id"
        f" LEFT JOIN {membership} m ON m.subaccount_id = s.id AND m.user_id = k.member_id"
        " WHERE k.public_key = %s ORDER BY s.id"
    )
    reader = _readers[connection.alias] = _Reader(sql, tuple(parts))
    return reader


def _instance(part: tuple[type, list[str], list[tuple[Any, list[Any]]]], values: tuple) -> Any:
    model, names, converters = part
    converted = []
    for value, (col, found) in zip(values, converters, strict=True):
        for converter in found:
            value = converter(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


def connection_sound() -> None:
    """Close this thread's database connection if an error left it unusable.

    `/bpx/` runs outside Django's request cycle (`bare.py`), whose start and end close such a
    connection; there the connection of asgiref's shared sync thread stays open between
    requests, so the first step of every signed request checks it instead. (In the scaled run
    that connection is the pool's: closed, it goes back, the pool drops it as broken and the
    next step takes a sound one.) A connection broken without an error yet (the server
    restarted) fails the step's first statement, which `script_key_admit` reads again."""
    if connection.connection is not None and connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()


# The instances built from the rows last read for a key. The statement runs on every request
# (it is the authority: a revoked key, a lost role, a changed subaccount are seen at once);
# only when it answers exactly the rows it answered last time are the instances built from
# them then used again (building them was half of this step's CPU, bench_gateway). They are
# only read once built.
_built: dict[tuple[str, str], tuple[list[tuple[Any, ...]], ScriptKey]] = {}
_BUILT_MAX = 1000


def _key(api_key: str) -> ScriptKey | None:
    """The key with its member, its subaccounts (`scoped`) and the member's stored role on
    each (`roles`, by subaccount id), or None."""
    reader = _reader()
    with connection.cursor() as cursor:
        cursor.execute(reader.sql, [api_key])
        rows = cursor.fetchall()
    if not rows:
        return None
    built = _built.get((connection.alias, api_key))
    if built is not None and built[0] == rows:
        return built[1]
    key = _build(reader, rows)
    if len(_built) >= _BUILT_MAX:
        _built.clear()
    _built[(connection.alias, api_key)] = (rows, key)
    return key


def _build(reader: _Reader, rows: list[tuple[Any, ...]]) -> ScriptKey:
    (key_part, member_part, subaccount_part) = reader.parts
    widths = [len(part[1]) for part in reader.parts]
    first = rows[0]
    key = _instance(key_part, first[: widths[0]])
    key.member = _instance(member_part, first[widths[0] : widths[0] + widths[1]])
    key.scoped = []
    key.roles = {}
    for row in rows:
        values = row[widths[0] + widths[1] : -1]
        if values[0] is None:  # a key scoped to no subaccount
            continue
        subaccount = _instance(subaccount_part, values)
        key.scoped.append(subaccount)
        key.roles[subaccount.pk] = row[-1]
    return key


def _subaccount(key: ScriptKey, wanted: str | None) -> Subaccount:
    subaccounts = key.scoped
    if wanted:
        for subaccount in subaccounts:
            if wanted == str(subaccount.pk) or wanted == subaccount.name:
                return subaccount
        # a name in other letter case names one subaccount only if no other matches it so
        alike = [s for s in subaccounts if s.name.casefold() == wanted.strip().casefold()]
        if len(alike) == 1:
            return alike[0]
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
        raise unauthorized(
            "Invalid X-API-Key Header: this desk key has expired; issue a new one on the "
            "desk's Keys page (/trading/keys/)"
        )
    if not key.allows_ip(ip):
        raise forbidden(f"This key may not be used from {ip}: not in its IP allow-list.")
    if served.scope is Scope.WITHDRAW:
        raise unauthorized("Desk keys never withdraw: withdrawals go through the desk's pages.")
    if served.scope is Scope.TRADE and not key.can_trade:
        raise unauthorized("This desk key is read-only: it may not place or cancel orders.")
    subaccount = _subaccount(key, wanted)
    need = Role.TRADER if served.scope is Scope.TRADE else Role.VIEWER
    if not role_allows(role_given(key.member, key.roles.get(subaccount.pk)), need):
        raise forbidden(
            f"{key.member.get_username()} no longer has the {need.label.lower()} role on "
            f"{subaccount.name}."
        )
    return subaccount


def script_key_admit(
    *, api_key: str, served: Served, subaccount: str | None, ip: str | None
) -> Caller:
    """The caller of a correctly signed request, or a `Refusal` in the exchange's shape."""
    connection_sound()
    try:
        key = _key(api_key)
    except (OperationalError, InterfaceError):
        # The step's first statement, a read: on a connection the server dropped (PostgreSQL
        # restarted), it is read again on a sound one instead of failing the request.
        if connection.in_atomic_block or connection.is_usable():
            raise
        connection.close()
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
