"""A script's order is visible live to the team like any other (issue 17): unmodified ccxt
(sync, only its URLs pointed at the desk's /bpx/) places an order with a desk key while a
teammate, a member of the subaccount, has its open orders open in Chromium; the order
appears there without a reload, attributed to the key's member."""

from __future__ import annotations

import re

import ccxt
import pytest

from tests.trading.gateway.conftest import Desk

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 15_000
PASSWORD = "a long teammate password 1"

TEAMMATE = """
import json
from django.contrib.auth import get_user_model
from accounts.models import Membership
user, made = get_user_model().objects.get_or_create(username="teammate")
if made:
    user.set_password({password!r})
    user.save()
Membership.objects.get_or_create(
    user=user, subaccount_id={subaccount}, defaults={{"role": "viewer"}}
)
print(json.dumps(user.pk))
"""


def _teammate(desk: Desk) -> None:
    desk.shell(TEAMMATE.format(password=PASSWORD, subaccount=desk.subaccount_id))


def _sign_in(page, desk: Desk, next_path: str) -> None:
    page.goto(f"{desk.server.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", "teammate")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + r"$"))


def _script(desk: Desk) -> ccxt.backpack:
    pair = desk.keys["trade"]
    script = ccxt.backpack({"apiKey": pair["api_key"], "secret": pair["secret"]})
    script.urls["api"] = {"public": desk.bpx_url, "private": desk.bpx_url}
    return script


def test_a_script_order_shows_live_to_a_teammate_attributed_to_its_member(desk: Desk, page) -> None:
    _teammate(desk)
    _sign_in(page, desk, "/trading/orders/")
    region = f"#open-orders-{desk.subaccount_id}"
    page.locator(f"{region} table").wait_for()  # the region has loaded, with no script order
    assert page.locator(f"{region} tr[data-order-id]").count() == 0
    page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

    placed = _script(desk).create_order("ETH/USDC", "limit", "buy", 0.5, 3400)

    row = page.locator(f'{region} tr[data-order-id="{placed["id"]}"]')
    row.wait_for(timeout=LIVE_TIMEOUT_MS)
    assert row.locator("[data-by]").inner_text() == "scripter"
    assert row.get_attribute("data-price") == "3400.00"
    assert page.evaluate("window.__loadedOnce") is True  # no reload brought it
