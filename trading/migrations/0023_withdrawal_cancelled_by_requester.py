"""A withdrawal its own requester rejected was a cancellation: it becomes "cancelled", as the
desk records such a request from now on. Going back, it is "rejected" again."""

from django.db import migrations
from django.db.models import F


def cancelled_by_requester(apps, schema_editor):
    WithdrawalRequest = apps.get_model("trading", "WithdrawalRequest")
    WithdrawalRequest.objects.filter(status="rejected", decided_by=F("requested_by")).update(
        status="cancelled"
    )


def rejected_again(apps, schema_editor):
    WithdrawalRequest = apps.get_model("trading", "WithdrawalRequest")
    WithdrawalRequest.objects.filter(status="cancelled").update(status="rejected")


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0022_withdrawal_cancelled"),
    ]

    operations = [
        migrations.RunPython(cancelled_by_requester, rejected_again, elidable=True),
    ]
