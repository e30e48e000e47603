"""`manage.py snapshot_balances`: snapshot every active subaccount's equity now, thin old ones.

The relay does the same every 5 minutes; this command is for cron-style setups and checks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand

from trading.balances.services import SnapshotReport, balance_snapshots_take
from trading.exchange import close_session


async def _take() -> SnapshotReport:
    try:
        return await balance_snapshots_take()
    finally:
        await close_session()


class Command(BaseCommand):
    help = (
        "Snapshot the USDC equity of every active subaccount and thin old snapshots out "
        "(hourly after 7 days, daily after 91)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = asyncio.run(_take())
        for line in report.lines():
            self.stdout.write(line)
