"""Snapshots: exact equity per subaccount, skipped when unreadable, thinned to hourly after 7
days and daily after a quarter,
and drawn back as 24 h / 7 d sparklines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from tests.factories import SubaccountFactory
from trading.balances.selectors import balances_view_for
from trading.balances.services import balance_snapshots_take
from trading.fragments import balances_html
from trading.models.balances import BalanceSnapshot

pytestmark = pytest.mark.django_db(transaction=True)


async def test_every_readable_subaccount_gets_a_snapshot_and_unreadable_ones_none(exchange, desk):
    desk_a = await desk(1)
    await desk(3, is_active=False)
    await sync_to_async(SubaccountFactory)(name="Old key")

    report = await balance_snapshots_take()

    snapshots = [s async for s in BalanceSnapshot.objects.all()]
    assert [s.subaccount_id for s in snapshots] == [desk_a.pk]
    (snap,) = snapshots
    assert snap.equity_usdc == D("1000000")  # only USDC has a price in a still sandbox
    assert snap.detail["assets"]["USDC"] == {
        "available": "1000000",
        "locked": "0",
        "staked": "0",
        "price": "1",
        "price_source": "par",
        "value_usdc": "1000000",
    }
    assert snap.detail["assets"]["SOL"] == {"available": "5000", "locked": "0", "staked": "0"}
    assert report.taken == ["Desk A"]
    assert report.skipped == [
        (
            "Old key",
            "The exchange rejected the credentials on GET /api/v1/capital: "
            "Invalid X-API-Key Header: unknown API key. "
            "Check that the API key and secret belong together and are still active on the "
            "exchange, and that this machine's clock is right.",
        )
    ]


async def test_the_first_snapshot_of_an_hour_is_marked_for_the_week_line(exchange, desk):
    await desk(1)
    on_the_hour = timezone.now().replace(minute=0, second=1, microsecond=0)

    await balance_snapshots_take(now=on_the_hour)
    await balance_snapshots_take(now=on_the_hour + timedelta(minutes=5))
    await balance_snapshots_take(now=on_the_hour + timedelta(minutes=60))

    marks = [s.hourly async for s in BalanceSnapshot.objects.order_by("taken_at")]
    assert marks == [True, False, True]


async def test_old_snapshots_are_kept_hourly_for_a_quarter_then_daily(exchange, desk):
    desk_a = await desk(1)
    now = timezone.now()
    midday = now.replace(hour=12, minute=0, second=0, microsecond=0)
    kept = [
        (now - timedelta(days=6, hours=23), False),  # within the week: every one
        (now - timedelta(days=9), True),  # the first of its hour
        (midday - timedelta(days=200), True),  # the first of its day
    ]
    gone = [
        (now - timedelta(days=9, minutes=5), False),  # after the week, not the first of its hour
        (midday - timedelta(days=200) + timedelta(hours=1), True),  # the day's second hour
    ]
    for at, hourly in kept + gone:
        await BalanceSnapshot.objects.acreate(
            subaccount=desk_a, taken_at=at, equity_usdc=D("1"), hourly=hourly
        )

    report = await balance_snapshots_take(now=now)

    left = sorted([s.taken_at async for s in BalanceSnapshot.objects.all()])
    assert left == sorted([at for at, _ in kept] + [now])
    assert report.pruned == 2


async def test_sparklines_draw_the_last_day_fully_and_the_week_hourly(exchange, desk):
    desk_a = await desk(1)
    # every 5 minutes for 3 days, the newest 2.5 minutes ago (so none sits on a window edge)
    newest = timezone.now() - timedelta(seconds=150)
    rows = [
        BalanceSnapshot(
            subaccount=desk_a,
            taken_at=newest - timedelta(minutes=5 * k),
            equity_usdc=D(k),
            hourly=k % 12 == 11,
        )
        for k in range(3 * 24 * 12)
    ]
    await BalanceSnapshot.objects.abulk_create(rows)

    view = await balances_view_for(desk_a)

    assert view.equity_24h.count == 24 * 12  # every snapshot of the last day
    assert view.equity_7d.count == 24 * 12 + 48  # plus one an hour for the two days before
    assert view.equity_7d.first == D(3 * 24 * 12 - 1)  # reaches back into the third day
    assert view.equity_7d.last == view.equity_24h.last == D(0)
    assert not view.equity_7d.rising
    html = balances_html(desk_a, view)
    assert html.count("<polyline") == 2
    assert "Equity 24 h" in html and "Equity 7 d" in html


async def test_a_subaccount_without_snapshots_says_so(exchange, desk):
    desk_a = await desk(1)

    html = balances_html(desk_a, await balances_view_for(desk_a))

    assert html.count("no snapshots yet") == 2
    assert "<polyline" not in html


def test_the_management_command_prints_what_it_did(exchange, settings):
    key = exchange.keys[2]
    SubaccountFactory(name="Desk B", keypair=(key["api_key"], key["api_secret"]))
    out = StringIO()

    call_command("snapshot_balances", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("1 snapshot taken at ")
    assert lines[-1] == "0 old snapshots thinned out (hourly after 7 days, daily after 91)"
    assert BalanceSnapshot.objects.get().equity_usdc == D("1000000")
