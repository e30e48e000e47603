"""An independent client, ccxt's backpack (unmodified, only its URLs pointed at the sandbox),
trades against the sandbox: markets, ticker, book, candles, balances, orders, fills,
positions, and the ccxt.pro watchers for the order book and its own orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import pytest

from sandbox.process import SandboxProcess
from tests.waiting import eventually


def _point_at(exchange: Any, sandbox: SandboxProcess) -> Any:
    exchange.urls["api"] = {
        "public": sandbox.api_url,
        "private": sandbox.api_url,
        "ws": {"public": sandbox.ws_url, "private": sandbox.ws_url},
    }
    return exchange


@pytest.fixture
async def exchanges(
    sandbox: SandboxProcess,
) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(subaccount: int, pro: bool = False) -> Any:
        key = sandbox.keys[subaccount]
        module = ccxt_pro if pro else ccxt_async
        exchange = module.backpack({"apiKey": key["api_key"], "secret": key["api_secret"]})
        made.append(_point_at(exchange, sandbox))
        return exchange

    yield make
    for exchange in made:
        await exchange.close()


async def test_ccxt_reads_markets_ticker_book_candles_and_balances(exchanges: Any) -> None:
    desk = exchanges(1)
    markets = await desk.load_markets()
    assert {"SOL/USDC", "BTC/USDC", "ETH/USDC", "SOL/USDC:USDC"} <= set(markets)
    assert markets["SOL/USDC"]["precision"]["amount"] == 0.01
    maker = exchanges(2)
    await maker.create_order("SOL/USDC", "limit", "sell", 2, 151)
    await maker.create_order("SOL/USDC", "limit", "buy", 3, 149)
    book = await desk.fetch_order_book("SOL/USDC")
    assert book["asks"][0][:2] == [151.0, 2.0] and book["bids"][0][:2] == [149.0, 3.0]
    await desk.create_order("SOL/USDC", "market", "buy", 1)
    ticker = await desk.fetch_ticker("SOL/USDC")
    assert ticker["last"] == 151.0
    candles = await desk.fetch_ohlcv("SOL/USDC", "1m", limit=5)
    assert candles and candles[-1][4] == 151.0
    balance = await desk.fetch_balance()
    assert balance["SOL"]["total"] == pytest.approx(5001)


async def test_ccxt_places_lists_cancels_and_sees_fills_and_positions(exchanges: Any) -> None:
    desk, maker = exchanges(1), exchanges(2)
    resting = await desk.create_order("ETH/USDC", "limit", "buy", 0.5, 3400)
    assert resting["status"] == "open"
    open_orders = await desk.fetch_open_orders("ETH/USDC")
    assert [o["id"] for o in open_orders] == [resting["id"]]
    await desk.cancel_order(resting["id"], "ETH/USDC")
    assert await desk.fetch_open_orders("ETH/USDC") == []
    await maker.create_order("SOL/USDC:USDC", "limit", "sell", 4, 150)
    await desk.create_order("SOL/USDC:USDC", "market", "buy", 4)
    fills = await desk.fetch_my_trades("SOL/USDC:USDC")
    assert [(t["side"], t["amount"], t["price"]) for t in fills] == [("buy", 4.0, 150.0)]
    positions = await desk.fetch_positions(["SOL/USDC:USDC"])
    assert [(p["symbol"], float(p["contracts"]), p["side"]) for p in positions] == [
        ("SOL/USDC:USDC", 4.0, "long")
    ]


def _socket_open(watcher: Any) -> Callable[[], bool]:
    def check() -> bool:
        client = watcher.clients.get(watcher.urls["api"]["ws"]["public"])
        return client is not None and client.connected.done()

    return check


async def test_ccxt_pro_watches_the_book_and_its_orders(exchanges: Any) -> None:
    watcher, desk = exchanges(1, pro=True), exchanges(1)
    await desk.load_markets()
    await desk.create_order("BTC/USDC", "limit", "buy", 0.01, 94000)
    book_task = asyncio.create_task(watcher.watch_order_book("BTC/USDC"))
    orders_task = asyncio.create_task(watcher.watch_orders("BTC/USDC"))
    # Both subscriptions go out once the watcher's socket is open (ccxt sends them then); the
    # server may take a moment more, which the place-again wait below covers.
    await eventually(_socket_open(watcher), within_s=10, what="the watcher's socket open")
    placed = await desk.create_order("BTC/USDC", "limit", "buy", 0.02, 94100)
    placed_ids = {placed["id"]}

    async def orders_seen() -> bool:  # a slow machine may take longer to subscribe: place again
        done, _pending = await asyncio.wait({orders_task}, timeout=1.0)
        if not done:
            extra = await desk.create_order("BTC/USDC", "limit", "buy", 0.001, 92000)
            placed_ids.add(extra["id"])
        return bool(done)

    await eventually(orders_seen, within_s=20, what="an order update watched", every_s=0)
    orders = await asyncio.wait_for(orders_task, 10)
    assert placed_ids & {o["id"] for o in orders}
    assert {o["symbol"] for o in orders} == {"BTC/USDC"}
    # ccxt takes its REST snapshot after ten buffered depth updates: make a dozen more
    for step in range(12):
        await desk.create_order("BTC/USDC", "limit", "buy", 0.001, 93000 + step)
    book = await asyncio.wait_for(book_task, 10)
    assert book["bids"][0][0] == 94100.0
    book = await asyncio.wait_for(watcher.watch_order_book("BTC/USDC"), 10)
    await desk.create_order("BTC/USDC", "limit", "buy", 0.5, 94200)
    book = await asyncio.wait_for(watcher.watch_order_book("BTC/USDC"), 10)
    assert [level[0] for level in book["bids"][:3]] == [94200.0, 94100.0, 94000.0]
    assert len(book["bids"]) == len((await desk.fetch_order_book("BTC/USDC"))["bids"])


async def test_ccxt_reads_funding_payments_and_deposits(
    exchanges: Any, sandbox: SandboxProcess
) -> None:
    desk, maker = exchanges(1), exchanges(2)
    await maker.create_order("SOL/USDC:USDC", "limit", "sell", 4, 150)
    await desk.create_order("SOL/USDC:USDC", "market", "buy", 4)
    await asyncio.to_thread(sandbox.set_mark_price, "SOL_USDC_PERP", "150")
    await asyncio.to_thread(sandbox.settle_funding, "SOL_USDC_PERP", "0.0001")

    funding = await desk.fetch_funding_history("SOL/USDC:USDC")
    deposits = await desk.fetch_deposits("USDC")

    assert [(f["symbol"], f["amount"], f["rate"]) for f in funding] == [
        ("SOL/USDC:USDC", -0.06, 0.0001)
    ]
    assert [(d["currency"], d["amount"], d["status"]) for d in deposits] == [
        ("USDC", 1000000.0, "ok")
    ]


async def test_ccxt_places_a_stop_order_and_attached_take_profit_and_stop_loss(
    exchanges: Any,
) -> None:
    desk, maker = exchanges(1), exchanges(2)
    stop = await desk.create_order("SOL/USDC:USDC", "market", "buy", 1, None, {"triggerPrice": 160})
    assert stop["triggerPrice"] == 160.0
    (pending,) = await desk.fetch_open_orders("SOL/USDC:USDC")
    assert (pending["id"], pending["info"]["status"]) == (stop["id"], "TriggerPending")
    await desk.cancel_order(stop["id"], "SOL/USDC:USDC")
    assert await desk.fetch_open_orders("SOL/USDC:USDC") == []

    await maker.create_order("SOL/USDC:USDC", "limit", "sell", 2, 150)
    await desk.create_order(
        "SOL/USDC:USDC",
        "market",
        "buy",
        2,
        None,
        {"takeProfit": {"triggerPrice": 170}, "stopLoss": {"triggerPrice": 140, "price": 139}},
    )
    exits = await desk.fetch_open_orders("SOL/USDC:USDC")
    assert sorted((o["triggerPrice"], o["type"], o["reduceOnly"]) for o in exits) == [
        (140.0, "limit", True),
        (170.0, "market", True),
    ]


async def test_ccxt_creates_a_batch_of_orders(exchanges: Any) -> None:
    desk = exchanges(1)
    await desk.load_markets()
    placed = await desk.create_orders(
        [
            {"symbol": "ETH/USDC", "type": "limit", "side": "buy", "amount": 0.5, "price": 3400},
            {"symbol": "ETH/USDC", "type": "limit", "side": "buy", "amount": 0.5, "price": 3390},
        ]
    )
    assert [o["price"] for o in placed] == [3400.0, 3390.0]
    resting = await desk.fetch_open_orders("ETH/USDC")
    assert sorted(o["price"] for o in resting) == [3390.0, 3400.0]
