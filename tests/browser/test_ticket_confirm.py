"""The fat-finger confirmation in Chromium against the live sandbox: only a click on "Confirm
and send" confirms. Enter in a ticket field, pressed again after the desk asked, sends
nothing; the answer to a sent order leaves no "Needs confirmation" line behind."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_FLOOR, Decimal

import pytest

from tests.browser.test_ticket_sizing import NO_RISK_LIMITS, SPOT, best, cancel
from tests.browser.test_trading import COUNT_TICKET_REQUESTS, live_desk, sign_in, subaccount_id

pytestmark = pytest.mark.browser
__all__ = ["live_desk"]  # the module-scoped dashboard on the live sandbox

ANSWERED = "(n) => window.__ticketRequests.sent === n && window.__ticketRequests.ended === n"


def desk_a(sandbox) -> dict:
    return next(key for key in sandbox.keys if key["label"] == "Desk A")


def open_order_prices(sandbox, key: dict, symbol: str) -> list[Decimal]:
    """The prices of the key's open orders in `symbol`, read from the exchange itself."""
    from trading.backpack import Credentials, ExchangeSession

    async def read() -> list[Decimal]:
        async with ExchangeSession(api_url=sandbox.api_url) as session:
            client = session.client(
                Credentials(api_key=key["api_key"], api_secret=lambda: key["api_secret"])
            )
            return [order.price for order in await client.open_orders(symbol)]

    # Playwright's sync API runs a loop in this thread; the client gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, read()).result(timeout=30)


def fill_big_ticket(page, live_desk) -> tuple[str, Decimal, str]:
    """Desk A's ticket on SOL_USDC: a resting buy above a tenth of the subaccount's equity,
    which the exchange accepts once sent; waits for the "Needs confirmation" line."""
    live_desk.manage("shell", "-c", NO_RISK_LIMITS)  # the guard under test, not the gate
    sign_in(page, live_desk, "trader", f"/trading/market/{SPOT}/")
    page.select_option("#ticket-subaccount", label="Desk A")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    price = (best(page, SPOT, "bid") * Decimal("0.97")).quantize(Decimal("0.01"), ROUND_FLOOR)
    quantity = (Decimal("600000") / price).quantize(Decimal("1"), ROUND_FLOOR)
    page.fill("#ticket-price", format(price, "f"))
    page.fill("#ticket-quantity", format(quantity, "f"))
    page.locator("#ticket-feedback [data-confirm-reason]").wait_for()
    page.evaluate(COUNT_TICKET_REQUESTS)
    return pk, price, format(quantity, "f")


def test_enter_twice_sends_nothing_and_a_click_on_confirm_sends(
    live_desk, sandbox_live, page
) -> None:
    pk, price, quantity = fill_big_ticket(page, live_desk)

    page.press("#ticket-quantity", "Enter")
    page.locator("#ticket-result .confirm-order").wait_for()
    page.press("#ticket-quantity", "Enter")
    page.wait_for_function(ANSWERED, arg=2)

    result = page.locator("#ticket-result")
    assert "Please confirm this order." in result.inner_text()
    assert result.locator("[data-result]").count() == 0
    assert price not in open_order_prices(sandbox_live, desk_a(sandbox_live), SPOT)

    # The sentinel: the same ticket, confirmed with a click, reaches the exchange.
    page.click("#ticket-result .confirm-order")
    placed = page.locator("#ticket-result [data-result]")
    placed.wait_for()
    assert placed.inner_text().startswith(f"Order placed: Buy {quantity} {SPOT}"), (
        placed.inner_text()
    )
    assert price in open_order_prices(sandbox_live, desk_a(sandbox_live), SPOT)
    assert page.locator("#ticket-feedback [data-confirm-reason]").count() == 0
    cancel(page, pk, re.search(r"id (\d+)", placed.inner_text()).group(1))


def test_the_exchanges_refusal_clears_the_needs_confirmation_line(live_desk, page) -> None:
    fill_big_ticket(page, live_desk)
    page.fill("#ticket-quantity", "60000")  # far more than Desk A's USDC: the exchange refuses
    page.wait_for_function(
        "() => { const q = document.querySelector('#ticket-feedback [data-rounded-quantity]');"
        " return q && q.innerText.replace(/,/g, '') === '60000'; }"
    )
    page.locator("#ticket-feedback [data-confirm-reason]").wait_for()

    page.click(".ticket-submit")
    page.click("#ticket-result .confirm-order")
    refused = page.locator("#ticket-result [data-result=error]")
    refused.wait_for()
    assert refused.inner_text().startswith("Order not placed: Insufficient funds")

    assert page.locator("#ticket-feedback [data-confirm-reason]").count() == 0
    assert "Needs confirmation" not in page.locator("#ticket-feedback").inner_text()
