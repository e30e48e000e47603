"""Re-seal every API secret under the first key of DASHBOARD_ENCRYPTION_KEYS.

Idempotent and safe to interrupt: each row is re-sealed in its own short transaction, with
a compare-and-set on the old sealed value, so every secret opens at every moment and a
second run finishes what the first left.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import crypto
from accounts.audit import audit_record
from accounts.models import Subaccount


def reseal_one(subaccount_id: int) -> str:
    """Re-seal one subaccount's secret; return 'resealed', 'current', 'changed' or 'gone'.

    Raises crypto.SecretUnavailableError when the secret cannot be opened.
    """
    row = Subaccount.objects.filter(pk=subaccount_id).values("name", "api_secret_sealed").first()
    if row is None:
        return "gone"
    if crypto.is_current(row["api_secret_sealed"]):
        return "current"
    resealed = crypto.reseal(row["api_secret_sealed"], owner=row["name"])
    with transaction.atomic():
        updated = Subaccount.objects.filter(
            pk=subaccount_id, api_secret_sealed=row["api_secret_sealed"]
        ).update(api_secret_sealed=resealed)
        if updated:
            audit_record(
                actor=None,
                action="secret_reseal",
                subaccount=Subaccount.objects.get(pk=subaccount_id),
                parameters={"key_id": crypto.sealed_key_id(resealed)},
            )
    return "resealed" if updated else "changed"


class Command(BaseCommand):
    help = "Re-seal every API secret under the current (first) key-encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {"resealed": 0, "current": 0, "changed": 0, "gone": 0}
        failures = []
        for subaccount_id in Subaccount.objects.order_by("pk").values_list("pk", flat=True):
            try:
                counts[reseal_one(subaccount_id)] += 1
            except crypto.SecretUnavailableError as exc:
                failures.append(str(exc))
        current = crypto.key_id(crypto.configured_keys()[0])
        self.stdout.write(
            f"current key {current}: {counts['resealed']} re-sealed, "
            f"{counts['current']} already current, {counts['changed']} changed meanwhile "
            f"(run again), {len(failures)} failed"
        )
        if failures:
            raise CommandError("\n".join(failures))
