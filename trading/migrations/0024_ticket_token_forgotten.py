"""A ticket's token may be forgotten (NULL) while the ticket stays, naming its order's member.
Every existing row comes through unchanged (a token it has is kept, to be forgotten by the
next cleanup once 30 days old). Going back, a forgotten token becomes a unique placeholder,
since the previous release has no empty token."""

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Cast, Concat


def tokens_back(apps, schema_editor):
    OrderTicket = apps.get_model("trading", "OrderTicket")
    OrderTicket.objects.filter(token__isnull=True).update(
        token=Concat(Value("forgotten:"), Cast("pk", models.CharField()))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0023_withdrawal_cancelled_by_requester"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderticket",
            name="token",
            field=models.CharField(
                blank=True,
                help_text="The ticket form's one-time token; forgotten (empty) after 30 days,"
                " when a resubmit of it places a new order. The ticket still names its order's"
                " member.",
                max_length=64,
                null=True,
                unique=True,
            ),
        ),
        # undone first when going back (operations undo in reverse): before NOT NULL returns
        migrations.RunPython(migrations.RunPython.noop, tokens_back, elidable=True),
    ]
