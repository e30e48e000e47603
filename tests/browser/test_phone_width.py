"""The desk at phone width (390 px) in Chromium against the live sandbox: no page is wider than
the screen, the header is a menu, the market page shows the ticket right after the price
header, and the health page shows each subaccount as a card. Screenshots go to test-output."""

from __future__ import annotations

import pytest

from tests import services
from tests.browser.test_trading import PERP, live_desk, sign_in

pytestmark = pytest.mark.browser
__all__ = ["live_desk"]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def overflow(page) -> int:
    """How far the page is wider than the screen (0 or less: nothing is cut off)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_the_market_page_fits_and_shows_the_ticket_after_the_price_header(live_desk, phone):
    sign_in(phone, live_desk, "trader", f"/trading/market/{PERP}/")
    phone.locator(f"#book-{PERP} .book-row.bid").first.wait_for()
    phone.locator("#ticket-feedback .size-pct").first.wait_for()

    stats, ticket, chart = (
        box(phone, ".stats-card"),
        box(phone, ".ticket-card"),
        box(phone, ".chart-card"),
    )

    assert stats["y"] < ticket["y"] < chart["y"]
    assert overflow(phone) <= 0
    phone.screenshot(path=str(services.output_dir() / "phone-market.png"), full_page=True)


def test_the_header_is_a_menu_at_phone_width(live_desk, phone):
    sign_in(phone, live_desk, "trader", "/")
    nav = phone.locator("#mainnav")

    assert not nav.is_visible()
    phone.click("[data-menu-toggle]")
    nav.locator("a", has_text="Balances").wait_for()
    assert phone.get_attribute("[data-menu-toggle]", "aria-expanded") == "true"
    assert overflow(phone) <= 0


@pytest.mark.parametrize(
    ("path", "ready", "name"),
    [
        ("/trading/balances/", ".balances-sub:not(.is-loading)", "balances"),
        ("/trading/positions/", "main .card", "positions"),
        ("/trading/health/", "#health-subaccounts tr[data-subaccount]", "health"),
        ("/accounts/audit/", "#audit-events", "audit"),
        ("/", "#overview-pages", "overview"),
    ],
)
def test_no_page_is_cut_off_at_phone_width(live_desk, phone, path, ready, name):
    sign_in(phone, live_desk, "trader", path)
    phone.locator(ready).first.wait_for()
    phone.wait_for_load_state("networkidle")

    assert overflow(phone) <= 0
    phone.screenshot(path=str(services.output_dir() / f"phone-{name}.png"), full_page=True)


def test_the_health_page_shows_each_subaccount_as_a_card(live_desk, phone):
    sign_in(phone, live_desk, "trader", "/trading/health/")
    row = phone.locator("#health-subaccounts tr[data-subaccount]").first

    display = row.evaluate("(el) => getComputedStyle(el).display")
    head = phone.locator("#health-subaccounts thead")

    assert display == "block"
    assert not head.is_visible()
    assert row.bounding_box()["width"] <= PHONE["width"]
