"""Start-up market history: a deterministic past for every market, so charts are full at once.

For each market of the seed, walking backwards from its ``initialPrice`` (where the book and
the mark price start), a random walk in whole ticks gives, ending just before the start
minute:

- the last :data:`TRADE_MINUTES` minutes as single public trades (``GET /api/v1/trades``),
- the :data:`MINUTE_CANDLES` minutes before them as one-minute candles (25 h of 1m in all),
- :data:`QUARTER_CANDLES` fifteen-minute candles before that (a week: 1h and 4h charts
  reach back eight days).

The history is a function of the history seed, the market's definition and the start
minute: the same seed gives the same prices, volumes and trades, in the same place relative
to the start. Only integers from ``random.Random.getrandbits`` are drawn (no floats), so it
is the same on every platform; prices are whole ticks and quantities whole steps of the market.

Usage (what :class:`sandbox.server.state.Sandbox` does when history is on)::

    for history in seed_history(seed, now_us=engine.now_us(), history_seed=1):
        engine.history_load(history.symbol, history.candles, history.trades)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sandbox.seed import MarketSeed, Seed

TRADE_MINUTES = 15
MINUTE_CANDLES = 25 * 60 - TRADE_MINUTES
QUARTER_CANDLES = 7 * 24 * 4
MINUTE_SIGMA_BP = 6
"""Typical move of a one-minute candle, in basis points of the price (~2 % a day)."""
REVERSION = 600
"""Each step pulls the price back by 1/REVERSION of its distance to the initial price."""

Candle = tuple[int, list[Any]]
"""(start second, [open, high, low, close, volume, quoteVolume, trades])."""
HistoryTrade = tuple[Decimal, Decimal, int, bool]
"""(price, quantity, time in microseconds, isBuyerMaker)."""


@dataclass(frozen=True)
class MarketHistory:
    """One market's past, oldest first: whole candles, then the single trades after them."""

    symbol: str
    candles: tuple[Candle, ...]
    trades: tuple[HistoryTrade, ...]


class _Walk:
    """A random walk in whole ticks, stepping backwards in time."""

    def __init__(self, market: MarketSeed, history_seed: int) -> None:
        identity = f"{history_seed}:{market.symbol}:{market.initial_price}:{market.tick_size}"
        self.random = random.Random(f"{identity}:{market.step_size}")
        self.market = market
        self.anchor = int(market.initial_price / market.tick_size)
        self.floor = max(1, self.anchor // 4)
        self.sigma = max(1, self.anchor * MINUTE_SIGMA_BP // 10_000)
        self.price = self.anchor

    def draw(self, low: int, high: int) -> int:
        """A whole number in [low, high] (a C-speed draw; its tiny bias does not matter)."""
        return low + self.random.getrandbits(32) % (high - low + 1)

    def back(self, sigma: int) -> int:
        """The price one step earlier than the current one (which it becomes)."""
        draw = self.draw
        noise = draw(-sigma, sigma) + draw(-sigma, sigma) + draw(-sigma, sigma)
        pull = (self.anchor - self.price) // REVERSION
        self.price = max(self.floor, self.price - noise + pull)
        return self.price

    def decimal(self, ticks: int) -> Decimal:
        return ticks * self.market.tick_size

    def quantity(self, notional: int, price: Decimal) -> Decimal:
        """About ``notional`` quote units' worth, in whole steps (at least the minimum)."""
        step = self.market.step_size
        steps = (Decimal(notional) / price / step).to_integral_value(ROUND_DOWN)
        return max(steps * step, self.market.min_quantity)


def _trades(walk: _Walk, first_minute: int) -> list[HistoryTrade]:
    """Single trades in the TRADE_MINUTES minutes from ``first_minute`` (seconds)."""
    sigma = max(1, walk.sigma // 3)
    newest_first: list[tuple[int, int]] = []
    for back in range(TRADE_MINUTES, 0, -1):
        start_us = (first_minute + (back - 1) * 60) * 1_000_000
        count = walk.draw(4, 12)
        for offset in sorted(walk.random.sample(range(60_000_000), count), reverse=True):
            newest_first.append((walk.price, start_us + offset))
            walk.back(sigma)
    trades: list[HistoryTrade] = []
    previous = walk.price  # the price before the oldest trade
    for ticks, at_us in reversed(newest_first):
        price = walk.decimal(ticks)
        notional = walk.draw(100, 8000)
        # a trade below the one before it hit a bid: the buyer was the resting maker
        buyer_is_maker = ticks < previous or (ticks == previous and walk.draw(0, 1) == 1)
        trades.append((price, walk.quantity(notional, price), at_us, buyer_is_maker))
        previous = ticks
    return trades


def _candles(walk: _Walk, starts: range, sigma: int, scale: int) -> list[Candle]:
    """Candles starting at ``starts`` (newest first), each ``scale`` minutes' worth of
    volume and trades; the walk continues from the current price backwards."""
    candles: list[Candle] = []
    draw = walk.draw
    for start in starts:
        close = walk.price
        open_ = walk.back(sigma)
        high = max(open_, close) + draw(0, sigma)
        low = max(walk.floor, min(open_, close) - draw(0, sigma))
        mid = walk.decimal((open_ + close) // 2)
        volume = walk.quantity(draw(2_000, 60_000) * scale, mid)
        candle = [
            walk.decimal(open_),
            walk.decimal(high),
            walk.decimal(low),
            walk.decimal(close),
            volume,
            volume * mid,
            draw(5, 40) * scale,
        ]
        candles.append((start, candle))
    candles.reverse()
    return candles


def market_history(market: MarketSeed, *, now_us: int, history_seed: int = 1) -> MarketHistory:
    """The past of ``market`` before the minute holding ``now_us`` (see the module doc)."""
    walk = _Walk(market, history_seed)
    this_minute = now_us // 60_000_000 * 60
    first_trade_minute = this_minute - TRADE_MINUTES * 60
    trades = _trades(walk, first_trade_minute)
    first_minute = first_trade_minute - MINUTE_CANDLES * 60
    minutes = _candles(walk, range(first_trade_minute - 60, first_minute - 1, -60), walk.sigma, 1)
    first_quarter = first_minute - QUARTER_CANDLES * 900
    quarters = _candles(
        walk, range(first_minute - 900, first_quarter - 1, -900), walk.sigma * 4, 15
    )
    return MarketHistory(market.symbol, tuple(quarters + minutes), tuple(trades))


def seed_history(seed: Seed, *, now_us: int, history_seed: int = 1) -> list[MarketHistory]:
    """The past of every market of ``seed``."""
    return [
        market_history(market, now_us=now_us, history_seed=history_seed) for market in seed.markets
    ]
