"""One subaccount per API key, in the database.

The previous release let one key be registered for several subaccounts, so a database may
hold duplicates. None is deleted or changed in what it does: each subaccount keeps its
members, ledger and audit trail, and only an admin knows which exchange account a subaccount
really is. The data step first writes every key in canonical base64 (the 32 bytes the
exchange compares; a key that does not decode is left as it is), then marks each subaccount
whose key an older one (lower id) has already: `legacy_shared_key`. The unique constraint
leaves the marked rows out and holds for every other row and every key added from now on;
the subaccount pages tell the admins which subaccounts share a key, and rotating a marked
subaccount's key clears its mark.
"""

import base64
import binascii

from django.db import migrations, models

KEY_BYTES = 32


def _canonical(text):
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode() if compact and len(raw) == KEY_BYTES else None


def mark_subaccounts_sharing_a_key(apps, schema_editor):
    Subaccount = apps.get_model("accounts", "Subaccount")
    first_holder = {}
    for pk, key in Subaccount.objects.order_by("pk").values_list("pk", "api_public_key"):
        canonical = _canonical(key) or key
        changes = {}
        if canonical != key:
            changes["api_public_key"] = canonical
        if canonical in first_holder:
            changes["legacy_shared_key"] = True
        else:
            first_holder[canonical] = pk
        if changes:
            Subaccount.objects.filter(pk=pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_team_setting")]

    operations = [
        migrations.AddField(
            model_name="subaccount",
            name="legacy_shared_key",
            field=models.BooleanField(
                default=False,
                help_text="Registered, before the desk refused it, with a key an older "
                "subaccount has; the one-subaccount-per-key rule leaves it out until its key "
                "is rotated.",
            ),
        ),
        migrations.AlterField(
            model_name="subaccount",
            name="api_public_key",
            field=models.CharField(
                help_text="Canonical base64; one subaccount per key.", max_length=64
            ),
        ),
        migrations.RunPython(mark_subaccounts_sharing_a_key, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="subaccount",
            constraint=models.UniqueConstraint(
                condition=models.Q(("legacy_shared_key", False)),
                fields=("api_public_key",),
                name="one_subaccount_per_api_key",
            ),
        ),
    ]
