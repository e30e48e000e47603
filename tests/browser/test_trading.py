"""The trading pages in Chromium against a live sandbox (with its market maker) through a real
daphne: a trader places and cancels a limit order, sends a market order that fills and sees
the fill, the position and the balances change without reloading; a viewer has no ticket;
the book moves by itself (the relay)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

pytestmark = pytest.mark.browser

PERP = "SOL_USDC_PERP"
LIVE_TIMEOUT_MS = 15_000
# Counts the ticket's htmx requests: sent, and ended (answered, failed or aborted).
COUNT_TICKET_REQUESTS = """() => {
  window.__ticketRequests = {sent: 0, ended: 0};
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (!event.detail.pathInfo.requestPath.endsWith("/ticket/")) return;
    window.__ticketRequests.sent += 1;
    event.detail.xhr.addEventListener("loadend", () => { window.__ticketRequests.ended += 1; });
  });
}"""


@pytest.fixture(scope="module")
def live_desk(sandbox_live, tmp_path_factory) -> Iterator[DashboardServer]:
    """A dashboard on the live sandbox with the demo team (trader on keys 0 and 1, viewer on 2)."""
    state = tmp_path_factory.mktemp("trading-browser")
    keys = state / "keys.json"
    keys.write_text(json.dumps(sandbox_live.keys))
    server = DashboardServer(state, api_url=sandbox_live.api_url, ws_url=sandbox_live.ws_url)
    try:
        server.start()
        server.manage("seed_demo", "--keys", str(keys))
        yield server
    finally:
        server.stop()


def sign_in(page, server: DashboardServer, username: str, next_path: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-demo-password")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + r"$"))


def subaccount_id(page) -> str:
    return page.locator("#ticket-subaccount").input_value()


def best_bid(page) -> Decimal:
    page.locator(f"#book-{PERP} .book-row.bid").first.wait_for()
    return Decimal(page.locator(f"#book-{PERP} [data-best-bid]").get_attribute("data-best-bid"))


def send_ticket(page) -> str:
    """Submit the ticket and return the result text once the exchange answered."""
    page.evaluate("document.getElementById('ticket-result').innerHTML = ''")  # forget the last
    page.click(".ticket-submit")
    result = page.locator("#ticket-result [data-result]")
    result.wait_for()
    return result.inner_text()


def test_trader_places_cancels_and_fills_without_reloading(live_desk, page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()  # the account regions have loaded
    page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

    # A limit order 5% under the best bid rests on the book and shows in open orders.
    price = (best_bid(page) * Decimal("0.95")).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    page.fill("#ticket-price", format(price, "f"))
    page.fill("#ticket-quantity", "0.1")
    page.locator("#ticket-feedback [data-notional]").wait_for()
    text = send_ticket(page)
    assert text.startswith("Order placed: Buy 0.1 SOL_USDC_PERP"), text
    order_id = re.search(r"id (\d+)", text).group(1)
    row = page.locator(f'#open-orders-{pk} tr[data-order-id="{order_id}"]')
    row.wait_for()

    # Cancel it from the open orders table.
    row.locator(".cancel-order").click()
    row.wait_for(state="detached")
    page.locator("#trading-message", has_text="Cancelled").wait_for()

    # A market order fills against the market maker: the fill appears in the account feed,
    # the position and the balances change, all without a reload.
    balances = page.locator(f"#balances-{pk}")
    balances_before = balances.inner_text()
    page.check("input[name=order_type][value=Market]")
    page.fill("#ticket-quantity", "0.1")
    page.locator("#ticket-feedback [data-notional]").wait_for()
    text = send_ticket(page)
    assert "(Market): Filled" in text, text
    page.locator(f"#positions-{pk} .position-card[data-symbol={PERP}]").wait_for()
    page.locator("#account-events .event-row[data-event=orderFill]").first.wait_for(
        timeout=LIVE_TIMEOUT_MS
    )
    page.wait_for_function(  # figures changed, not merely the "Read at" time
        "([id, before]) => { const el = document.getElementById(id);"
        " const figures = (t) => t.replace(/Read at .*$/m, '');"
        " return el && figures(el.innerText) !== figures(before); }",
        arg=[f"balances-{pk}", balances_before],
        timeout=LIVE_TIMEOUT_MS,
    )
    assert page.evaluate("window.__loadedOnce") is True
    page.screenshot(path=str(services.output_dir() / "market.png"), full_page=True)

    # Close the position again from its card (a reduce-only market order, after a confirm()).
    card = page.locator(f"#positions-{pk} .position-card[data-symbol={PERP}]")
    page.once("dialog", lambda dialog: dialog.accept())
    card.locator(".close-position").click()
    card.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    # The stream may take the card away before the close's own answer says what was sent.
    page.locator("#trading-message", has_text="Closing order sent: Sell ").wait_for()
    assert errors == []  # the page said nothing wrong on the console all along


def test_keyboard_shortcuts_pick_the_side_and_cancel_all(live_desk, page) -> None:
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    price = (best_bid(page) * Decimal("0.95")).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    page.fill("#ticket-price", format(price, "f"))
    page.fill("#ticket-quantity", "0.1")
    page.locator("#ticket-feedback [data-notional]").wait_for()
    assert send_ticket(page).startswith("Order placed")
    page.locator(f"#open-orders-{pk} tr[data-order-id]").first.wait_for()

    page.locator("body").click(position={"x": 5, "y": 5})  # focus out of the inputs
    page.keyboard.press("s")
    assert page.locator("input[name=side][value=Ask]").is_checked()
    page.keyboard.press("b")
    assert page.locator("input[name=side][value=Bid]").is_checked()

    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Shift+X")
    page.locator("#trading-message", has_text="Cancelled").wait_for()
    page.locator(f"#open-orders-{pk} .no-orders").wait_for()


def test_a_viewer_sees_the_market_but_no_ticket(live_desk, page) -> None:
    sign_in(page, live_desk, "viewer", "/trading/market/SOL_USDC/")

    page.locator("#book-SOL_USDC .book-row").first.wait_for()
    assert page.locator(".no-ticket").is_visible()
    assert page.locator("#ticket-form").count() == 0


def test_the_book_and_the_chart_update_by_themselves(live_desk, page) -> None:
    sign_in(page, live_desk, "viewer", "/trading/market/SOL_USDC/")
    book = page.locator("#book-SOL_USDC")
    book.locator(".book-row").first.wait_for()
    page.wait_for_function(  # the candles were read (a fresh exchange may have none yet)
        "() => document.getElementById('chart-SOL_USDC').dataset.bars !== undefined",
        timeout=LIVE_TIMEOUT_MS,
    )
    before = book.inner_html()

    page.wait_for_function(
        "(before) => document.getElementById('book-SOL_USDC').innerHTML !== before",
        arg=before,
        timeout=LIVE_TIMEOUT_MS,
    )
    page.click(".interval-switch button[data-interval='5m']")
    assert page.locator(".interval-switch button.active").inner_text() == "5m"
    page.wait_for_function(  # the 5m candles were read
        "() => !document.querySelector('.chart-status').textContent.startsWith('Loading')"
    )

    page.click("[data-theme-toggle]")
    assert page.locator("html").get_attribute("data-theme") == "dark"
    page.screenshot(path=str(services.output_dir() / "market-dark.png"), full_page=True)


def test_positions_page_is_usable_at_phone_width(live_desk, page) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_desk, "trader", "/trading/positions/")

    page.locator(".positions").first.wait_for()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.screenshot(path=str(services.output_dir() / "positions-phone.png"), full_page=True)


def test_a_double_click_sends_one_order(live_desk, page) -> None:
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    price = (best_bid(page) * Decimal("0.93")).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    page.fill("#ticket-price", format(price, "f"))
    page.fill("#ticket-quantity", "0.13")

    page.evaluate("document.getElementById('ticket-result').innerHTML = ''")
    page.evaluate(COUNT_TICKET_REQUESTS)
    page.dblclick(".ticket-submit")
    page.locator("#ticket-result [data-result=ok]").wait_for()

    # rows carry the price as the table shows it (the tick's decimals: "135.70")
    rows = page.locator(f'#open-orders-{pk} tr[data-order-id][data-price="{price:f}"]')
    rows.first.wait_for(timeout=LIVE_TIMEOUT_MS)  # the order arrives live, from its update
    # The sentinel: once every ticket request the page sent has its answer, a second order, had
    # there been one, is on the exchange; an order sent after that arriving on the page shows
    # that the second one would have arrived too.
    page.wait_for_function(
        "() => window.__ticketRequests.sent === window.__ticketRequests.ended",
        timeout=LIVE_TIMEOUT_MS,
    )
    sentinel_price = price + Decimal("0.50")
    page.fill("#ticket-price", format(sentinel_price, "f"))
    page.fill("#ticket-quantity", "0.13")
    assert send_ticket(page).startswith("Order placed")
    sentinel = page.locator(f'#open-orders-{pk} tr[data-order-id][data-price="{sentinel_price:f}"]')
    sentinel.first.wait_for(timeout=LIVE_TIMEOUT_MS)
    assert rows.count() == 1
    for placed in (rows, sentinel):
        placed.first.locator(".cancel-order").click()
        placed.first.wait_for(state="detached")


def test_a_big_order_needs_a_second_confirmation(live_desk, page) -> None:
    live_desk.manage(
        "shell", "-c",
        "from accounts.models import Subaccount; "
        "Subaccount.objects.update(order_confirm_notional=10)",
    )  # fmt: skip
    try:
        sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
        pk = subaccount_id(page)
        page.locator(f"#open-orders-{pk} table").wait_for()
        price = (best_bid(page) * Decimal("0.95")).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
        page.fill("#ticket-price", format(price, "f"))
        page.fill("#ticket-quantity", "1")
        page.locator("#ticket-feedback [data-confirm-reason]").wait_for()

        page.click(".ticket-submit")
        confirm = page.locator("#ticket-result .confirm-order")
        confirm.wait_for()
        assert "confirmation limit of 10 USDC" in page.locator("#ticket-result").inner_text()
        confirm.click()
        result = page.locator("#ticket-result [data-result=ok]")
        result.wait_for()
        order_id = re.search(r"id (\d+)", result.inner_text()).group(1)
        row = page.locator(f'#open-orders-{pk} tr[data-order-id="{order_id}"]')
        row.wait_for()
        row.locator(".cancel-order").click()
        row.wait_for(state="detached")
    finally:
        live_desk.manage(
            "shell", "-c",
            "from accounts.models import Subaccount; "
            "Subaccount.objects.update(order_confirm_notional=None)",
        )  # fmt: skip


def _place_on_exchange(sandbox, index: int) -> str:
    """Place a resting perp bid 5% under the best bid straight on the exchange (as another
    tool would)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from trading.backpack import Credentials, ExchangeSession

    async def place() -> str:
        key = sandbox.keys[index]
        async with ExchangeSession(api_url=sandbox.api_url) as session:
            client = session.client(
                Credentials(api_key=key["api_key"], api_secret=lambda: key["api_secret"])
            )
            depth = await client.depth(PERP, limit=5)
            bid = max(p for p, _ in depth.bids) * Decimal("0.95")
            price = bid.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
            order = await client.place_order(
                PERP, "Bid", "Limit", price=price, quantity=Decimal("0.2")
            )
            return order.id

    # Playwright's sync API runs a loop in this thread; the client gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, place()).result(timeout=30)


