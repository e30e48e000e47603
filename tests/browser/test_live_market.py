"""The market page never misleads (issue #12): sampled every 50 ms for 10 s, the book never
shows an empty side (the exchange's never has one: its maker replaces levels, never pulls a
side); recent trades stay strictly newest first, without a hole, across a reconnect of the
relay's exchange stream (cut through a proxy while trades happen)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.test_trading import LIVE_TIMEOUT_MS, sign_in
from tests.fixtures.dashboard_server import DashboardServer
from tests.fixtures.tcp_proxy import TcpProxy

pytestmark = pytest.mark.browser

SYMBOL = "SOL_USDC"

SAMPLE_BOOK = """([symbol, every_ms, count]) => new Promise((resolve) => {
  const samples = [];
  const timer = setInterval(() => {
    const book = document.getElementById(`book-${symbol}`);
    let hash = 0;
    for (const c of book.innerHTML) hash = (hash * 31 + c.charCodeAt(0)) | 0;
    samples.push([
      book.querySelectorAll('.book-row.bid').length,
      book.querySelectorAll('.book-row.ask').length,
      hash,
    ]);
    if (samples.length >= count) { clearInterval(timer); resolve(samples); }
  }, every_ms);
})"""

TRADE_IDS = """(symbol) => Array.from(
  document.querySelectorAll(`#trades-${symbol} tr[data-trade-id]`),
  (row) => Number(row.dataset.tradeId),
)"""


@pytest.fixture(scope="module")
def proxied_desk(sandbox_live, tmp_path_factory) -> Iterator[tuple[DashboardServer, TcpProxy]]:
    """A dashboard on the live sandbox whose exchange WebSocket runs through a proxy."""
    state = tmp_path_factory.mktemp("live-market")
    keys = state / "keys.json"
    keys.write_text(json.dumps(sandbox_live.keys))
    ws = urlsplit(sandbox_live.ws_url)
    with TcpProxy(ws.hostname, ws.port) as proxy:
        ws_url = f"ws://127.0.0.1:{proxy.port}{ws.path}"
        server = DashboardServer(state, api_url=sandbox_live.api_url, ws_url=ws_url)
        try:
            server.start()
            server.manage("seed_demo", "--keys", str(keys))
            yield server, proxy
        finally:
            server.stop()


def _on_exchange(coroutine):
    # Playwright's sync API runs a loop in this thread; the client gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=30)


async def _buy(sandbox, times: int) -> None:
    """Small market buys from the trader's subaccount, each at least one trade."""
    from trading.backpack import Credentials, ExchangeSession

    key = sandbox.keys[0]
    async with ExchangeSession(api_url=sandbox.api_url) as session:
        client = session.client(
            Credentials(api_key=key["api_key"], api_secret=lambda: key["api_secret"])
        )
        for _ in range(times):
            await client.place_order(SYMBOL, "Bid", "Market", quantity=Decimal("0.1"))


def _exchange_trade_ids(sandbox) -> list[int]:
    trades = httpx.get(
        f"{sandbox.api_url}/api/v1/trades", params={"symbol": SYMBOL, "limit": 100}
    ).json()
    return sorted((int(t["id"]) for t in trades), reverse=True)


def test_the_book_never_shows_an_empty_side(proxied_desk, sandbox_live, page) -> None:
    server, _ = proxied_desk
    sign_in(page, server, "viewer", f"/trading/market/{SYMBOL}/")
    page.locator(f"#book-{SYMBOL} .book-row.bid").first.wait_for()

    samples = page.evaluate(SAMPLE_BOOK, [SYMBOL, 50, 200])  # 10 s

    depth = httpx.get(f"{sandbox_live.api_url}/api/v1/depth", params={"symbol": SYMBOL}).json()
    assert len(depth["bids"]) >= 20 and len(depth["asks"]) >= 20
    assert len({h for _, _, h in samples}) >= 8  # the sentinel: the book moved meanwhile
    assert [(b, a) for b, a, _ in samples if (b, a) != (20, 20)] == []


def test_recent_trades_stay_newest_first_across_a_stream_reconnect(
    proxied_desk, sandbox_live, page
) -> None:
    server, proxy = proxied_desk
    sign_in(page, server, "viewer", f"/trading/market/{SYMBOL}/")
    page.locator(f"#trades-{SYMBOL} tr[data-trade-id]").first.wait_for()
    shown_before = page.evaluate(TRADE_IDS, SYMBOL)

    proxy.down()  # the relay's exchange stream is cut; REST still answers
    try:
        _on_exchange(_buy(sandbox_live, 3))
        missed = [i for i in _exchange_trade_ids(sandbox_live) if i > shown_before[0]]
    finally:
        proxy.up()

    assert len(missed) >= 3  # traded while the stream was down
    page.wait_for_function(  # the relay reconnected and backfilled
        "([symbol, id]) => document.querySelector(`#trades-${symbol} tr[data-trade-id='${id}']`)",
        arg=[SYMBOL, missed[0]],
        timeout=LIVE_TIMEOUT_MS,
    )
    shown = page.evaluate(TRADE_IDS, SYMBOL)
    exchange = _exchange_trade_ids(sandbox_live)
    assert shown == sorted(set(shown), reverse=True)  # strictly newest first
    assert set(missed) <= set(shown)
    # no hole: between its newest and oldest row, the page shows every trade the exchange has
    assert shown == [i for i in exchange if shown[-1] <= i <= shown[0]]
