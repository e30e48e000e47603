"""An admin requests a withdrawal with a TOTP code; a second admin approves it with theirs and
it reaches the exchange. Chromium against a real daphne and the sandbox exchange."""

from __future__ import annotations

import re

import pytest

from tests import services
from tests.authenticator import authenticator_code
from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

pytestmark = pytest.mark.browser

PASSWORD = "a long demo password 1"
KEYS = {"alice": "3132333435363738393031323334353637383930", "bob": "6162636465666768696a"}
ADDRESS = "Desk1SoLanaWithdrawa1Address11111111111111"

SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.withdrawals.models import WithdrawalAddress, WithdrawalLimit, WithdrawalPolicy
U = get_user_model()
users = {{}}
for name, key in {keys!r}.items():
    users[name] = U.objects.create_user(name, password={password!r})
    TOTPDevice.objects.create(user=users[name], name="authenticator", confirmed=True, key=key)
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
for user in users.values():
    Membership.objects.create(user=user, subaccount=desk, role="admin")
WithdrawalPolicy.objects.create(subaccount=desk, second_admin_required=True)
WithdrawalLimit.objects.create(subaccount=desk, asset="USDC", daily_limit=Decimal("1000"))
WithdrawalAddress.objects.create(subaccount=desk, blockchain="Solana", address={address!r},
                                 label="treasury", confirmed_2fa_exempt=True,
                                 added_by=users["alice"], approved_by=users["bob"])
print(desk.pk)
"""


def code(user: str, *, steps_ahead: int = 0) -> str:
    """The user's authenticator code, `steps_ahead` 30-second steps from now."""
    return authenticator_code(bytes.fromhex(KEYS[user]), steps_ahead=steps_ahead)


@pytest.fixture(scope="module")
def desk(tmp_path_factory, _sandbox_still):
    server = DashboardServer(
        tmp_path_factory.mktemp("withdrawal"),
        api_url=_sandbox_still.api_url,
        ws_url=_sandbox_still.ws_url,
    )
    key = _sandbox_still.keys[1]
    try:
        server.start()
        output = server.manage(
            "shell",
            "-c",
            SETUP.format(
                keys=KEYS,
                password=PASSWORD,
                api_key=key["api_key"],
                api_secret=key["api_secret"],
                address=ADDRESS,
            ),
        )
        server.subaccount_id = int(output.strip().splitlines()[-1])
        yield server
    finally:
        server.stop()


def _sign_in(page, desk, username: str, next_path: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{desk.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", code(username))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_withdrawal_with_totp_and_second_admin_approval(desk, page, _sandbox_still):
    _sandbox_still.reset()
    path = f"/trading/subaccounts/{desk.subaccount_id}/withdrawals/"

    # Alice requests 125.5 USDC to the book's exempt address, confirming with a fresh code.
    _sign_in(page, desk, "alice", path)
    assert page.locator(".max-amount[data-asset=USDC]").inner_text().endswith(" USDC")
    page.locator("#alerts-bell summary").wait_for()  # the bell loaded into the top bar
    page.select_option("#id_asset", "USDC")
    page.fill("#id_quantity", "125.5")
    request_code = code("alice", steps_ahead=1)
    page.fill("#id_otp_code", request_code)
    page.click("#withdrawal-form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    assert "it waits for a second admin's approval" in page.locator(".messages").inner_text()
    row = page.locator("#withdrawal-requests tr[data-status=pending]")
    assert "125.50 USDC" in row.inner_text()
    assert row.locator("text=Approve").count() == 0  # nobody approves their own request

    # The same code a second time is refused, beside the code field.
    page.fill("#id_quantity", "10")
    page.fill("#id_otp_code", request_code)
    page.click("#withdrawal-form button[type=submit]")
    assert "wrong or was used already" in page.locator("#withdrawal-error-otp_code").inner_text()

    # Bob approves with his own code; the withdrawal is sent and shows in the exchange's history.
    _sign_in(page, desk, "bob", path)
    row = page.locator("#withdrawal-requests tr[data-status=pending]")
    row.locator("input[name=otp_code]").fill(code("bob", steps_ahead=1))
    row.locator("text=Approve").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    assert "Sent 125.50 USDC to treasury" in page.locator(".messages").inner_text()
    assert "Sent to the exchange" in page.locator("#withdrawal-requests").inner_text()
    assert "approved by bob" in page.locator("#withdrawal-requests").inner_text()
    history = page.locator("#withdrawal-history tbody tr")
    assert history.count() == 1
    assert "125.50 USDC" in history.first.inner_text()
    page.screenshot(path=str(services.output_dir() / "withdrawal.png"), full_page=True)

    # The exchange calls behind all this show on the health page once the agent flushed them.
    row = page.locator(f"#health-subaccounts tr[data-subaccount='{desk.subaccount_id}']")

    def counted() -> bool:
        page.goto(f"{desk.url}/trading/health/")
        return row.locator("td").nth(1).inner_text() != "0"

    eventually(counted, within_s=15, what="the calls on the health page", every_s=0.5).blocking()
    assert int(row.locator("td").nth(1).inner_text()) > 0
    page.screenshot(path=str(services.output_dir() / "health.png"), full_page=True)
