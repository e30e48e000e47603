"""The demo's week of equity snapshots: the balances page draws both sparklines at once,
ending at the equity read from the exchange; the week is the exchange's own past (its
holdings at its market history's prices), so the ledger reconciles with it to the cent; a
second run makes nothing up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal as D
from io import StringIO

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from sandbox.process import SandboxProcess
from tests.factories import SubaccountFactory
from trading.balances import fetch, snapshots
from trading.balances.demo import demo_equity_history_fill
from trading.balances.selectors import balances_view_for
from trading.exchange import close_session
from trading.fragments import balances_html
from trading.ledger.latest import reconcile_last_many
from trading.ledger.selectors import ledger_reconcile_days
from trading.ledger.services import ledger_sync
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
    # only USDC is valued on a sandbox without market history: nothing moved it all week
    assert view.equity_7d.low == view.equity_7d.high == D("1000000")


async def test_a_second_run_keeps_the_history_and_adds_only_a_real_snapshot(exchange, desk):
    desk_a = await desk(1)
    await demo_equity_history_fill()
    count = await BalanceSnapshot.objects.acount()

    report = await demo_equity_history_fill()

    assert report.filled == [] and report.kept == ["Desk A"]
    assert await BalanceSnapshot.objects.acount() == count + 1
    newest = await BalanceSnapshot.objects.filter(subaccount=desk_a).alatest("taken_at")
    assert "generated" not in newest.detail


@pytest.fixture
async def history_exchange(sandbox_factory, settings) -> AsyncIterator[SandboxProcess]:
    """The dashboard pointed at a sandbox started with its market history, as `make demo`."""
    process = sandbox_factory(history=True)
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = process.api_url, process.ws_url
    fetch.accounts_cache.clear()
    fetch.market_cache.clear()
    snapshots.sparklines_forget()
    yield process
    fetch.accounts_cache.clear()
    fetch.market_cache.clear()
    await close_session()


async def test_the_week_follows_the_market_history_and_the_ledger_reconciles_it_to_the_cent(
    history_exchange,
):
    key = history_exchange.keys[1]
    desk_a = await sync_to_async(SubaccountFactory)(
        name=key["label"], keypair=(key["api_key"], key["api_secret"])
    )

    report = await demo_equity_history_fill()
    await ledger_sync(subaccount=desk_a)

    assert report.filled == ["Desk A"]
    snapshots_ = [s async for s in BalanceSnapshot.objects.order_by("taken_at")]
    assert len(snapshots_) > 400 and snapshots_[0].equity_usdc != snapshots_[-1].equity_usdc
    # the overview's card: the latest day reconciles, with no mismatch to show...
    shown = (await sync_to_async(reconcile_last_many)([desk_a.pk]))[desk_a.pk]
    assert shown is not None and shown.equity_change != 0
    assert shown.mismatch == 0
    # ...and so does every interval between two snapshots of the week
    every = await ledger_reconcile_days(subaccount=desk_a, daily=False)
    assert len(every) == len(snapshots_) - 1
    assert [r for r in every if r.mismatch != 0] == []
    # a generated snapshot values the holdings at the close of the exchange's last candle
    newest = snapshots_[-2]
    btc = newest.detail["assets"]["BTC"]
    async with httpx.AsyncClient(base_url=history_exchange.api_url) as client:
        params = {"symbol": "BTC_USDC", "interval": "1m", "startTime": _epoch(newest) - 600}
        closes = (await client.get("/api/v1/klines", params=params)).json()
    ended = [k for k in closes if _naive(k["end"]) <= newest.taken_at]
    assert D(btc["price"]) == D(ended[-1]["close"]) and btc["available"] == "25"


def _epoch(snapshot: BalanceSnapshot) -> int:
    return int(snapshot.taken_at.timestamp())


def _naive(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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
