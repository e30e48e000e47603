"""Take-profit / stop-loss from the positions table (issue #16): a trader opens a position,
sets a stop-loss on it from its card, moves it, and the exit fires when the sandbox's mark
crosses it: the position closes and its card goes away, without a reload."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import pytest

from tests import services
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


def below(price: Decimal, share: str) -> Decimal:
    return (price * Decimal(share)).quantize(TICK, rounding=ROUND_FLOOR)


def test_a_stop_loss_set_on_the_card_fires_when_the_mark_crosses_it(
    live_desk,  # noqa: F811
    sandbox_live,
    page,
) -> None:
    sign_in(page, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(page)
    page.locator(f"#open-orders-{pk} table").wait_for()
    page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

    # A market buy opens a long.
    page.check("input[name=order_type][value=Market]")
    page.fill("#ticket-quantity", "0.1")
    page.locator("#ticket-feedback [data-notional]").wait_for()
    assert "(Market): Filled" in send_ticket(page)
    card = page.locator(f"#positions-{pk} .position-card[data-symbol={PERP}]")
    card.wait_for(timeout=LIVE_TIMEOUT_MS)

    # A stop-loss 15% under the market, on the whole position, set from the card.
    bid = best_bid(page)
    first, moved_to = below(bid, "0.85"), below(bid, "0.88")
    card.locator(".exit-set input[name=trigger_price]").fill(format(first, "f"))
    card.locator(".exit-set button").click()
    stop = card.locator(".exit-row[data-kind=stop_loss]")
    stop.wait_for(timeout=LIVE_TIMEOUT_MS)
    assert stop.locator(".exit-trigger").inner_text() == format(first, "f")
    # the relay's push may show the row before the answer brings the message: wait for it
    page.locator(f"#trading-message:has-text('Exit set: at {first:f}')").wait_for()
    assert card.locator(".exit-set input[name=trigger_price]").input_value() == ""  # used up

    # Moved up to 12% under the market: still one stop-loss, at the new price.
    stop.locator(".exit-move input[name=trigger_price]").fill(format(moved_to, "f"))
    stop.locator(".exit-move button").click()
    page.locator(f"#trading-message:has-text('Exit moved: at {moved_to:f}')").wait_for()
    stop = card.locator(".exit-row[data-kind=stop_loss]")
    stop.locator(f".exit-trigger:text-is('{moved_to:f}')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert stop.count() == 1
    page.screenshot(path=str(services.output_dir() / "position-exits.png"), full_page=True)

    # The mark crosses it: the stop fires, sells the long at market, and the card goes.
    sandbox_live.set_mark_price(PERP, format(below(moved_to, "0.99"), "f"))
    card.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.__loadedOnce") is True
    page.screenshot(path=str(services.output_dir() / "position-exit-fired.png"), full_page=True)
