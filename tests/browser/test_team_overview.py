"""The team overview in Chromium against a live sandbox through a real daphne: a trader's
market order fills, and today's PnL, the net exposure and the subaccount's card on the open
overview change without a reload, pushed by the relay (the page's fall-back poll is cut off,
so only the push can bring them); the CSV of the PnL page's table carries its figures."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.browser.test_trading import live_desk, send_ticket, sign_in, subaccount_id

pytestmark = pytest.mark.browser

PERP = "SOL_USDC_PERP"
# The relay pushes the region when the fill, the position and the ledger's sync arrive; the
# keeper syncs on the fill (2 s later), before its first catch-up too.
LIVE_TIMEOUT_MS = 60_000

__all__ = ["live_desk"]  # the module-scoped dashboard on the live sandbox, shared


def _text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def _wait(overview, card: str, before: dict[str, str]) -> None:
    """Until today's PnL (team and card) and the SOL exposure all differ from ``before``."""
    overview.wait_for_function(
        "([card, before]) => {"
        " const text = (s) => {"
        "  const el = document.querySelector(s); return el ? el.innerText : ''; };"
        " return text('#overview-totals [data-team-today]') !== before.today"
        "  && text(card + ' [data-today]') !== before.card"
        "  && text('#overview-exposure tr[data-asset=\"SOL\"]') !== before.sol; }",
        arg=[card, before],
        timeout=LIVE_TIMEOUT_MS,
    )


def test_a_fill_moves_the_overview_without_reloading(live_desk, page) -> None:
    market = page
    sign_in(market, live_desk, "trader", f"/trading/market/{PERP}/")
    pk = subaccount_id(market)
    overview = market.context.new_page()
    overview.goto(f"{live_desk.url}/")
    card = f'#overview-team article[data-subaccount="{pk}"]'
    overview.locator(card).wait_for()
    overview.evaluate("window.__loadedOnce = true")  # gone if the page reloads
    polls: list[str] = []

    def no_polls(route) -> None:  # the region's fall-back poll: refused, so only a push helps
        if route.request.headers.get("hx-request"):
            polls.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    overview.route(lambda url: url.rstrip("/") == live_desk.url.rstrip("/"), no_polls)
    overview.wait_for_function("document.body.dataset.overviewPush === 'live'")
    before = {
        "today": _text(overview, "#overview-totals [data-team-today]"),
        "card": _text(overview, f"{card} [data-today]"),
        "sol": _text(overview, '#overview-exposure tr[data-asset="SOL"]')
        if overview.locator('#overview-exposure tr[data-asset="SOL"]').count()
        else "",
    }

    market.check("input[name=order_type][value=Market]")
    market.fill("#ticket-quantity", "1")
    market.locator("#ticket-feedback [data-notional]").wait_for()
    assert "(Market): Filled" in send_ticket(market)

    _wait(overview, card, before)
    assert overview.evaluate("window.__loadedOnce") is True
    assert polls == []  # the socket was live: the page did not even try to poll
    assert _text(overview, f"{card} [data-open-positions]") != "0"

    overview.goto(f"{live_desk.url}/trading/pnl/")
    rows = overview.locator("#pnl-by-subaccount tbody tr")
    shown = {
        cells[0]: [c.replace(",", "") for c in cells[1:]]
        for cells in (rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count()))
    }
    exported = overview.request.get(f"{live_desk.url}/trading/pnl/?export=subaccount").text()
    from_csv = {r[0]: r[1:] for r in list(csv.reader(io.StringIO(exported)))[1:]}
    name = _text(market, "#ticket-subaccount option:checked")
    assert shown[name] == from_csv[name], (shown, from_csv)
    assert re.fullmatch(r"-?\d+\.\d{2}", from_csv[name][1])  # the fees: figures, not blanks
