"""The daily loss limit counts days in the team's time zone: a day's starting unrealized PnL
belongs to one zone's day. The rows stored so far were UTC days."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0014_pnl_checkpoint"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskdaystart",
            name="zone",
            field=models.CharField(default="UTC", max_length=64),
        ),
        migrations.RemoveConstraint(
            model_name="riskdaystart",
            name="one_risk_day_start_per_level",
        ),
        migrations.AddConstraint(
            model_name="riskdaystart",
            constraint=models.UniqueConstraint(
                fields=("subaccount", "level", "day", "zone"), name="one_risk_day_start_per_zone"
            ),
        ),
    ]
