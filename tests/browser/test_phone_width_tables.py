"""The pages with wide tables at 375 px (a small phone) in Chromium against a real daphne and the
sandbox: the risk page (limits and breaches), the orders history and the script keys page do not
scroll sideways; their tables scroll inside their own box. Screenshots go to test-output."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from sandbox.process import SandboxProcess
from tests import services
from tests.authenticator import authenticator_code
from tests.fixtures.dashboard_server import DashboardServer
from trading.backpack import Credentials, ExchangeSession

pytestmark = pytest.mark.browser

PASSWORD = "a long phone password 1"
KEY = "3132333435363738393031323334353637383930"
SMALL_PHONE = {"width": 375, "height": 812}

SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.gateway.keys import script_key_create
from trading.models import RiskBreach, RiskLimit
ada = get_user_model().objects.create_user("ada", password={password!r})
TOTPDevice.objects.create(user=ada, name="authenticator", confirmed=True, key={totp!r})
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=ada, subaccount=desk, role="admin")
RiskLimit.objects.create(subaccount=desk, member=None, max_order_notional=Decimal("2500000"),
    max_position_notional_market=Decimal("5000000"), max_position_notional_total=Decimal("9000000"),
    max_open_orders=200, max_leverage=Decimal("5"), daily_loss_limit=Decimal("250000"),
    allowed_markets="SOL_USDC,SOL_USDC_PERP,BTC_USDC_PERP")
RiskBreach.objects.create(subaccount=desk, member=ada, member_name="ada", symbol="SOL_USDC_PERP",
    limit="max_position_notional_market",
    message="Refused: the position on SOL_USDC_PERP would reach 5,123,456.78 USDC, over its limit.")
script_key_create(actor=ada, name="rebalancer-nightly", subaccounts=[desk], can_trade=True,
                  days=30, ip_allowlist="203.0.113.10\\n198.51.100.0/24")
print(desk.pk)
"""


@pytest.fixture(scope="module")
def exchange() -> Iterator[SandboxProcess]:
    with SandboxProcess(maker=False) as process:
        yield process


async def _orders(exchange: SandboxProcess) -> None:
    """Desk A: resting bids and one cancelled, so the orders history has rows of every kind."""
    key = exchange.keys[0]
    secret = key["api_secret"]
    async with ExchangeSession(api_url=exchange.api_url, ws_url=exchange.ws_url) as session:
        desk = session.client(
            Credentials(api_key=key["api_key"], api_secret=lambda: secret), label="k0"
        )
        for price in ("141.25", "142.50", "143.75"):
            await desk.place_order(
                "SOL_USDC_PERP", "Bid", "Limit", price=Decimal(price), quantity=Decimal("123.45")
            )
        order = await desk.place_order(
            "SOL_USDC_PERP", "Bid", "Limit", price=Decimal("140"), quantity=Decimal("1")
        )
        await desk.cancel_order("SOL_USDC_PERP", order_id=order.id)


@pytest.fixture(scope="module")
def desk(tmp_path_factory, exchange) -> Iterator[DashboardServer]:
    server = DashboardServer(
        tmp_path_factory.mktemp("phone-tables"), api_url=exchange.api_url, ws_url=exchange.ws_url
    )
    server.env["DASHBOARD_RELAY"] = "off"
    key = exchange.keys[0]
    try:
        server.start()
        output = server.manage(
            "shell",
            "-c",
            SETUP.format(
                password=PASSWORD, totp=KEY, api_key=key["api_key"], api_secret=key["api_secret"]
            ),
        )
        server.subaccount_id = int(output.strip().splitlines()[-1])
        asyncio.run(_orders(exchange))
        yield server
    finally:
        server.stop()


@pytest.fixture
def small_phone(chromium) -> Iterator[object]:
    context = chromium.new_context(viewport=SMALL_PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_wide_tables_scroll_in_their_box_at_375_px(desk, small_phone) -> None:
    page = small_phone
    page.goto(f"{desk.url}/accounts/login/?next=/trading/keys/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", authenticator_code(bytes.fromhex(KEY)))
    page.click("main button[type=submit]")
    page.wait_for_url("**/trading/keys/")
    pages = [
        ("keys", "/trading/keys/", ".script-keys tr[data-key]"),
        ("risk", f"/trading/subaccounts/{desk.subaccount_id}/risk/", "#breaches tr[data-limit]"),
        ("orders", "/trading/history/?kind=orders", ".history-table tbody tr td.num"),
    ]
    widths = {}
    for name, path, ready in pages:
        page.goto(f"{desk.url}{path}")
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(services.output_dir() / f"phone-375-{name}.png"), full_page=True)
        widths[name] = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )

    assert {name: width for name, (width, screen) in widths.items() if width > screen} == {}
