"""The demo's week of equity snapshots: the balances page draws both sparklines at once,
ending at the equity read from the exchange, and a second run makes nothing up."""

from __future__ import annotations

from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import SubaccountFactory
from trading.balances.demo import demo_equity_history_fill
from trading.balances.selectors import balances_view_for
from trading.fragments import balances_html
from trading.models.balances import BalanceSnapshot

pytestmark = pytest.mark.django_db(transaction=True)


async def test_seeded_snapshots_make_both_sparklines_draw_ending_at_the_real_equity(exchange, desk):
    desk_a = await desk(1)
    before = balances_html(desk_a, await balances_view_for(desk_a))
    assert before.count("no snapshots yet") == 2  # sentinel: without them, nothing draws

    report = await demo_equity_history_fill()

    view = await balances_view_for(desk_a)
    html = balances_html(desk_a, view)
    assert report.filled == ["Desk A"]
    assert html.count("<polyline") == 2 and "no snapshots yet" not in html
    assert "Equity 24 h" in html and "Equity 7 d" in html
    # every 5 minutes up to the real one now (the oldest may just have left the window)...
    assert 24 * 12 <= view.equity_24h.count <= 24 * 12 + 1
    # ...and one an hour over the six days before
    assert view.equity_7d.count - view.equity_24h.count in (143, 144)
    assert view.equity_24h.last == view.equity_7d.last == D("1000000")  # read from the exchange
    assert view.equity_7d.low < view.equity_7d.high  # a line that moves, not a flat one


async def test_a_second_run_keeps_the_history_and_adds_only_a_real_snapshot(exchange, desk):
    desk_a = await desk(1)
    await demo_equity_history_fill()
    count = await BalanceSnapshot.objects.acount()

    report = await demo_equity_history_fill()

    assert report.filled == [] and report.kept == ["Desk A"]
    assert await BalanceSnapshot.objects.acount() == count + 1
    newest = await BalanceSnapshot.objects.filter(subaccount=desk_a).alatest("taken_at")
    assert "generated" not in newest.detail


async def test_the_week_is_the_same_for_the_same_subaccount(exchange, desk):
    desk_a = await desk(1)
    await demo_equity_history_fill()
    first = [s.equity_usdc async for s in BalanceSnapshot.objects.order_by("-taken_at")]
    await BalanceSnapshot.objects.all().adelete()

    await demo_equity_history_fill()

    again = [s.equity_usdc async for s in BalanceSnapshot.objects.order_by("-taken_at")]
    assert again == first and len(set(first)) > 100
    assert desk_a.name == "Desk A"  # the walk is seeded by the name


def test_the_management_command_says_what_it_did(exchange):
    key = exchange.keys[2]
    SubaccountFactory(name="Desk B", keypair=(key["api_key"], key["api_secret"]))
    SubaccountFactory(name="Old key")
    out = StringIO()

    call_command("seed_demo_equity", stdout=out)

    assert out.getvalue().splitlines() == [
        "generated a week of equity snapshots for Desk B",
        "no equity history for Old key: The exchange rejected the credentials on "
        "GET /api/v1/capital: Invalid X-API-Key Header: unknown API key. "
        "Check that the API key and secret belong together and are still active on the "
        "exchange, and that this machine's clock is right.",
    ]
