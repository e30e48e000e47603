"""Read models of market data: the markets and their rules, a market's first snapshot
(depth, trades, ticker, mark), candles and the best prices (through short caches)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from trading.backpack import Depth, Kline, Market, MarkPrice, Ticker, Trade
from trading.backpack.recent_trades import newest_first
from trading.exchange import exchange_session
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.selectors.cache import cached
from trading.ticket import BestPrices

KLINE_INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
KLINE_COUNT = 300
KLINE_CACHE_S = 20.0
PRICES_CACHE_S = 1.0

Markets = dict[str, Market]


async def market_get(symbol: str) -> Market:
    """The market's rules (cached by the session); `InvalidOrderError` if it does not exist."""
    return await exchange_session().markets.get(symbol)


async def markets_known() -> Markets:
    """Every market's rules by symbol (cached by the session), for showing prices and
    quantities with their tick and step decimals; empty when the exchange cannot say."""
    try:
        return await exchange_session().markets.all()
    except EXCHANGE_ERRORS:
        return {}


@dataclass(frozen=True)
class MarketRow:
    market: Market
    ticker: Ticker | None


async def markets_overview() -> list[MarketRow]:
    """Every visible market with its 24 h ticker (spot first, then perpetuals)."""
    session = exchange_session()
    markets, tickers = await asyncio.gather(session.markets.all(), session.client().tickers())
    by_symbol = {t.symbol: t for t in tickers}
    rows = [MarketRow(m, by_symbol.get(m.symbol)) for m in markets.values() if m.visible]
    return sorted(rows, key=lambda r: (r.market.is_perp, r.market.symbol))


@dataclass
class MarketSnapshot:
    """What the market page shows first; each part is None when its read failed."""

    market: Market
    depth: Depth | None = None
    trades: list[Trade] | None = None
    ticker: Ticker | None = None
    mark: MarkPrice | None = None
    error: str = ""


async def market_snapshot(market: Market) -> MarketSnapshot:
    """Depth, recent trades, ticker (and mark price for perpetuals), read concurrently."""
    client = exchange_session().client()
    symbol = market.symbol
    reads: list[Awaitable[Any]] = [
        client.depth(symbol, limit=50),
        client.trades(symbol, limit=40),
        client.ticker(symbol),
    ]
    if market.is_perp:
        reads.append(client.mark_prices(symbol))
    results = await asyncio.gather(*reads, return_exceptions=True)
    snapshot = MarketSnapshot(market)
    errors = [r for r in results if isinstance(r, BaseException)]
    for result in errors:
        if not isinstance(result, EXCHANGE_ERRORS):
            raise result
    if errors:
        snapshot.error = failure_text(errors[0])
    depth, trades, ticker = results[:3]
    snapshot.depth = None if isinstance(depth, BaseException) else depth
    if not isinstance(trades, BaseException):
        snapshot.trades = newest_first(trades)
    snapshot.ticker = None if isinstance(ticker, BaseException) else ticker
    if len(results) > 3 and not isinstance(results[3], BaseException):
        snapshot.mark = next((m for m in results[3] if m.symbol == symbol), None)
    return snapshot


async def klines_recent(symbol: str, interval: str) -> list[Kline]:
    """The last ~300 candles of `interval` (one of KLINE_INTERVALS), cached for 20 s."""
    seconds = KLINE_INTERVALS[interval]

    async def load() -> list[Kline]:
        start = int(time.time()) - seconds * KLINE_COUNT
        klines = await exchange_session().client().klines(symbol, interval, start)
        return sorted(klines, key=lambda k: k.start)

    return await cached(("klines", symbol, interval), KLINE_CACHE_S, load)


async def best_prices(symbol: str) -> BestPrices:
    """Best bid and ask now (REST depth, cached for a second)."""

    async def load() -> BestPrices:
        depth = await exchange_session().client().depth(symbol, limit=5)
        bid = max((p for p, _ in depth.bids), default=None)
        ask = min((p for p, _ in depth.asks), default=None)
        return BestPrices(bid=bid, ask=ask)

    return await cached(("prices", symbol), PRICES_CACHE_S, load)
