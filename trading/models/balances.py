"""Balance snapshots: one row per subaccount every few minutes, for the equity sparklines."""

from __future__ import annotations

from django.db import models

from accounts.models import MONEY, Subaccount
from trading.formatting import usdc


class BalanceSnapshot(models.Model):
    """A subaccount's equity in USDC at one moment, with the figures it was computed from.

    `detail` holds strings only (Decimals as plain text): per asset the total quantity, the
    price used and its source, the value in USDC; and the perpetual account's figures.
    """

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="balance_snapshots"
    )
    taken_at = models.DateTimeField(db_index=True)
    equity_usdc = models.DecimalField(**MONEY)
    hourly = models.BooleanField(
        default=False, help_text="The subaccount's first snapshot of its hour (7-day line)."
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["subaccount", "taken_at"]
        indexes = [
            models.Index(fields=["subaccount", "taken_at"], name="snapshot_sub_time"),
            models.Index(fields=["subaccount", "hourly", "taken_at"], name="snapshot_sub_hourly"),
        ]

    def __str__(self) -> str:
        equity = usdc(self.equity_usdc)
        return f"{self.subaccount_id} {self.taken_at:%Y-%m-%d %H:%M} {equity}"
