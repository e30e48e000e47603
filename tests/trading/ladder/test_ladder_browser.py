"""A trader previews a ladder in Chromium, sends it, and its orders rest on the exchange."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from sandbox.process import SandboxProcess
from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from trading.backpack import Credentials, ExchangeSession

pytestmark = pytest.mark.browser

PASSWORD = "a long demo password 1"

SETUP = """
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.models import RiskLimit
tess = get_user_model().objects.create_user("tess", password={password!r})
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=tess, subaccount=desk, role="trader")
RiskLimit.objects.create(subaccount=desk)
print(desk.pk)
"""


@pytest.fixture(scope="module")
def exchange() -> Iterator[SandboxProcess]:
    with SandboxProcess(maker=False) as process:
        yield process


@pytest.fixture(scope="module")
def desk(tmp_path_factory, exchange) -> Iterator[DashboardServer]:
    server = DashboardServer(
        tmp_path_factory.mktemp("ladder"), api_url=exchange.api_url, ws_url=exchange.ws_url
    )
    server.env["DASHBOARD_RELAY"] = "off"
    key = exchange.keys[0]
    try:
        server.start()
        output = server.manage(
            "shell",
            "-c",
            SETUP.format(password=PASSWORD, api_key=key["api_key"], api_secret=key["api_secret"]),
        )
        server.subaccount_id = int(output.strip().splitlines()[-1])
        yield server
    finally:
        server.stop()


async def _open_prices(exchange: SandboxProcess) -> list[Decimal]:
    async with ExchangeSession(api_url=exchange.api_url, ws_url=exchange.ws_url) as session:
        key = exchange.keys[0]
        secret = key["api_secret"]
        client = session.client(
            Credentials(api_key=key["api_key"], api_secret=lambda: secret), label="check"
        )
        return sorted(o.price for o in await client.open_orders())


def open_prices(exchange: SandboxProcess) -> list[Decimal]:
    """Run the exchange read beside Playwright's own event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _open_prices(exchange)).result()


def test_a_trader_previews_and_sends_a_ladder(desk, exchange, page) -> None:
    ladder = f"/trading/subaccounts/{desk.subaccount_id}/ladder/SOL_USDC/"
    page.goto(f"{desk.url}/accounts/login/?next={ladder}")
    page.fill("#id_username", "tess")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(ladder) + "$"))

    page.select_option("#id_side", "Bid")
    page.fill("#id_from_price", "149")
    page.fill("#id_to_price", "140")
    page.fill("#id_count", "10")
    page.select_option("#id_distribution", "increasing")
    page.fill("#id_total_quantity", "5.5")
    page.click("text=Preview")

    rows = page.locator(".ladder-table tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("149.00")
    assert open_prices(exchange) == []

    page.click("text=Send ladder")
    expect(page.locator("#trading-message")).to_contain_text("Ladder sent: 10 of 10 orders placed.")
    shown = page.locator(f"#open-orders-{desk.subaccount_id} tr[data-order-id]")
    expect(shown).to_have_count(10)  # the page's open orders show the ladder at once
    page.screenshot(path=str(services.output_dir() / "ladder_sent.png"), full_page=True)
    assert open_prices(exchange) == [Decimal(140 + i) for i in range(10)]
