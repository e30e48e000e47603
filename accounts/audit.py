"""Writing the audit trail: one append-only `AuditEvent` per change, secrets removed."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import connection

from accounts.models import AuditEvent, Subaccount

SECRET_WORDS = ("secret", "password", "token", "otp", "seed", "code", "private")
REMOVED = "[removed]"
# One search for all the words (a script order's ten keys were seventy substring tests).
_SECRET = re.compile("|".join(SECRET_WORDS))


def scrub(parameters: Any) -> Any:
    """A JSON-safe copy of `parameters` with every secret-looking entry replaced."""
    if isinstance(parameters, dict):
        return {
            str(key): REMOVED if _SECRET.search(str(key).lower()) else scrub(value)
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
    event = AuditEvent(
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
    _insert(event)
    return event


# One INSERT ... RETURNING per event with the statement built once: the ORM's create compiled
# it on every call, the largest part of an audited script order's database step
# (bench_gateway). Each value is prepared by its field, exactly as the ORM prepares it.
_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
_statements: dict[str, str] = {}


def _insert(event: AuditEvent) -> None:
    if not connection.features.can_return_columns_from_insert:
        event.save(force_insert=True)
        return
    sql = _statements.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        meta = AuditEvent._meta
        sql = _statements[connection.alias] = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in _FIELDS)})"
            f" VALUES ({', '.join(['%s'] * len(_FIELDS))}) RETURNING {quote(meta.pk.column)}"
        )
    values = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in _FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
