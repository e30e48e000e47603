"""The market page marks the user's own orders and fills (issue #16, part 5): a resting order
is a price line on the chart and a marked level in the book, a fill is a marker on the chart,
and the book groups its levels by 10 and 100 ticks with exact sizes."""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest

from tests.browser.test_trading import (  # noqa: F401 - live_desk is a fixture
    LIVE_TIMEOUT_MS,
    PERP,
    best_bid,
    live_desk,
    send_ticket,
    sign_in,
    subaccount_id,
)

pytestmark = pytest.mark.browser

TICK = Decimal("0.01")

# Read the single levels the last push brought and the grouped levels shown, in one turn of
# the page's event loop (the book is replaced ten times a second).
BOOK_NOW = """(symbol) => {
  const book = document.getElementById(`book-${symbol}`);
  const rows = (root, side) => Array.from(root.querySelectorAll(`.book-row.${side}`), (row) => [
    row.dataset.price,
    row.querySelectorAll('span')[1].textContent.trim(),
    row.classList.contains('own'),
  ]);
  const single = document.createElement('div');
  single.innerHTML = book.querySelector('.book-bids').dataset.single || '';
  const singleAsks = document.createElement('div');
  singleAsks.innerHTML = book.querySelector('.book-asks').dataset.single || '';
  return {
    grouping: book.dataset.grouping,
    bids: rows(book.querySelector('.book-bids'), 'bid'),
    asks: rows(book.querySelector('.book-asks'), 'ask'),
    singleBids: rows(single, 'bid'),
    singleAsks: rows(singleAsks, 'ask'),
  };
}"""


def grouped(levels: list[list], size: Decimal, *, asks: bool) -> list[tuple[Decimal, Decimal]]:
    """What the book must show grouped by `size`: exact sums, the farthest group left out when
    the side shows its 20 levels (it may miss levels beyond them)."""
    buckets: dict[Decimal, Decimal] = {}
    rounding = ROUND_CEILING if asks else ROUND_FLOOR
    for price, quantity, _own in levels:
        bucket = (Decimal(price) / size).to_integral_value(rounding=rounding) * size
        buckets[bucket] = buckets.get(bucket, Decimal(0)) + Decimal(quantity)
    ordered = sorted(buckets.items(), reverse=True)  # highest first, as the book lists both
    if len(levels) >= 20 and len(ordered) > 1:
        ordered = ordered[1:] if asks else ordered[:-1]
    return ordered


def test_own_order_is_a_price_line_and_a_marked_level_and_the_book_groups(
    live_desk,  # noqa: F811
    page,
) -> None:
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    chart = page.locator(f"#chart-{PERP}")
    chart.and_(page.locator("[data-bars]")).wait_for()

    # A bid joining the book's tenth bid level rests inside the 20 levels the book shows, far
    # enough from the touch that the maker's walk does not fill it while the test looks at it.
    best_bid(page)  # the book has arrived
    price = Decimal(page.locator(f"#book-{PERP} .book-row.bid").nth(9).get_attribute("data-price"))
    text_price = format(price.quantize(TICK), "f")
    page.fill("#ticket-price", text_price)
    page.fill("#ticket-quantity", "0.1")
    page.locator("#ticket-feedback [data-notional]").wait_for()
    text = send_ticket(page)
    assert text.startswith("Order placed: Buy 0.1 SOL_USDC_PERP"), text
    page.locator(f'#open-orders-{pk} tr[data-price="{text_price}"]').wait_for()

    page.wait_for_function(
        "([id, price]) => (document.getElementById(id).dataset.orderLinePrices || '')"
        ".split(' ').includes(price)",
        arg=[f"chart-{PERP}", text_price],
        timeout=LIVE_TIMEOUT_MS,
    )
    own = page.locator(f'#book-{PERP} .book-row.bid.own[data-price="{text_price}"]')
    own.wait_for(timeout=LIVE_TIMEOUT_MS)
    assert "0.1" in (own.get_attribute("title") or "")

    # Grouped by 10 ticks: our order's group marked (at once: the maker's walk may fill the
    # order within seconds), every level a multiple of 0.10, sizes the exact sums of the single
    # levels.
    page.click(".book-grouping button[data-group='10']")
    group_price = format((price / (TICK * 10)).to_integral_value(ROUND_FLOOR) * TICK * 10, "f")
    page.locator(f'#book-{PERP} .book-row.bid.own[data-price="{group_price}"]').wait_for()
    shown = ""
    for _ in range(3):  # three different pushes of the book, each checked whole
        page.wait_for_function(
            f"([symbol, shown]) => JSON.stringify(({BOOK_NOW})(symbol)) !== shown",
            arg=[PERP, shown],
            timeout=LIVE_TIMEOUT_MS,
        )
        shown = page.evaluate(f"(symbol) => JSON.stringify(({BOOK_NOW})(symbol))", PERP)
        now = json.loads(shown)
        assert now["grouping"] == "10"
        size = TICK * 10
        shown_bids = [(Decimal(p), Decimal(q)) for p, q, _ in now["bids"]]
        shown_asks = [(Decimal(p), Decimal(q)) for p, q, _ in now["asks"]]
        assert shown_bids == grouped(now["singleBids"], size, asks=False)
        assert shown_asks == grouped(now["singleAsks"], size, asks=True)
        assert len(shown_bids) < len(now["singleBids"])

    # Back to single levels.
    page.click(".book-grouping button[data-group='1']")
    page.wait_for_function(
        "(symbol) => { const b = document.getElementById(`book-${symbol}`);"
        " return b.dataset.grouping === '1' && !b.querySelector('.book-row.grouped'); }",
        arg=PERP,
    )

    # Gone from the open orders (cancelled here, unless the maker's walk filled it), the line
    # and the mark go.
    row = f'#open-orders-{pk} tr[data-price="{text_price}"]'
    page.evaluate("(row) => document.querySelector(row + ' .cancel-order')?.click()", row)
    page.locator(row).wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    page.wait_for_function(
        "([id, price]) => !(document.getElementById(id).dataset.orderLinePrices || '')"
        ".split(' ').includes(price)",
        arg=[f"chart-{PERP}", text_price],
        timeout=LIVE_TIMEOUT_MS,
    )
    own.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)


def test_a_fill_is_a_marker_on_the_chart(live_desk, page) -> None:  # noqa: F811
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    page.locator(f"#chart-{PERP}[data-bars]").wait_for()
    before = int(page.locator(f"#chart-{PERP}").get_attribute("data-fill-markers") or 0)

    page.check("input[name=order_type][value=Market]")
    page.fill("#ticket-quantity", "0.1")
    page.locator("#ticket-feedback [data-notional]").wait_for()
    text = send_ticket(page)
    assert "(Market): Filled" in text, text

    page.wait_for_function(
        "([id, before]) => Number(document.getElementById(id).dataset.fillMarkers || 0) > before",
        arg=[f"chart-{PERP}", before],
        timeout=LIVE_TIMEOUT_MS,
    )

    # Close the position again (a reduce-only market order).
    card = page.locator(f"#positions-{pk} .position-card[data-symbol={PERP}]")
    card.wait_for(timeout=LIVE_TIMEOUT_MS)
    page.once("dialog", lambda dialog: dialog.accept())
    card.locator(".close-position").click()
    card.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
