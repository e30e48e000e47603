"""A viewer removed from a subaccount stops seeing it on the live pages already open, without
a reload: an admin removes them from Desk A on the members page, and the viewer's open orders,
balances and market pages drop Desk A's regions for a short note within seconds; Desk C, which
they keep, stays. Chromium against a real daphne and the live sandbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests import services
from tests.authenticator import authenticator_code
from tests.browser.test_trading import PERP, _place_on_exchange, live_desk, sign_in
from tests.waiting import eventually

pytestmark = pytest.mark.browser

__all__ = ["live_desk"]  # the module-scoped dashboard on the live sandbox with the demo team

ADMIN_KEY = "3132333435363738393031323334353637383930"
GONE_WITHIN_MS = 5_000
LIVE_TIMEOUT_MS = 15_000

# The demo viewer is on the third subaccount; it joins the first (where the trader trades) too.
SETUP = f"""
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import Membership, Subaccount
first, _, kept = Subaccount.objects.order_by("pk")[:3]
viewer = get_user_model().objects.get(username="viewer")
Membership.objects.update_or_create(user=viewer, subaccount=first, defaults={{"role": "viewer"}})
TOTPDevice.objects.filter(user__username="admin").update(key={ADMIN_KEY!r})
print(first.pk, kept.pk)
print(first.name)
"""


def _admin_removes_viewer(page, live_desk, subaccount_pk: str) -> None:
    path = f"/accounts/subaccounts/{subaccount_pk}/members/"
    page.goto(f"{live_desk.url}/accounts/login/?next={path}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-demo-password")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", authenticator_code(bytes.fromhex(ADMIN_KEY)))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('tr[data-member="viewer"] button').click()
    page.locator("#members .messages").wait_for()
    assert "Member removed." in page.locator("#members .messages").inner_text()
    assert page.locator('tr[data-member="viewer"]').count() == 0


def test_a_removed_viewer_stops_seeing_the_subaccount_on_open_pages(
    live_desk, sandbox_live, chromium
) -> None:
    lines = live_desk.manage("shell", "-c", SETUP).strip().splitlines()
    lost, kept = lines[-2].split()
    name = lines[-1]
    viewer = chromium.new_context(viewport={"width": 1280, "height": 860})
    admin = chromium.new_context(viewport={"width": 1280, "height": 860})
    for context in (viewer, admin):
        context.set_default_timeout(10_000)
    errors: list[str] = []
    try:
        orders = viewer.new_page()
        sign_in(orders, live_desk, "viewer", "/trading/orders/")
        balances = viewer.new_page()
        balances.goto(f"{live_desk.url}/trading/balances/")
        market = viewer.new_page()
        market.goto(f"{live_desk.url}/trading/market/{PERP}/")
        pages = {"orders": orders, "balances": balances, "market": market}
        for page in pages.values():
            page.on(
                "console", lambda message: message.type == "error" and errors.append(message.text)
            )
        for page, region in (
            (orders, "open-orders"),
            (balances, "balances"),
            (market, "open-orders"),
        ):
            page.locator(f"#{region}-{lost} table").wait_for(timeout=LIVE_TIMEOUT_MS)
            page.locator(f"#{region}-{kept} table").wait_for(timeout=LIVE_TIMEOUT_MS)
            page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

        # Sentinel: an order on the subaccount reaches the viewer's open pages, live.
        placed: list[str] = []

        def shown_live() -> bool:  # placed before the socket subscribed: place again
            placed.append(_place_on_exchange(sandbox_live, 0))
            try:
                orders.locator(f'tr[data-order-id="{placed[-1]}"]').wait_for(timeout=3000)
            except PlaywrightTimeoutError:
                return False
            return True

        eventually(shown_live, LIVE_TIMEOUT_MS / 1000, "the order shown live", every_s=0).blocking()
        market.locator(f'#open-orders-{lost} tr[data-order-id="{placed[-1]}"]').wait_for()

        _admin_removes_viewer(admin.new_page(), live_desk, lost)

        note = f"You no longer have access to {name}."
        for label, page in pages.items():
            region = "balances" if label == "balances" else "open-orders"
            try:
                page.locator(f"#{region}-{lost}").wait_for(state="detached", timeout=GONE_WITHIN_MS)
            except PlaywrightTimeoutError:
                shown = page.locator(f"#{region}-{lost}").inner_text()
                raise AssertionError(f"the {label} page still shows {region}: {shown!r}") from None
            assert page.get_by_text(note).count() == 1, label
            for region in ("open-orders", "positions", "balances"):
                assert page.locator(f"#{region}-{lost}").count() == 0, (label, region)
            assert page.locator(f'[data-subaccount="{lost}"]').count() == 0, label
            assert placed[-1] not in page.content(), label
            assert page.evaluate("window.__loadedOnce") is True, label
        # The subaccount the viewer keeps is still shown, with its figures.
        orders.locator(f"#open-orders-{kept} table").wait_for()
        balances.locator(f"#balances-{kept} table").wait_for()
        market.locator(f"#open-orders-{kept} table").wait_for()
        market.locator(f"#balances-{kept} table").wait_for()
        assert market.locator(f'.account-block[data-subaccount="{kept}"]').count() == 1
        for label, page in pages.items():
            page.screenshot(path=str(services.output_dir() / f"access-removed-{label}.png"))

        # Nothing of the lost subaccount comes back when it trades again.
        again = _place_on_exchange(sandbox_live, 0)
        orders.wait_for_timeout(2000)
        for label, page in pages.items():
            assert again not in page.content(), label
            assert page.locator(f"#open-orders-{lost}").count() == 0, label
        assert errors == []
    finally:
        viewer.close()
        admin.close()
