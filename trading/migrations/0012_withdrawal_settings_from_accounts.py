"""The withdrawal address book, policy and limits join the withdrawals (`trading.withdrawals`).

State only: the tables stay as they are (`accounts_withdrawaladdress`, `accounts_withdrawallimit`,
`accounts_withdrawalpolicy`, named by `db_table`), with their rows, constraints and the
withdrawal requests' foreign key to the address book. `accounts` 0004 then forgets the models.
The content types move with them, so permissions given on them are kept.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["withdrawaladdress", "withdrawallimit", "withdrawalpolicy"]


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_forward(apps, schema_editor):
    _relabel(apps, "accounts", "trading")


def content_types_backward(apps, schema_editor):
    _relabel(apps, "trading", "accounts")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_subaccount_confirm_guard"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("trading", "0011_risk_day_start"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name="WithdrawalPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "second_admin_required",
                    models.BooleanField(
                        default=True, help_text="A second admin approves each new address."
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "subaccount",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="withdrawal_policy",
                        to="accounts.subaccount",
                    ),
                ),
            ],
            options={"db_table": "accounts_withdrawalpolicy"},
        ),
        migrations.CreateModel(
            name="WithdrawalAddress",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("blockchain", models.CharField(max_length=40)),
                ("address", models.CharField(max_length=200)),
                ("label", models.CharField(blank=True, max_length=80)),
                (
                    "confirmed_2fa_exempt",
                    models.BooleanField(
                        default=False,
                        help_text="Confirmed as a 2FA-exempt address on the exchange.",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "subaccount",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="withdrawal_addresses",
                        to="accounts.subaccount",
                    ),
                ),
            ],
            options={
                "db_table": "accounts_withdrawaladdress",
                "ordering": ["subaccount__name", "blockchain", "label"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subaccount", "blockchain", "address"), name="one_address_per_chain"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="WithdrawalLimit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("asset", models.CharField(max_length=20)),
                ("daily_limit", models.DecimalField(decimal_places=18, max_digits=36)),
                (
                    "subaccount",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="withdrawal_limits",
                        to="accounts.subaccount",
                    ),
                ),
            ],
            options={
                "db_table": "accounts_withdrawallimit",
                "ordering": ["asset"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subaccount", "asset"), name="one_limit_per_asset"
                    )
                ],
            },
        ),
        migrations.AlterField(
            model_name="withdrawalrequest",
            name="address_entry",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="trading.withdrawaladdress",
            ),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
