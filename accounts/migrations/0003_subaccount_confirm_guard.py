"""The default fat-finger guard: every subaccount, new or old, asks for confirmation above a
share of its equity and for a limit price far through the book.

The columns are added with their defaults, then a data step writes the default explicitly
into every existing row (so no row depends on how a database back-fills a new column).
"""

from decimal import Decimal

from django.db import migrations, models

EQUITY_PCT = Decimal("10")
PRICE_PCT = Decimal("5")


def every_subaccount_has_the_default_guard(apps, schema_editor):
    Subaccount = apps.get_model("accounts", "Subaccount")
    Subaccount.objects.filter(order_confirm_equity_pct__isnull=True).update(
        order_confirm_equity_pct=EQUITY_PCT
    )
    Subaccount.objects.filter(order_confirm_price_pct__isnull=True).update(
        order_confirm_price_pct=PRICE_PCT
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_userpreference")]

    operations = [
        migrations.AddField(
            model_name="subaccount",
            name="order_confirm_equity_pct",
            field=models.DecimalField(
                decimal_places=4,
                default=EQUITY_PCT,
                help_text="Orders whose notional is above this share (%) of the subaccount's "
                "equity ask for a second confirmation.",
                max_digits=9,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="subaccount",
            name="order_confirm_price_pct",
            field=models.DecimalField(
                decimal_places=4,
                default=PRICE_PCT,
                help_text="Limit orders priced more than this (%) through the best opposite "
                "price ask for a second confirmation.",
                max_digits=9,
                null=True,
            ),
        ),
        migrations.RunPython(every_subaccount_has_the_default_guard, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="subaccount",
            name="order_confirm_equity_pct",
            field=models.DecimalField(
                decimal_places=4,
                default=EQUITY_PCT,
                help_text="Orders whose notional is above this share (%) of the subaccount's "
                "equity ask for a second confirmation.",
                max_digits=9,
            ),
        ),
        migrations.AlterField(
            model_name="subaccount",
            name="order_confirm_price_pct",
            field=models.DecimalField(
                decimal_places=4,
                default=PRICE_PCT,
                help_text="Limit orders priced more than this (%) through the best opposite "
                "price ask for a second confirmation.",
                max_digits=9,
            ),
        ),
    ]
