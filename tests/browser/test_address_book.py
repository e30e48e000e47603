"""The withdrawal address book in Chromium against a real daphne: Enter in a row's code field
changes nothing (the row's first button used to take it: Remove, or Mark exempt), and Remove
asks before it removes. Both withdrawal pages fit a 400 px screen."""

from __future__ import annotations

import re

import pytest

from tests import services
from tests.authenticator import authenticator_code
from tests.browser.test_withdrawal import KEYS, PASSWORD
from tests.fixtures.dashboard_server import DashboardServer

pytestmark = pytest.mark.browser

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
for label, address, exempt, approver in {addresses!r}:
    WithdrawalAddress.objects.create(subaccount=desk, blockchain="Solana", address=address,
                                     label=label, confirmed_2fa_exempt=exempt,
                                     added_by=users["carol"],
                                     approved_by=users[approver] if approver else None)
from trading.withdrawals.models import WithdrawalRequest
entry = WithdrawalAddress.objects.get(label="treasury")
for n, (quantity, status) in enumerate([("9977.5365433", "pending"), ("13.13", "cancelled")]):
    WithdrawalRequest.objects.create(
        subaccount=desk, address_entry=entry, asset="USDC", blockchain=entry.blockchain,
        address=entry.address, address_label=entry.label, quantity=Decimal(quantity),
        status=status, client_id=f"desk-narrow-{{n}}", requested_by=users["alice"],
        decided_by=users["alice"] if status == "cancelled" else None,
        reject_reason="alice removed the address from the address book." if n else "")
print(desk.pk)
"""
USERS = {**KEYS, "carol": "6a6b6c6d6e6f70717273"}  # three admins: each test signs in as one
ADDRESSES = [
    ("treasury", "Desk1SoLanaWithdrawa1Address11111111111111", True, "bob"),
    ("fresh", "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", False, None),
    ("spare", "So1DestAddress9xQeWvG816bUx9EPjHmaT23y", True, "bob"),
]


@pytest.fixture(scope="module")
def book(tmp_path_factory, _sandbox_still):
    server = DashboardServer(
        tmp_path_factory.mktemp("address-book"),
        api_url=_sandbox_still.api_url,
        ws_url=_sandbox_still.ws_url,
    )
    server.env["DASHBOARD_RELAY"] = "off"  # no live data needed here
    key = _sandbox_still.keys[1]
    try:
        server.start()
        output = server.manage(
            "shell",
            "-c",
            SETUP.format(
                keys=USERS,
                password=PASSWORD,
                api_key=key["api_key"],
                api_secret=key["api_secret"],
                addresses=ADDRESSES,
            ),
        )
        server.subaccount_id = int(output.strip().splitlines()[-1])
        yield server
    finally:
        server.stop()


def code(user: str, *, steps_ahead: int = 0) -> str:
    """The user's authenticator code, `steps_ahead` 30-second steps from now."""
    return authenticator_code(bytes.fromhex(USERS[user]), steps_ahead=steps_ahead)


def _settings_path(book) -> str:
    return f"/accounts/subaccounts/{book.subaccount_id}/withdrawals/"


def _sign_in(page, book, username: str) -> None:
    path = _settings_path(book)
    page.goto(f"{book.url}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", code(username))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def _posts(page) -> list[str]:
    """The paths of the POST requests the page makes from now on."""
    seen: list[str] = []

    def note(request) -> None:
        if request.method == "POST":
            seen.append(re.sub(r"^https?://[^/]+", "", request.url))

    page.on("request", note)
    return seen


def _row(page, label: str):
    return page.locator("#address-book tbody tr", has_text=label)


def test_enter_in_a_rows_code_field_changes_nothing(book, page):
    _sign_in(page, book, "alice")
    posts = _posts(page)

    # treasury's first button is Remove; fresh's is Mark exempt
    for label in ("treasury", "fresh"):
        field = _row(page, label).locator("input[name=otp_code]")
        field.fill(code("alice", steps_ahead=1))
        field.press("Enter")
    # Sentinel: a submission the row does make is seen, and nothing came before it.
    _row(page, "fresh").locator("input[name=otp_code]").fill(code("alice", steps_ahead=1))
    _row(page, "fresh").locator("button", has_text="Approve").click()
    page.locator(".messages", has_text="Address approved.").wait_for()

    fresh = _row(page, "fresh").first
    assert posts == [f"{_settings_path(book)}{_entry_id(fresh)}/approve/"]
    assert _row(page, "treasury").count() == 1
    assert fresh.locator("td").nth(3).inner_text() == "no"  # not marked exempt


def _entry_id(row) -> str:
    action = row.locator("button", has_text="Remove").get_attribute("formaction")
    return action.rstrip("/").split("/")[-2]


def test_remove_asks_and_removes_only_once_confirmed(book, page):
    _sign_in(page, book, "bob")
    posts = _posts(page)
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    spare = _row(page, "spare")
    spare.locator("input[name=otp_code]").fill(code("bob", steps_ahead=1))
    spare.locator("button", has_text="Remove").click()  # dismissed
    spare.locator("button", has_text="Remove").click()  # accepted
    page.locator(".messages", has_text="Address removed from the book.").wait_for()

    question = (
        "Remove spare (Solana, So1DestAddress9xQeWvG816bUx9EPjHmaT23y) from the address "
        "book? Withdrawals waiting to go to it are cancelled."
    )
    assert asked == [question, question]
    assert len(posts) == 1 and posts[0].endswith("/remove/")
    assert _row(page, "spare").count() == 0
    assert _row(page, "treasury").count() == 1


@pytest.fixture
def narrow(chromium):
    context = chromium.new_context(viewport={"width": 400, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_both_withdrawal_pages_fit_400_px(book, narrow):
    _sign_in(narrow, book, "carol")
    settings_overflow = _overflow(narrow)
    narrow.screenshot(
        path=str(services.output_dir() / "withdrawal-settings-400.png"), full_page=True
    )
    narrow.goto(f"{book.url}/trading/subaccounts/{book.subaccount_id}/withdrawals/")
    narrow.locator("#withdrawal-requests tr[data-status=pending]").wait_for()
    requests_overflow = _overflow(narrow)
    narrow.screenshot(path=str(services.output_dir() / "withdrawals-400.png"), full_page=True)

    assert (settings_overflow, requests_overflow) == (0, 0)


def _overflow(page) -> int:
    """How far the page is wider than the screen, in CSS pixels (0: nothing scrolls sideways)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )
