"""The ticket's sizing and default guard in Chromium against the live sandbox: the 25/50/75/100 %
buttons fill quantities the exchange accepts, an order over the default share of equity asks
for confirmation, and the quantity is cleared once the order is placed."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

import pytest

from tests.browser.test_trading import LIVE_TIMEOUT_MS, PERP, live_desk, sign_in, subaccount_id

pytestmark = pytest.mark.browser
__all__ = ["live_desk"]
NO_RISK_LIMITS = (
    "from accounts.models import Subaccount; from trading.models import RiskLimit; "
    "[RiskLimit.objects.get_or_create(subaccount=s, member=None) "
    "for s in Subaccount.objects.all()]"
)  # the module-scoped dashboard on the live sandbox

SPOT = "SOL_USDC"


def best(page, symbol: str, side: str) -> Decimal:
    page.locator(f"#book-{symbol} .book-row.{side}").first.wait_for()
    attribute = "data-best-bid" if side == "bid" else "data-best-ask"
    return Decimal(page.locator(f"#book-{symbol} [{attribute}]").get_attribute(attribute))


def place_confirmed(page) -> str:
    """Send the ticket, confirm when asked, and return the id of the placed order."""
    page.evaluate("document.getElementById('ticket-result').innerHTML = ''")
    page.click(".ticket-submit")
    page.locator("#ticket-result .confirm-order, #ticket-result [data-result]").first.wait_for()
    if page.locator("#ticket-result .confirm-order").count():
        page.click("#ticket-result .confirm-order")
    result = page.locator("#ticket-result [data-result]")
    result.wait_for()
    text = result.inner_text()
    assert text.startswith("Order placed:"), text
    return re.search(r"id (\d+)", text).group(1)


def cancel(page, pk: str, order_id: str) -> None:
    row = page.locator(f'#open-orders-{pk} tr[data-order-id="{order_id}"]')
    row.wait_for(timeout=LIVE_TIMEOUT_MS)
    row.locator(".cancel-order").click()
    row.wait_for(state="detached")


def test_the_default_guard_asks_on_an_order_over_a_tenth_of_equity(live_desk, page) -> None:
    # The fat-finger guard is under test, not the risk gate's default limits (a quarter of
    # equity per order, positions included; tests/trading/risk covers them): "no limit" set.
    live_desk.manage("shell", "-c", NO_RISK_LIMITS)
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    price = (best(page, PERP, "bid") * Decimal("0.97")).quantize(Decimal("0.01"), ROUND_FLOOR)
    page.fill("#ticket-price", format(price, "f"))
    button = page.locator("#ticket-feedback .size-pct[data-pct='25']")
    page.wait_for_function(  # the buttons are sized at the price typed
        "(p) => { const b = document.querySelector(\"#ticket-feedback .size-pct[data-pct='25']\");"
        " return b && document.querySelector('#ticket-price').value === p; }",
        arg=format(price, "f"),
    )
    page.locator("#ticket-feedback [data-rounded-price]").wait_for()
    expected = button.get_attribute("data-value")

    button.click()

    assert page.input_value("#ticket-quantity") == expected
    page.locator("#ticket-feedback [data-confirm-reason]").wait_for()
    page.evaluate("document.getElementById('ticket-result').innerHTML = ''")
    page.click(".ticket-submit")
    confirm = page.locator("#ticket-result .confirm-order")
    confirm.wait_for()
    assert "of this subaccount's equity" in page.locator("#ticket-result").inner_text()
    assert "above 10%" in page.locator("#ticket-result").inner_text()
    confirm.click()
    result = page.locator("#ticket-result [data-result=ok]")
    result.wait_for()
    assert result.inner_text().startswith(f"Order placed: Buy {expected} {PERP}")
    assert page.input_value("#ticket-quantity") == ""  # cleared for the next order
    cancel(page, pk, re.search(r"id (\d+)", result.inner_text()).group(1))


@pytest.mark.parametrize(("side", "pct"), [("Ask", "100"), ("Bid", "50")])
def test_the_share_buttons_fill_quantities_the_exchange_accepts_on_spot(
    live_desk, page, side, pct
) -> None:
    sign_in(page, live_desk, "trader", f"/trading/market/{SPOT}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    if side == "Ask":
        page.check("input[name=side][value=Ask]")
        price = (best(page, SPOT, "ask") * Decimal("1.02")).quantize(Decimal("0.01"))
    else:
        price = (best(page, SPOT, "bid") * Decimal("0.98")).quantize(Decimal("0.01"))
    page.fill("#ticket-price", format(price, "f"))
    page.locator("#ticket-feedback [data-rounded-price]").wait_for()
    button = page.locator(f"#ticket-feedback .size-pct[data-pct='{pct}']")
    expected = button.get_attribute("data-value")

    button.click()

    assert page.input_value("#ticket-quantity") == expected
    order_id = place_confirmed(page)
    assert page.input_value("#ticket-quantity") == ""
    cancel(page, pk, order_id)
