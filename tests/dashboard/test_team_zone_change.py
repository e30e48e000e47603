"""Changing the team's time zone builds that zone's PnL checkpoints when it is saved (in the
background), and the overview's figures are right meanwhile, before any is built."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.team import team_time_zone_set
from tests.accounts.conftest import fresh_code_for
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    closes_session,
    desk,
    exchange_urls,
)
from trading.ledger.checkpoints import checkpoints_update
from trading.ledger.report import pnl_report
from trading.ledger.running import running_clear
from trading.ledger.selectors import ledger_pnl
from trading.ledger.team import team_figures
from trading.ledger.zones import team_zone_set, zone_builds_wait
from trading.models.ledger import LedgerEntry, PnlCheckpoint

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]

PERP = "SOL_USDC_PERP"
ZONE = "Asia/Tokyo"


def _fill(sub, n: int, at: datetime, side: str, quantity: str, price: str) -> None:
    LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.FILL,
        exchange_id=f"{PERP}:{n}:{side}",
        occurred_at=at,
        symbol=PERP,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=Decimal("0.08"),
        fee_symbol="USDC",
    )


def _ledger_over_days(sub) -> None:
    """Arrange: a long of 3 bought four days ago, one sold shortly before Tokyo's midnight,
    one sold today in Tokyo (between its midnight and now), each with a fee of 0.08; the
    UTC checkpoints written as the sync writes them."""
    now = timezone.now()
    tokyo = ZoneInfo(ZONE)
    midnight = datetime.combine(now.astimezone(tokyo).date(), time.min, tzinfo=tokyo)
    _fill(sub, 1, now - timedelta(days=4), "Bid", "3", "150")
    _fill(sub, 2, midnight - timedelta(minutes=30), "Ask", "1", "155")
    _fill(sub, 3, midnight + (now - midnight) / 2, "Ask", "1", "160")
    checkpoints_update(sub.pk, "UTC")


async def _today(desk) -> Decimal | None:
    team = await team_figures(user=desk.trader, detail=False)
    return next(f.today for f in team.subaccounts if f.access.subaccount.pk == desk.main.pk)


def _tokyo_checkpoints(desk) -> int:
    return PnlCheckpoint.objects.filter(subaccount=desk.main, zone=ZONE).count()


async def test_saving_a_zone_builds_its_checkpoints_without_a_read(desk) -> None:
    await sync_to_async(_ledger_over_days)(desk.main)
    assert await sync_to_async(_tokyo_checkpoints)(desk) == 0

    code = await sync_to_async(fresh_code_for)(desk.outsider)
    await sync_to_async(team_zone_set)(actor=desk.outsider, zone=ZONE, otp_code=code)
    assert await sync_to_async(zone_builds_wait)(timeout=60)

    days = {
        line.day for line in (await ledger_pnl(subaccount=desk.main, marks={}, zone=ZONE)).lines
    }
    assert await sync_to_async(_tokyo_checkpoints)(desk) == len(days) == 3


async def test_the_overview_is_right_before_the_new_zones_checkpoints_are_built(desk) -> None:
    await sync_to_async(_ledger_over_days)(desk.main)
    running_clear()
    await _today(desk)  # the process's folds in UTC, as before the change
    # the setting alone, as a process sees it while the saving process is still building
    code = await sync_to_async(fresh_code_for)(desk.outsider)
    await sync_to_async(team_time_zone_set)(actor=desk.outsider, zone=ZONE, otp_code=code)

    meanwhile = await _today(desk)
    built_by_the_read = await sync_to_async(_tokyo_checkpoints)(desk)
    report = await pnl_report(user=desk.trader)  # past days need them: built now

    reference = await ledger_pnl(subaccount=desk.main, marks={}, zone=ZONE)
    today = timezone.now().astimezone(ZoneInfo(ZONE)).date()
    expected = sum((line.row.net for line in reference.lines if line.day == today), Decimal(0))
    assert (meanwhile, expected) == (Decimal("10") - Decimal("0.08"), meanwhile)
    assert built_by_the_read == 0  # the overview did not fold the whole ledger for them
    days = {d.day: d.net for week in report.weeks for d in week if d.net is not None}
    assert days == {
        line.day: line.row.net for line in reference.lines
    }  # every day, each to the cent
    running_clear()
    assert await _today(desk) == meanwhile  # from the built checkpoints, the same
