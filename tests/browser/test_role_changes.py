"""A member whose role changes sees it on the pages already open, without a reload: the admin
makes the trader a viewer on one subaccount on the members page, and the trader's open orders,
positions and market pages drop that subaccount's cancel, cancel-all and close buttons and
its place in the order ticket within seconds (the orders and the position stay shown), and
its ladder and TWAP pages say they need the trader role in place of their forms; made a
trader again, they get them back, forms included. A member added to a subaccount sees it
appear on the open orders, positions, balances, overview and market pages. Chromium against
a real daphne and the live sandbox."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests import services
from tests.browser.members import (
    ADMIN_AUTHENTICATOR,
    admin_on_members_page,
    members_page,
    set_role,
)
from tests.browser.test_trading import PERP, _place_on_exchange, live_desk, sign_in

pytestmark = pytest.mark.browser

__all__ = ["live_desk"]  # the module-scoped dashboard on the live sandbox with the demo team

WITHIN_MS = 5_000
LIVE_TIMEOUT_MS = 15_000

# The demo trader trades on the first two subaccounts; the viewer sees the third only.
SETUP = (
    ADMIN_AUTHENTICATOR
    + """
from django.contrib.auth import get_user_model
from accounts.models import Membership, Subaccount
first, second, third = Subaccount.objects.order_by("pk")[:3]
trader, viewer = (get_user_model().objects.get(username=n) for n in ("trader", "viewer"))
for subaccount in (first, second):
    Membership.objects.update_or_create(
        user=trader, subaccount=subaccount, defaults={"role": "trader"}
    )
