"""The withdrawal address book, policy and limits now belong to `trading` (its migration 0011
takes them over, tables and rows untouched): forget them here, in the state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_subaccount_confirm_guard"),
        ("trading", "0012_withdrawal_settings_from_accounts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WithdrawalAddress"),
                migrations.DeleteModel(name="WithdrawalLimit"),
                migrations.DeleteModel(name="WithdrawalPolicy"),
            ],
        ),
    ]