def test_open_orders_page_shows_an_order_placed_elsewhere_live(live_desk, sandbox_live, page):
    sign_in(page, live_desk, "trader", "/trading/orders/")
    page.locator(".open-orders").first.wait_for()
    page.evaluate("window.__loadedOnce = true")
    placed: list[str] = []

    def shown_live() -> bool:  # an order placed before the socket subscribed: place again
        placed.append(_place_on_exchange(sandbox_live, 0))
        try:
            page.locator(f'tr[data-order-id="{placed[-1]}"]').wait_for(timeout=3000)
        except PlaywrightTimeoutError:
            return False
        return True

    within_s = LIVE_TIMEOUT_MS / 1000
    eventually(shown_live, within_s, "an order placed elsewhere shown", every_s=0).blocking()

    for order_id in placed:  # the open orders region shows every open order, earlier ones too
        row = page.locator(f'tr[data-order-id="{order_id}"]')
        row.wait_for(timeout=LIVE_TIMEOUT_MS)
        row.locator(".cancel-order").click()
        row.wait_for(state="detached")
    assert page.evaluate("window.__loadedOnce") is True
    page.screenshot(path=str(services.output_dir() / "orders.png"), full_page=True)


def test_pushes_for_regions_a_page_does_not_show_are_dropped_quietly(live_desk, sandbox_live, page):
    # The account socket carries every region of the trader's subaccounts; the positions page
    # shows some. An order placed elsewhere pushes the open orders, which this page lacks:
    # htmx logged an error for each such piece (htmx:oobErrorNoTarget).
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in(page, live_desk, "trader", "/trading/positions/")
    page.locator(".positions").first.wait_for()
    page.evaluate(
        "window.__pushes = 0; document.body.addEventListener("
        "'htmx:wsAfterMessage', () => { window.__pushes += 1; })"
    )
    assert page.locator(".open-orders").count() == 0  # the region pushed is not on this page

    def pushed() -> bool:  # placed before the socket subscribed: place again
        _place_on_exchange(sandbox_live, 0)
        try:
            page.wait_for_function("window.__pushes > 0", timeout=3000)
        except PlaywrightTimeoutError:
            return False
        return True

    eventually(
        pushed, LIVE_TIMEOUT_MS / 1000, "a push after an order elsewhere", every_s=0
    ).blocking()
    page.wait_for_timeout(500)  # the rest of the order's pushes

    assert errors == []
