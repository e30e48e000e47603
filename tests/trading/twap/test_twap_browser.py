"""In Chromium a trader starts a TWAP (a wrong duration is first refused beside its field,
keeping what was typed); a second trader of the team watches it on their own page; the
progress bar moves as the exchange runs the slices until the TWAP is done."""

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
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
for name in ("tess", "theo"):
    user = get_user_model().objects.create_user(name, password={password!r})
    Membership.objects.create(user=user, subaccount=desk, role="trader")
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
        tmp_path_factory.mktemp("twap"), api_url=exchange.api_url, ws_url=exchange.ws_url
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


async def _offer(exchange: SandboxProcess) -> None:
    async with ExchangeSession(api_url=exchange.api_url, ws_url=exchange.ws_url) as session:
        key = exchange.keys[1]
        secret = key["api_secret"]
        seller = session.client(
            Credentials(api_key=key["api_key"], api_secret=lambda: secret), label="seller"
        )
        await seller.place_order("SOL_USDC", "Ask", "Limit", quantity=Decimal("10"), price="150")


def offer(exchange: SandboxProcess) -> None:
    """Run the exchange call beside Playwright's own event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _offer(exchange)).result()


def sign_in(page, desk, user: str, path: str) -> None:
    page.goto(f"{desk.url}/accounts/login/?next={path}")
    page.fill("#id_username", user)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_a_twap_runs_to_completion_watched_by_a_second_trader(desk, exchange, page, chromium):
    offer(exchange)
    path = f"/trading/subaccounts/{desk.subaccount_id}/twap/SOL_USDC/"
    sign_in(page, desk, "tess", path)
    watcher = chromium.new_context(viewport={"width": 1280, "height": 860}).new_page()
    watcher.set_default_timeout(15_000)
    sign_in(watcher, desk, "theo", path)

    page.fill("#id_quantity", "3")
    page.fill("#id_duration_s", "9")
    page.fill("#id_interval_s", "30")
    page.click("text=Start TWAP")
    beside = page.locator('#twap-form .field-error[data-field="duration_s"]')
    expect(beside).to_have_text("At least one interval.")  # beside the field, as typed
    expect(page.locator("#id_interval_s")).to_have_value("30")
    expect(page.locator("#id_quantity")).to_have_value("3")
    page.fill("#id_interval_s", "3")
    page.click("text=Start TWAP")
    expect(page.locator("#trading-message")).to_contain_text("TWAP started: 3 SOL_USDC")
    expect(page.locator("#twap-form .field-error")).to_have_count(0)

    row = watcher.locator(".twap-row")
    expect(row).to_have_count(1)  # the second trader's page shows it by itself
    expect(row.locator("progress")).to_have_attribute("value", re.compile(r"^(33|66)$"))
    watcher.screenshot(path=str(services.output_dir() / "twap_running.png"), full_page=True)
    expect(watcher.locator(".twap-running")).to_contain_text(
        "No TWAP running on SOL_USDC.", timeout=20_000
    )
    watcher.context.close()
