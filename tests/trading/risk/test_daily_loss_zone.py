"""The daily loss limit counts the team's days, as the overview does: with the team in
Kiritimati (UTC+14), a loss made between the team's midnight and UTC's midnight is today's
for one and yesterday's for the other, and the limit follows the team's zone."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import TeamSetting
from tests.trading.risk.test_gate_on_the_sandbox import PERP, limits, open_long
from trading.ledger.checkpoints import checkpoints_rebuild
from trading.ledger.running import running_clear
from trading.ledger.services import ledger_sync
from trading.ledger.team import team_figures
from trading.models import LedgerEntry, RiskDayStart, RiskLimit
from trading.risk.loss import daily_loss_for, ledger_digest, loss_day, losses_of, risk_loss_watch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

ZONE = "Pacific/Kiritimati"  # UTC+14: its midnight is 10:00 UTC, never UTC's
LOSS = Decimal("2") + Decimal("0.15") + Decimal("0.149")  # 2 x (150 - 149) and both fees


def _midnight(now: datetime, zone: str) -> datetime:
    where = ZoneInfo(zone)
    return datetime.combine(now.astimezone(where).date(), time.min, tzinfo=where)


async def round_trip_between_the_midnights(desk) -> bool:
    """Arrange: buy 2 SOL perp at 150 and sell them at 149 (flat again: the loss is realized
    and fees), dated halfway between the team's midnight and UTC's. True when that is today
    for the team (and yesterday in UTC), False when it is yesterday for the team (and today
    in UTC)."""
    await TeamSetting.objects.aupdate_or_create(pk=1, defaults={"time_zone": ZONE})
    await open_long(desk)  # the maker also rests a bid of 5 at 149
    async with desk.session() as session:
        await desk.raw_client(session, 0).place_order(PERP, "Ask", "Market", quantity=Decimal("2"))
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))
    now = timezone.now()
    team, utc = _midnight(now, ZONE), _midnight(now, "UTC")
    between = min(team, utc) + abs(team - utc) / 2
    await LedgerEntry.objects.filter(subaccount=desk.main).aupdate(occurred_at=between)
    await sync_to_async(checkpoints_rebuild)(desk.main.pk, ZONE)  # the dates moved under them
    running_clear()
    return between >= team


async def overview_today(desk) -> Decimal | None:
    team = await team_figures(user=desk.trader, detail=False)
    return next(f.today for f in team.subaccounts if f.access.subaccount.pk == desk.main.pk)


async def test_a_loss_between_the_team_and_utc_midnights_counts_as_the_overview_says(
    desk,
) -> None:
    await limits(desk, daily_loss_limit=Decimal("1"))
    team_today = await round_trip_between_the_midnights(desk)

    loss = await sync_to_async(daily_loss_for)(subaccount=desk.main, marks={})
    today = await overview_today(desk)
    await risk_loss_watch(subaccount=desk.main)

    expected = LOSS if team_today else Decimal("0")
    assert (today, loss) == (-expected, expected)
    day = await sync_to_async(loss_day)()
    assert day == timezone.now().astimezone(ZoneInfo(ZONE)).date()
    start = await RiskDayStart.objects.aget(subaccount=desk.main, level=0)
    assert (start.day, start.zone) == (day, ZONE)
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    stopped = "daily loss limit: today's loss 2.30 USDC passed the limit of 1.00 USDC"
    assert (row.loss_stop_day, row.loss_stop_reason) == (
        (day, stopped) if team_today else (None, "")
    )
    # the sentinel: counted in UTC days, the same rows say the other thing
    utc = await sync_to_async(ledger_digest)(subaccount=desk.main, zone="UTC")
    in_utc = await sync_to_async(losses_of)(subaccount=desk.main, digest=utc, marks={})
    assert in_utc[None] == (Decimal("0") if team_today else LOSS)
