"""A member issues a script key in Chromium against a real daphne: the secret shows once and
the Back button does not bring it back; reloading the answer (the browser sends the form again)
issues no second key; Revoke asks first, and only an accepted question revokes."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

pytestmark = pytest.mark.browser

PASSWORD = "a long script password 1"

SETUP = """
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
from tests.factories import keypair_for
user = get_user_model().objects.create_user("tina", password={password!r})
public, secret = keypair_for()
desk = Subaccount.objects.create(name="Desk A", api_public_key=public,
                                 api_secret_sealed=crypto.seal(secret))
Membership.objects.create(user=user, subaccount=desk, role="trader")
"""

KEYS = """
import json
from trading.gateway.models import ScriptKey
print(json.dumps([[k.name, k.state] for k in ScriptKey.objects.order_by("pk")]))
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    server = DashboardServer(tmp_path_factory.mktemp("script-keys"))
    server.env["DASHBOARD_RELAY"] = "off"  # the page reads nothing from the exchange
    try:
        server.start()
        server.manage("shell", "-c", SETUP.format(password=PASSWORD))
        yield server
    finally:
        server.stop()


def _keys(desk) -> list[list[str]]:
    return json.loads(desk.manage("shell", "-c", KEYS).strip().splitlines()[-1])


def _sign_in_to_keys(page, desk) -> None:
    page.goto(f"{desk.url}/accounts/login/?next=/trading/keys/")
    page.fill("#id_username", "tina")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/trading/keys/$"))


def _settled_content(page) -> str:
    """The page's HTML once it is no longer navigating ("" meanwhile)."""
    try:
        return page.content()
    except PlaywrightError:
        return ""


def _issue(page, name: str) -> str:
    page.fill("#id_name", name)
    page.check("#script-key-form input[name=subaccounts]")
    page.click("#script-key-form button[type=submit]")
    return page.locator("[data-secret]").inner_text()


def test_back_does_not_bring_the_secret_back(desk, page):
    _sign_in_to_keys(page, desk)
    secret = _issue(page, "back bot")
    page.goto(f"{desk.url}/")

    try:
        page.go_back()
        went_back = "the page"
    except PlaywrightError as refused:  # Chromium would have to send the form again to show it
        went_back = str(refused).splitlines()[0]
    back = eventually(
        lambda: _settled_content(page), within_s=10, what="the page after Back"
    ).blocking()

    assert secret not in back
    assert "ERR_CACHE_MISS" in went_back


def test_sending_the_form_again_issues_nothing(desk, page):
    _sign_in_to_keys(page, desk)
    secret = _issue(page, "reload bot")

    page.reload()  # the browser sends the form again

    again = page.locator("main").inner_text()
    assert "This form already issued the key reload bot" in again
    assert secret not in again
    assert [k for k in _keys(desk) if k[0] == "reload bot"] == [["reload bot", "active"]]


def test_revoke_asks_first_and_only_an_accepted_question_revokes(desk, page):
    _sign_in_to_keys(page, desk)
    _issue(page, "revoke bot")
    row = page.locator("tr", has=page.locator("td", has_text="revoke bot"))
    asked, revokes = [], []
    page.on("request", lambda r: revokes.append(r.method) if "/revoke/" in r.url else None)

    row.screenshot(path=str(services.output_dir() / "script_key_row.png"))
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.locator("button", has_text="Revoke").click()
    kept = [k for k in _keys(desk) if k[0] == "revoke bot"]  # a second or more: time to land
    sent_when_dismissed = list(revokes)
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        row.locator("button", has_text="Revoke").click()

    assert (kept, sent_when_dismissed, revokes) == ([["revoke bot", "active"]], [], ["POST"])
    assert len(asked) == 2
    assert re.fullmatch(
        r"Revoke the key revoke bot \([0-9a-f]{16}\)\? Scripts signing with it are refused at "
        r"once\.",
        asked[0],
    )
    assert re.search(
        r"Key revoke bot \([0-9a-f]{16}\) revoked\.", page.locator("main").inner_text()
    )
    state = page.locator("tr", has=page.locator("td", has_text="revoke bot")).locator(
        "[data-state]"
    )
    assert re.fullmatch(r"revoked \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by tina", state.inner_text())
    assert [k for k in _keys(desk) if k[0] == "revoke bot"] == [["revoke bot", "revoked"]]
    page.screenshot(path=str(services.output_dir() / "script_keys.png"), full_page=True)
