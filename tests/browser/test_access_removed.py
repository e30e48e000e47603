"""A viewer removed from a subaccount stops seeing it on the live pages already open, without
a reload: an admin removes them from Desk A on the members page, and the viewer's open orders,
balances and market pages drop Desk A's regions for a short note within seconds; Desk C, which
they keep, stays. A trader removed from it loses it the same way on the positions page and
on its ladder page, ladder form included. Chromium against a real daphne and the live
sandbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests import services
from tests.browser.members import ADMIN_AUTHENTICATOR, admin_on_members_page, remove_member
from tests.browser.test_trading import PERP, _place_on_exchange, live_desk, sign_in
from tests.waiting import eventually

pytestmark = pytest.mark.browser

__all__ = ["live_desk"]  # the module-scoped dashboard on the live sandbox with the demo team

GONE_WITHIN_MS = 5_000
LIVE_TIMEOUT_MS = 15_000

# The demo viewer is on the third subaccount; it joins the first (where the trader trades) too.
SETUP = (
    ADMIN_AUTHENTICATOR
    + """
from django.contrib.auth import get_user_model
from accounts.models import Membership, Subaccount
first, second, kept = Subaccount.objects.order_by("pk")[:3]
viewer = get_user_model().objects.get(username="viewer")
Membership.objects.update_or_create(user=viewer, subaccount=first, defaults={"role": "viewer"})
trader = get_user_model().objects.get(username="trader")
for subaccount in (first, second):
    Membership.objects.update_or_create(
        user=trader, subaccount=subaccount, defaults={"role": "trader"}
    )
print(first.pk, kept.pk, second.pk)
print(first.name)
"""
)


def _admin_removes(page, live_desk, subaccount_pk: str, username: str) -> None:
    admin_on_members_page(page, live_desk, subaccount_pk)
    remove_member(page, username)


def test_a_removed_viewer_stops_seeing_the_subaccount_on_open_pages(
    live_desk, sandbox_live, chromium
) -> None:
    lines = live_desk.manage("shell", "-c", SETUP).strip().splitlines()
    lost, kept, _ = lines[-2].split()
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

        _admin_removes(admin.new_page(), live_desk, lost, "viewer")

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


def test_a_removed_trader_stops_seeing_it_on_the_positions_and_ladder_pages(
    live_desk, chromium
) -> None:
    lines = live_desk.manage("shell", "-c", SETUP).strip().splitlines()
    lost, _, kept = lines[-2].split()
    name = lines[-1]
    trader = chromium.new_context(viewport={"width": 1280, "height": 860})
    admin = chromium.new_context(viewport={"width": 1280, "height": 860})
    for context in (trader, admin):
        context.set_default_timeout(10_000)
    errors: list[str] = []
    try:
        positions = trader.new_page()
        sign_in(positions, live_desk, "trader", "/trading/positions/")
        ladder = trader.new_page()
        ladder.goto(f"{live_desk.url}/trading/subaccounts/{lost}/ladder/{PERP}/")
        pages = {"positions": positions, "ladder": ladder}
        for page in pages.values():
            page.on(
                "console", lambda message: message.type == "error" and errors.append(message.text)
            )
        positions.locator(f"#positions-{lost}").wait_for(timeout=LIVE_TIMEOUT_MS)
        positions.locator(f"#positions-{kept}").wait_for(timeout=LIVE_TIMEOUT_MS)
        ladder.locator(f"#open-orders-{lost} table").wait_for(timeout=LIVE_TIMEOUT_MS)
        assert ladder.get_by_role("button", name="Send ladder").count() == 1
        for page in pages.values():
            page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

        _admin_removes(admin.new_page(), live_desk, lost, "trader")

        note = f"You no longer have access to {name}."
        for label, region in (("positions", "positions"), ("ladder", "open-orders")):
            page = pages[label]
            try:
                page.locator(f"#{region}-{lost}").wait_for(state="detached", timeout=GONE_WITHIN_MS)
            except PlaywrightTimeoutError:
                shown = page.locator(f"#{region}-{lost}").inner_text()
                raise AssertionError(f"the {label} page still shows {region}: {shown!r}") from None
            assert page.get_by_text(note).count() == 1, label
            assert page.evaluate("window.__loadedOnce") is True, label
            page.screenshot(path=str(services.output_dir() / f"access-removed-{label}.png"))
        # Nothing on the ladder page sends orders to it any more.
        ladder.get_by_role("button", name="Send ladder").wait_for(
            state="detached", timeout=GONE_WITHIN_MS
        )
        assert ladder.get_by_role("button", name="Preview").count() == 0
        positions.locator(f"#positions-{kept}").wait_for()  # the one kept stays
        assert errors == []
    finally:
        trader.close()
        admin.close()
