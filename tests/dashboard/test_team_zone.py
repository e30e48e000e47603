"""The team's time zone: admins set it (validated, audited), and the overview's "today" and
the PnL calendar count days in it: a fill at 23:30 UTC is the next day's in Berlin."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import AuditEvent, Role, TeamSetting
from accounts.team import TeamSettingError, team_time_zone, team_time_zone_set
from tests.accounts.conftest import fresh_code_for, verified_client
from tests.factories import MembershipFactory, UserFactory
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    closes_session,
    desk,
    exchange_urls,
)
from trading.ledger.report import pnl_report
from trading.ledger.running import running_clear
from trading.ledger.services import ledger_sync
from trading.ledger.team import team_figures
from trading.models import BalanceSnapshot
from trading.models.ledger import LedgerEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]

PERP = "SOL_USDC_PERP"
LATE_EVENING = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 01:30 on 2 June in Berlin
NOW = datetime(2026, 6, 2, 0, 10, tzinfo=UTC)  # 2 June in both zones


def _evening_fill(sub) -> LedgerEntry:
    return LedgerEntry.objects.create(
        subaccount=sub,
        kind=LedgerEntry.Kind.FILL,
        exchange_id=f"{PERP}:1:Bid",
        occurred_at=LATE_EVENING,
        symbol=PERP,
        side="Bid",
        quantity=Decimal("1"),
        price=Decimal("150"),
        fee=Decimal("0.075"),
        fee_symbol="USDC",
    )


async def _today_and_calendar(desk) -> tuple[Decimal | None, dict]:
    running_clear()
    team = await team_figures(user=desk.trader, now=NOW)
    main = next(f for f in team.subaccounts if f.access.subaccount.pk == desk.main.pk)
    report = await pnl_report(user=desk.trader, now=NOW)
    days = {d.day.isoformat(): d.net for week in report.weeks for d in week if d.net is not None}
    return main.today, days


async def test_a_fill_at_2330_utc_is_the_next_days_for_a_team_in_berlin(desk) -> None:
    await sync_to_async(_evening_fill)(desk.main)
    utc_today, utc_days = await _today_and_calendar(desk)

    code = await sync_to_async(fresh_code_for)(desk.outsider)
    await sync_to_async(team_time_zone_set)(
        actor=desk.outsider, zone="Europe/Berlin", otp_code=code
    )
    berlin_today, berlin_days = await _today_and_calendar(desk)

    assert (utc_today, utc_days) == (Decimal(0), {"2026-06-01": Decimal("-0.075")})
    assert (berlin_today, berlin_days) == (Decimal("-0.075"), {"2026-06-02": Decimal("-0.075")})


async def test_only_admins_set_a_zone_that_zoneinfo_knows_and_each_try_is_audited(desk) -> None:
    viewer_code = await sync_to_async(fresh_code_for)(desk.viewer)
    code = await sync_to_async(fresh_code_for)(desk.outsider)
    with pytest.raises(PermissionDenied):
        await sync_to_async(team_time_zone_set)(
            actor=desk.viewer, zone="Europe/Berlin", otp_code=viewer_code
        )
    with pytest.raises(TeamSettingError) as refused:
        await sync_to_async(team_time_zone_set)(
            actor=desk.outsider, zone="Europe/Atlantis", otp_code=code
        )
    kept = await sync_to_async(team_time_zone_set)(
        actor=desk.outsider, zone=" Asia/Tokyo ", otp_code=code
    )

    assert str(refused.value) == (
        "“Europe/Atlantis” is not a time zone name; use one like UTC, Europe/Berlin or "
        "America/New_York."
    )
    assert (kept, await sync_to_async(team_time_zone)()) == ("Asia/Tokyo", "Asia/Tokyo")
    events = [
        (e.actor_name, e.result, e.parameters)
        async for e in AuditEvent.objects.filter(action="team.time_zone").order_by("id")
    ]
    assert events == [
        ("outsider", "failed", {"from": "UTC", "to": "Europe/Atlantis"}),
        ("outsider", "ok", {"from": "UTC", "to": "Asia/Tokyo"}),
    ]


def unexplained_jump(sub) -> None:
    """Two days of snapshots whose equity rose by 100 USDC with nothing in the ledger to
    explain it: a real mismatch of 100 once the ledger has read its history. The second is
    at today's UTC midnight, before the sandbox's reset deposited the seeded balances (those
    deposits are outside the interval)."""
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for at, equity in ((midnight - timedelta(hours=1), "1000"), (midnight, "1100")):
        BalanceSnapshot.objects.create(subaccount=sub, taken_at=at, equity_usdc=Decimal(equity))


def _days_of_the_team_in_words(desk) -> dict[str, str]:
    TeamSetting.objects.update_or_create(pk=1, defaults={"time_zone": "Asia/Tokyo"})
    unexplained_jump(desk.main)
    asyncio.run(ledger_sync(subaccount=desk.main))
    running_clear()
    admin = UserFactory(username="ada")
    MembershipFactory(user=admin, subaccount=desk.main, role=Role.ADMIN)
    client = verified_client(admin)
    pages = {
        "overview": "/",
        "pnl": "/trading/pnl/",
        "risk": f"/trading/subaccounts/{desk.main.pk}/risk/",
    }
    return {name: client.get(url).content.decode() for name, url in pages.items()}


def test_every_page_counting_the_teams_days_names_the_teams_zone(desk) -> None:
    pages = _days_of_the_team_in_words(desk)

    mismatch = re.search(r"<p[^>]*data-mismatch>(.*?)</p>", pages["overview"], re.S)
    assert mismatch, pages["overview"]
    assert mismatch.group(1).endswith(" Asia/Tokyo).")
    assert "UTC" not in mismatch.group(1)
    assert "since 00:00 Asia/Tokyo" in pages["overview"]
    assert (
        "Days in Asia/Tokyo, the team's time zone: realized − fees + funding of each day"
        in pages["pnl"]
    )
    pnl_mismatch = re.search(r"<p[^>]*data-mismatch>(.*?)</p>", pages["pnl"], re.S)
    assert pnl_mismatch and pnl_mismatch.group(1).endswith(" Asia/Tokyo).")
    assert "(the day starts at midnight Asia/Tokyo, the team's time zone)" in pages["risk"]
    for name, html in pages.items():  # what stays UTC is a time read, never the team's day
        assert "Days in UTC" not in html and "today's (UTC)" not in html, name
