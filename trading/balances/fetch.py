"""Reading balances, margin summaries and prices from the exchange (through short caches).

A failed read never becomes a zero: it becomes an `AccountRead` whose `error` holds the
failure in a trader's words (`trading.failures.failure_text`: the client's message and what
to do, or the accounts app's "cannot decrypt the API secret..." when the stored secret cannot
be opened).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.crypto import SecretUnavailableError
from accounts.models import Subaccount
from trading.backpack import BackpackError, Balance, Collateral, Market
from trading.backpack.market_types import MarketType
from trading.balances.cache import ReadCache
from trading.balances.valuation import (
    QUOTE_ASSET,
    PriceQuote,
    places_for_step,
    quote_from_market,
    usdc_symbol,
)
from trading.exchange import client_for, exchange_session
from trading.failures import failure_text

log = logging.getLogger(__name__)

accounts_cache = ReadCache()
market_cache = ReadCache()
collateral_reads = ReadCache(ttl_s=0.0)
"""Margin summaries in flight, by subaccount: the balances read and the positions' liquidation
estimates (`trading.selectors.positions.positions_recent`), started together by the overview,
share one request. Kept only while it runs: a caller gets nothing older than its own read."""


@dataclass(frozen=True, slots=True)
class AccountRead:
    """What one subaccount's balances and margin summary reads returned."""

    balances: dict[str, Balance] | None
    collateral: Collateral | None
    error: str | None = None
    collateral_error: str | None = None


async def collateral_read(subaccount: Subaccount, client: Any) -> Collateral:
    """``client.collateral()`` of `subaccount`, shared with a read of it already in flight."""
    return await collateral_reads.get(subaccount.pk, client.collateral)


async def _read_account(subaccount: Subaccount, *, fresh: bool = False) -> AccountRead:
    try:
        client = client_for(subaccount)
    except SecretUnavailableError as exc:
        return AccountRead(None, None, error=failure_text(exc))
    # fresh (after a fill): a read already in flight may have started before it
    collateral = client.collateral() if fresh else collateral_read(subaccount, client)
    balances, collateral = await asyncio.gather(
        client.balances(), collateral, return_exceptions=True
    )
    for outcome in (balances, collateral):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if isinstance(outcome, BaseException) and not isinstance(
            outcome, BackpackError | SecretUnavailableError
        ):
            log.error("balances read of %s failed", subaccount.pk, exc_info=outcome)
    if isinstance(balances, BaseException):
        return AccountRead(None, None, error=failure_text(balances))
    if isinstance(collateral, BaseException):
        return AccountRead(balances, None, collateral_error=failure_text(collateral))
    return AccountRead(balances, collateral)


async def account_read(subaccount: Subaccount, *, fresh: bool = False) -> AccountRead:
    """Balances and margin summary of `subaccount`, shared with reads of the last ~2 s.

    `fresh=True` (the relay after a fill) reads again whatever the cache holds.
    """
    if fresh:
        accounts_cache.forget(subaccount.pk)
    return await accounts_cache.get(subaccount.pk, lambda: _read_account(subaccount, fresh=fresh))


@dataclass(frozen=True, slots=True)
class MarketData:
    """Spot USDC markets and their last prices (from one tickers read)."""

    markets: dict[str, Market]
    last_prices: dict[str, Decimal]
    error: str | None = None


async def _read_market_data() -> MarketData:
    session = exchange_session()
    public = session.client(None, label="public")
    markets, tickers = await asyncio.gather(
        session.markets.all(), public.tickers(), return_exceptions=True
    )
    for outcome in (markets, tickers):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
    if isinstance(markets, BaseException):
        return MarketData({}, {}, error=failure_text(markets))
    spot = {
        symbol: market
        for symbol, market in markets.items()
        if market.market_type == MarketType.SPOT and market.quote_symbol == QUOTE_ASSET
    }
    if isinstance(tickers, BaseException):
        return MarketData(spot, {}, error=failure_text(tickers))
    last = {t.symbol: t.last_price for t in tickers if t.symbol in spot}
    return MarketData(spot, last)


async def market_data() -> MarketData:
    """Spot USDC markets and last prices, shared with reads of the last ~2 s."""
    return await market_cache.get("markets", _read_market_data)


async def _read_mid(symbol: str) -> tuple[Decimal | None, Decimal | None]:
    public = exchange_session().client(None, label="public")
    try:
        depth = await public.depth(symbol, limit=5)
    except BackpackError:
        return None, None
    best_bid = max((price for price, _ in depth.bids), default=None)
    best_ask = min((price for price, _ in depth.asks), default=None)
    return best_bid, best_ask


async def price_quotes(assets: set[str]) -> tuple[dict[str, PriceQuote], dict[str, int], str]:
    """USDC prices and display places of `assets`, and a price error ('' when none).

    Assets without a `<ASSET>_USDC` spot market, or whose market has neither a trade nor
    both sides of a book, have no quote.
    """
    data = await market_data()
    quotes: dict[str, PriceQuote] = {}
    places: dict[str, int] = {}
    need_mid: list[str] = []
    for asset in assets:
        symbol = usdc_symbol(asset)
        market = data.markets.get(symbol)
        if market is not None:
            places[asset] = places_for_step(market.step_size)
        tick = market.tick_size if market is not None else None
        quote = quote_from_market(asset, last_price=data.last_prices.get(symbol), tick_size=tick)
        if quote is not None:
            quotes[asset] = quote
        elif market is not None:
            need_mid.append(asset)
    if need_mid:
        books = await asyncio.gather(
            *(
                market_cache.get(("depth", usdc_symbol(a)), lambda s=usdc_symbol(a): _read_mid(s))
                for a in need_mid
            )
        )
        for asset, (bid, ask) in zip(need_mid, books, strict=True):
            tick = data.markets[usdc_symbol(asset)].tick_size
            quote = quote_from_market(
                asset, last_price=None, best_bid=bid, best_ask=ask, tick_size=tick
            )
            if quote is not None:
                quotes[asset] = quote
    return quotes, places, data.error or ""