Membership.objects.filter(user=viewer).exclude(subaccount=third).delete()
print(first.pk, second.pk, third.pk)
print(first.name)
"""
)

NONE_LEFT = "selector => document.querySelectorAll(selector).length === 0"
SOME = "selector => document.querySelectorAll(selector).length > 0"


def _setup(live_desk) -> tuple[str, str, str, str]:
    lines = live_desk.manage("shell", "-c", SETUP).strip().splitlines()
    first, second, third = lines[-2].split()
    return first, second, third, lines[-1]


def _buy_at_market(sandbox, index: int) -> None:
    """A small perp position on the subaccount of key `index`, bought straight on the exchange
    from the market maker."""
    from trading.backpack import Credentials, ExchangeSession

    async def buy() -> None:
        key = sandbox.keys[index]
        async with ExchangeSession(api_url=sandbox.api_url) as session:
            client = session.client(
                Credentials(api_key=key["api_key"], api_secret=lambda: key["api_secret"])
            )
            await client.place_order(PERP, "Bid", "Market", quantity=Decimal("0.1"))

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, buy()).result(timeout=30)


def _gone(page, selector: str, what: str) -> None:
    try:
        page.wait_for_function(NONE_LEFT, arg=selector, timeout=WITHIN_MS)
    except Exception:
        raise AssertionError(f"{what} still shown on {page.url}") from None


def _back(page, selector: str, what: str) -> None:
    try:
        page.wait_for_function(SOME, arg=selector, timeout=WITHIN_MS)
    except Exception:
        raise AssertionError(f"{what} not shown again on {page.url}") from None


def test_a_role_change_takes_the_trading_controls_off_and_back_on_open_pages(
    live_desk, sandbox_live, chromium
) -> None:
    first, second, _, name = _setup(live_desk)
    order = _place_on_exchange(sandbox_live, 0)
    kept_order = _place_on_exchange(sandbox_live, 1)
    _buy_at_market(sandbox_live, 0)
    trader = chromium.new_context(viewport={"width": 1280, "height": 900})
    admin_context = chromium.new_context(viewport={"width": 1280, "height": 860})
    for context in (trader, admin_context):
        context.set_default_timeout(10_000)
    errors: list[str] = []
    try:
        orders = trader.new_page()
        sign_in(orders, live_desk, "trader", "/trading/orders/")
        positions = trader.new_page()
        positions.goto(f"{live_desk.url}/trading/positions/")
        market = trader.new_page()
        market.goto(f"{live_desk.url}/trading/market/{PERP}/")
        ladder = trader.new_page()
        ladder.goto(f"{live_desk.url}/trading/subaccounts/{first}/ladder/{PERP}/")
        twap = trader.new_page()
        twap.goto(f"{live_desk.url}/trading/subaccounts/{first}/twap/{PERP}/")
        pages = {
            "orders": orders,
            "positions": positions,
            "market": market,
            "ladder": ladder,
            "twap": twap,
        }
        for page in pages.values():
            page.on(
                "console", lambda message: message.type == "error" and errors.append(message.text)
            )
        cancel = f"#open-orders-{first} .cancel-order"
        cancel_kept = f"#open-orders-{second} .cancel-order"
        close = f"#positions-{first} .close-position"
        ticket_option = f'#ticket-subaccount option[value="{first}"]'
        orders.locator(f'#open-orders-{first} tr[data-order-id="{order}"] .cancel-order').wait_for(
            timeout=LIVE_TIMEOUT_MS
        )
        orders.locator(f'#open-orders-{second} tr[data-order-id="{kept_order}"]').wait_for()
        positions.locator(f"{close}").first.wait_for(timeout=LIVE_TIMEOUT_MS)
        market.locator(cancel).first.wait_for(timeout=LIVE_TIMEOUT_MS)
        assert market.locator(ticket_option).count() == 1
        ladder.locator(cancel).first.wait_for()
        twap.locator("#twap-form").wait_for()
        for page in pages.values():
            page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

        admin = admin_context.new_page()
        admin_on_members_page(admin, live_desk, first)
        set_role(admin, "trader", "viewer")

        _gone(orders, cancel, "the cancel buttons")
        _gone(orders, f"#open-orders-{first} button", "cancel all")
        _gone(positions, close, "the close button")
        _gone(positions, f"#positions-{first} form", "the take-profit / stop-loss controls")
        _gone(market, cancel, "the cancel buttons")
        _gone(market, ticket_option, f"{name} in the order ticket")
        _gone(ladder, "#ladder-form", "the ladder form")
        _gone(ladder, cancel, "the cancel buttons")
        ladder.get_by_text(f"Ladders need the trader role on {name}.").wait_for(timeout=WITHIN_MS)
        _gone(twap, "#twap-form", "the TWAP form")
        twap.get_by_text(f"TWAPs need the trader role on {name}.").wait_for(timeout=WITHIN_MS)
        assert ladder.locator(f'#open-orders-{first} tr[data-order-id="{order}"]').count() == 1
        # What the viewer may see stays: the order, the position, the other subaccount.
        assert orders.locator(f'#open-orders-{first} tr[data-order-id="{order}"]').count() == 1
        assert orders.locator(cancel_kept).count() >= 1
        assert positions.locator(f"#positions-{first} .position-card").count() >= 1
        assert market.locator(f'#ticket-subaccount option[value="{second}"]').count() == 1
        for label, page in pages.items():
            page.screenshot(path=str(services.output_dir() / f"role-lowered-{label}.png"))

        # A viewer everywhere: the market page has no ticket left, and says why.
        members_page(admin, live_desk, second)
        set_role(admin, "trader", "viewer")
        _gone(market, "#ticket-form", "the order ticket")
        market.get_by_text("You have view access only").wait_for(timeout=WITHIN_MS)
        _gone(orders, cancel_kept, "the cancel buttons of the other subaccount")

        # A trader again: the controls come back, and the ticket works as on a fresh page.
        set_role(admin, "trader", "trader")
        members_page(admin, live_desk, first)
        set_role(admin, "trader", "trader")
        _back(orders, cancel, "the cancel buttons")
        _back(positions, close, "the close button")
        _back(market, cancel, "the cancel buttons")
        _back(market, ticket_option, f"{name} in the order ticket")
        _back(ladder, "#ladder-form", "the ladder form")
        _back(ladder, cancel, "the cancel buttons")
        _back(twap, "#twap-form", "the TWAP form")
        assert ladder.get_by_text("Ladders need the trader role").count() == 0
        assert twap.get_by_text("TWAPs need the trader role").count() == 0
        assert market.locator(f'#ticket-subaccount option[value="{second}"]').count() == 1
        market.check("input[name=order_type][value=Market]")
        market.locator("#ticket-price").wait_for(state="hidden")
        market.check("input[name=order_type][value=Limit]")
        market.locator("#ticket-price").wait_for(state="visible")
        for label, page in pages.items():
            assert page.evaluate("window.__loadedOnce") is True, label
        assert errors == []
    finally:
        trader.close()
        admin_context.close()


def test_a_member_added_to_a_subaccount_sees_it_on_open_pages(live_desk, chromium) -> None:
    first, _, third, name = _setup(live_desk)
    viewer = chromium.new_context(viewport={"width": 1280, "height": 900})
    admin_context = chromium.new_context(viewport={"width": 1280, "height": 860})
    for context in (viewer, admin_context):
        context.set_default_timeout(10_000)
    errors: list[str] = []
    try:
        orders = viewer.new_page()
        sign_in(orders, live_desk, "viewer", "/trading/orders/")
        pages = {"orders": orders}
        for label, path in (
            ("positions", "/trading/positions/"),
            ("balances", "/trading/balances/"),
            ("overview", "/"),
            ("market", f"/trading/market/{PERP}/"),
        ):
            pages[label] = viewer.new_page()
            pages[label].goto(f"{live_desk.url}{path}")
        for page in pages.values():
            page.on(
                "console", lambda message: message.type == "error" and errors.append(message.text)
            )
        shown = {
            "orders": "#open-orders-{pk} table",
            "positions": "#positions-{pk}",
            "balances": "#balances-{pk} table",
            "overview": '.overview-subaccount[data-subaccount="{pk}"]',
            "market": "#balances-{pk} table",
        }
        for label, page in pages.items():
            page.locator(shown[label].format(pk=third)).wait_for(timeout=LIVE_TIMEOUT_MS)
            assert page.locator(shown[label].format(pk=first)).count() == 0, label
            page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

        admin = admin_context.new_page()
        admin_on_members_page(admin, live_desk, first)
        set_role(admin, "viewer", "viewer")

        for label, page in pages.items():
            selector = shown[label].format(pk=first)
            try:
                page.locator(selector).wait_for(timeout=WITHIN_MS)
            except Exception:
                raise AssertionError(f"the {label} page does not show {name}") from None
        for label, page in pages.items():
            assert page.locator(shown[label].format(pk=third)).count() == 1, label
            assert page.evaluate("window.__loadedOnce") is True, label
            page.screenshot(path=str(services.output_dir() / f"access-added-{label}.png"))
        assert orders.locator(f"#open-orders-{first} .cancel-order").count() == 0
        pages["market"].locator(f"#open-orders-{first} table").wait_for()
        assert errors == []
    finally:
        viewer.close()
        admin_context.close()
