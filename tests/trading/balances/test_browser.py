"""The balances page in Chromium at desktop and phone widths, against a live sandbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from trading.backpack import Credentials, ExchangeSession

pytestmark = pytest.mark.browser

PASSWORD = "a long demo password 1"

EXTRAS = """
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from accounts.models import LowBalanceThreshold, Subaccount
from trading.models.balances import BalanceSnapshot
from tests.factories import SubaccountFactory
SubaccountFactory(name="Old key")
desk_a = Subaccount.objects.get(name="Desk A")
LowBalanceThreshold.objects.create(subaccount=desk_a, asset="USDC", minimum=Decimal("2000000"))
now = timezone.now()
rows = []
for n, s in enumerate(Subaccount.objects.exclude(name="Old key")):
    equity = Decimal(3000000 + 100000 * n)
    for k in range(7 * 24 * 12):  # every 5 minutes for a week, newest first
        equity -= Decimal((k * 7919 + n * 104729) % 2001 - 1000)
        rows.append(BalanceSnapshot(subaccount=s, taken_at=now - timedelta(minutes=5 * k + 1),
                                    equity_usdc=equity, hourly=k % 12 == 0))
BalanceSnapshot.objects.bulk_create(rows)
"""


@pytest.fixture(scope="module")
def desk_server(sandbox_live, tmp_path_factory) -> Iterator[DashboardServer]:
    """A dashboard wired to the live sandbox: the demo team plus a subaccount with a dead key."""
    state = tmp_path_factory.mktemp("balances-browser")
    server = DashboardServer(state, api_url=sandbox_live.api_url, ws_url=sandbox_live.ws_url)
    keys = state / "keys.json"
    keys.write_text(json.dumps(sandbox_live.keys))
    try:
        # Seeded before the first request: the relay that request starts draws each
        # subaccount's sparklines once a minute, so snapshots written behind its back later
        # would show only after that minute.
        server.prepare()
        server.manage("seed_demo", "--keys", str(keys))
        server.manage("shell", "-c", EXTRAS)
        server.create_user("boss", PASSWORD, superuser=True)
        server.start()
        yield server
    finally:
        server.stop()


def sign_in(page, server: DashboardServer) -> None:
    page.goto(server.url + "/accounts/login/?next=/trading/balances/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/trading/balances/")


def wait_filled(page) -> None:
    # Every block asks the exchange; on a loaded machine (the scaled run, two cores) that took
    # longer than the page's default 10 s once.
    page.locator("#balances-totals:not(.is-loading)").wait_for(timeout=30_000)
    page.wait_for_function(
        "document.querySelectorAll('.balances-sub.is-loading').length === 0", timeout=30_000
    )


def test_balances_page_fills_in_and_reads_at_desktop_width(desk_server, page):
    sign_in(page, desk_server)
    wait_filled(page)

    blocks = page.locator(".balances-sub")
    assert blocks.count() == 4
    broken = page.locator(".balances-sub.has-error")
    assert broken.locator("h2").inner_text() == "Old key"
    assert "Balances could not be read" in broken.inner_text()
    totals = page.locator("#balances-totals").inner_text()
    assert "Totals exclude 1 subaccount whose balances could not be read: Old key." in totals
    assert page.locator("tr.below-threshold[data-asset=USDC]").count() == 1
    low = page.locator(".low-balances li[data-asset=USDC]").inner_text()
    assert low.startswith("Desk A USDC: ") and low.endswith(" < 2,000,000.00")
    assert page.locator(".sparkline polyline").count() == 6
    page.screenshot(path=str(services.output_dir() / "balances.png"), full_page=True)


def on_exchange(sandbox, index: int, call) -> None:
    """Run ``await call(client)`` as sandbox subaccount `index`."""

    async def run() -> None:
        key = sandbox.keys[index]
        async with ExchangeSession(api_url=sandbox.api_url) as session:
            await call(session.client(Credentials(key["api_key"], key["api_secret"]), label="t"))

    # Playwright's sync API owns this thread's event loop: reach the exchange from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=30)


def test_an_order_updates_its_block_and_the_totals_without_a_reload(
    desk_server, sandbox_live, page
):
    sign_in(page, desk_server)
    wait_filled(page)
    desk_a = page.locator(".balances-sub", has=page.locator("h2", has_text="Desk A"))
    locked = desk_a.locator("tr[data-asset=USDC] td[data-label=Locked]")
    totals_locked = page.locator("#balances-totals tr[data-asset=USDC] td[data-label=Locked]")
    mine_before = D(locked.inner_text().replace(",", ""))
    team_before = D(totals_locked.inner_text().replace(",", ""))

    bid = {"quantity": D("0.1"), "price": D("120"), "post_only": True}  # below the market
    on_exchange(sandbox_live, 1, lambda c: c.place_order("SOL_USDC", "Bid", "Limit", **bid))
    try:
        expect(locked).to_have_text(f"{mine_before + 12:,.2f}", timeout=15_000)
        expect(totals_locked).to_have_text(f"{team_before + 12:,.2f}", timeout=15_000)
    finally:  # the live exchange is shared with later tests
        on_exchange(sandbox_live, 1, lambda c: c.cancel_all_orders("SOL_USDC"))


def test_balances_page_fits_a_phone_without_sideways_scrolling(desk_server, page):
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, desk_server)
    wait_filled(page)

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    first_row = page.locator(".balances-sub:not(.has-error) tr.asset-row").first
    assert first_row.bounding_box()["width"] <= 375
    page.screenshot(path=str(services.output_dir() / "balances-phone.png"), full_page=True)
