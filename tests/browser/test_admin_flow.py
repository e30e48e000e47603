"""An admin enrols two-factor, adds a subaccount with a sandbox key and a trader; the trader
sees it, a viewer of another subaccount does not. Chromium against a real daphne."""

from __future__ import annotations

import base64
import re

import pytest

from tests import services
from tests.authenticator import authenticator_code
from tests.fixtures.dashboard_server import DashboardServer

pytestmark = pytest.mark.browser

PASSWORD = "a long demo password 1"

SETUP = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from accounts import crypto
from accounts.models import Membership, Subaccount
from tests.factories import keypair_for
U = get_user_model()
for name in ("boss", "tina", "vic"):
    U.objects.create_user(name, password={password!r})
U.objects.get(username="boss").user_permissions.add(Permission.objects.get(codename="add_subaccount"))
public, secret = keypair_for()
other = Subaccount.objects.create(name="Desk Other", api_public_key=public,
                                  api_secret_sealed=crypto.seal(secret))
Membership.objects.create(user=U.objects.get(username="vic"), subaccount=other, role="viewer")
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory, _sandbox_still):
    server = DashboardServer(
        tmp_path_factory.mktemp("admin-flow"),
        api_url=_sandbox_still.api_url,
        ws_url=_sandbox_still.ws_url,
    )
    server.env["DASHBOARD_RELAY"] = "off"  # no live data needed here
    try:
        server.start()
        server.manage("shell", "-c", SETUP.format(password=PASSWORD))
        yield server
    finally:
        server.stop()


def _sign_in(page, desk, username: str, next_path: str = "/") -> None:
    page.context.clear_cookies()
    page.goto(f"{desk.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def _key_of(base32_secret: str) -> bytes:
    return base64.b32decode(base32_secret + "=" * (-len(base32_secret) % 8))


def test_admin_enrols_adds_a_subaccount_and_a_trader(desk, page, _sandbox_still):
    key = _sandbox_still.keys[1]

    # The admin signs in and, before any admin page, is sent to two-factor enrolment.
    _sign_in(page, desk, "boss", "/accounts/subaccounts/add/")
    page.wait_for_url(re.compile(r"/accounts/security/enrol/"))
    assert page.locator("#totp-qr svg").count() == 1
    page.screenshot(path=str(services.output_dir() / "admin_totp_enrol.png"), full_page=True)
    authenticator = _key_of(page.locator("#totp-secret").inner_text())
    page.fill("#id_code", authenticator_code(authenticator))
    page.click("main button[type=submit]")
    assert page.locator("#backup-codes li").count() == 10
    page.click("text=Continue")

    # Add the subaccount with a sandbox key and a fresh two-factor code (the enrolment used
    # this step's, so the next step's); the key is checked against the exchange.
    page.wait_for_url(re.compile(r"/accounts/subaccounts/add/$"))
    page.fill("#id_name", "Desk Flow")
    page.fill("#id_api_public_key", key["api_key"])
    page.fill("#id_api_secret", key["api_secret"])
    page.fill("#id_otp_code", authenticator_code(authenticator, steps_ahead=1))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/subaccounts/\d+/$"))
    assert page.locator("h1").inner_text() == "Desk Flow"
    assert "its key works" in page.locator(".messages").inner_text()
    assert key["api_secret"] not in page.content()
    detail_url = page.url

    # Add tina as a trader through the htmx members form.
    page.click("text=Members")
    page.fill("#id_username", "tina")
    page.select_option("#id_role", "trader")
    page.click("#member-form button[type=submit]")
    page.locator('tr[data-member="tina"]').wait_for()
    assert "Trader" in page.locator('tr[data-member="tina"]').inner_text()
    page.screenshot(path=str(services.output_dir() / "admin_members.png"), full_page=True)

    # The trader sees the subaccount.
    _sign_in(page, desk, "tina", "/accounts/subaccounts/")
    page.wait_for_url(re.compile(r"/accounts/subaccounts/$"))
    assert page.locator('tr[data-subaccount="Desk Flow"]').count() == 1
    assert "Trader" in page.locator('tr[data-subaccount="Desk Flow"]').inner_text()

    # A viewer of another subaccount does not, not even by its address.
    _sign_in(page, desk, "vic", "/accounts/subaccounts/")
    page.wait_for_url(re.compile(r"/accounts/subaccounts/$"))
    assert page.locator('tr[data-subaccount="Desk Other"]').count() == 1
    assert page.locator('tr[data-subaccount="Desk Flow"]').count() == 0
    response = page.goto(detail_url)
    assert response.status == 404
