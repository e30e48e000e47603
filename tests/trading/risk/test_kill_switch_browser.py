"""An admin presses "stop everything" on the risk page in Chromium and watches each subaccount's
progress live; at the end the sandbox holds no open order and no position on either desk."""

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
from tests.authenticator import authenticator_code
from tests.fixtures.dashboard_server import DashboardServer
from trading.backpack import Credentials, ExchangeSession

pytestmark = pytest.mark.browser

PASSWORD = "a long demo password 1"
KEY = "3132333435363738393031323334353637383930"
PERP = "SOL_USDC_PERP"

SETUP = """
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts import crypto
from accounts.models import Membership, Subaccount
ada = get_user_model().objects.create_user("ada", password={password!r})
TOTPDevice.objects.create(user=ada, name="authenticator", confirmed=True, key={key!r})
for name, (api_key, api_secret) in {desks!r}.items():
    desk = Subaccount.objects.create(name=name, api_public_key=api_key,
                                     api_secret_sealed=crypto.seal(api_secret))
    Membership.objects.create(user=ada, subaccount=desk, role="admin")
print(Subaccount.objects.get(name="Desk A").pk)
"""


def code(steps_ahead: int = 0) -> str:
    """Ada's authenticator code, `steps_ahead` 30-second steps from now."""
    return authenticator_code(bytes.fromhex(KEY), steps_ahead=steps_ahead)


@pytest.fixture(scope="module")
def exchange() -> Iterator[SandboxProcess]:
    with SandboxProcess(maker=False) as process:
        yield process


@pytest.fixture(scope="module")
def desk(tmp_path_factory, exchange) -> Iterator[DashboardServer]:
    server = DashboardServer(
        tmp_path_factory.mktemp("kill-switch"), api_url=exchange.api_url, ws_url=exchange.ws_url
    )
    server.env["DASHBOARD_RELAY"] = "off"
    desks = {
        "Desk A": (exchange.keys[0]["api_key"], exchange.keys[0]["api_secret"]),
        "Desk B": (exchange.keys[1]["api_key"], exchange.keys[1]["api_secret"]),
    }
    try:
        server.start()
        output = server.manage("shell", "-c", SETUP.format(password=PASSWORD, key=KEY, desks=desks))
        server.subaccount_id = int(output.strip().splitlines()[-1])
        yield server
    finally:
        server.stop()


def client(session: ExchangeSession, exchange: SandboxProcess, index: int):
    key = exchange.keys[index]
    secret = key["api_secret"]
    return session.client(
        Credentials(api_key=key["api_key"], api_secret=lambda: secret), label=f"k{index}"
    )


async def _arrange(exchange: SandboxProcess) -> None:
    """Each desk: a long SOL perp position and three resting bids (key 2 is the other side)."""
    async with ExchangeSession(api_url=exchange.api_url, ws_url=exchange.ws_url) as session:
        maker = client(session, exchange, 2)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("4"))
        await maker.place_order(PERP, "Bid", "Limit", price=Decimal("149"), quantity=Decimal("4"))
        for index in (0, 1):
            desk = client(session, exchange, index)
            await desk.place_order(PERP, "Bid", "Market", quantity=Decimal("1"))
            for price in ("140", "141", "142"):
                await desk.place_order(
                    "SOL_USDC", "Bid", "Limit", price=Decimal(price), quantity=Decimal("1")
                )


async def _left(exchange: SandboxProcess) -> list[tuple[int, int]]:
    """(open orders, open positions) of each desk on the exchange."""
    async with ExchangeSession(api_url=exchange.api_url, ws_url=exchange.ws_url) as session:
        found = []
        for index in (0, 1):
            desk = client(session, exchange, index)
            positions = [p for p in await desk.positions() if p.net_quantity != 0]
            found.append((len(await desk.open_orders()), len(positions)))
        return found


def run(coroutine):
    """Run exchange calls beside Playwright's own event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_the_admin_presses_stop_everything_and_watches_the_progress(desk, exchange, page):
    run(_arrange(exchange))
    assert run(_left(exchange)) == [(3, 1), (3, 1)]
    risk = f"/trading/subaccounts/{desk.subaccount_id}/risk/"
    page.goto(f"{desk.url}/accounts/login/?next={risk}")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", code())
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(risk) + "$"))
    exchange.set_faults(latency_ms=300)  # every call slower, so the steps can be watched

    page.fill("#id_kill_reason", "browser drill")
    page.fill("#id_kill_code", code(steps_ahead=1))
    page.click("#kill-all")

    # While the request runs, the page shows each subaccount's step as it changes.
    progress = page.locator("#kill-progress")
    expect(progress.locator('li[data-subaccount="Desk A"]')).to_contain_text("Desk A: ")
    expect(progress).to_contain_text("orders cancelled; closing SOL_USDC_PERP (1 of 1)")
    page.screenshot(path=str(services.output_dir() / "kill_switch_progress.png"), full_page=True)
    page.wait_for_url(re.compile(re.escape(risk) + "$"), timeout=30_000)
    page.locator("text=Desk A: Kill switch: 3 orders cancelled").wait_for(timeout=30_000)
    html = page.content()
    exchange.clear_faults()

    for name in ("Desk A", "Desk B"):
        assert (
            f"{name}: Kill switch: 3 orders cancelled, positions closed: SOL_USDC_PERP. Nothing "
            "is left open; the subaccount is reduce-only." in html
        )
    assert run(_left(exchange)) == [(0, 0), (0, 0)]
