"""`manage.py seed_demo_equity`: a week of equity snapshots for the demo's subaccounts.

Takes a real snapshot of every active subaccount (the exchange must answer), then gives each
one without other snapshots in the last week a generated week ending at it (see
`trading.balances.demo`). `make demo` runs it after the sandbox is up.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand

from trading.balances.demo import DemoEquityReport, demo_equity_history_fill
from trading.exchange import close_session


async def _fill() -> DemoEquityReport:
    try:
        return await demo_equity_history_fill()
    finally:
        await close_session()


class Command(BaseCommand):
    help = "Give the demo's subaccounts a week of equity snapshots ending at their equity now."

    def handle(self, *args: Any, **options: Any) -> None:
        report = asyncio.run(_fill())
        for line in report.lines():
            self.stdout.write(line)
