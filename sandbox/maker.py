"""A simulated market maker: two-sided books around a random-walk price, and some trades.

It trades through the engine like everyone else, from two internal subaccounts (the seed's
``maker`` account quotes; ``maker.id + 1`` takes now and then, so self-trade prevention
never blocks a trade). Deterministic for a given ``seed``.

Two paces:

- calm (``rate == 0``): every half second each market's mid price takes a random step and
  the maker requotes ``LEVELS`` levels per side; now and then a small market order trades.
- busy (``rate > 0``): about ``rate`` depth updates per second per market, each one a single
  order placed or cancelled near the mid (for relay and stream benchmarks).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sandbox.engine import EngineError
from sandbox.seed import MarketSeed

logger = logging.getLogger("sandbox.maker")

LEVELS = 5
CALM_INTERVAL_S = 0.5
TRADE_CHANCE = 0.15
MAX_RESTING_BUSY = 40


@dataclass
class _Book:
    market: MarketSeed
    mid: Decimal
    resting: deque[str] = field(default_factory=deque)


class MarketMaker:
    """Keeps every market two-sided; ``run()`` until cancelled."""

    def __init__(self, sandbox: Any, *, seed: int = 1, rate: float = 0.0) -> None:
        self.sandbox = sandbox
        self.random = random.Random(seed)
        self.rate = rate
        self.quoter = sandbox.seed.maker.id
        self.taker = self.quoter + 1
        self.books: dict[str, _Book] = {}
        self.engine: Any = None
        self.steps = 0

    def _setup(self) -> None:
        engine = self.sandbox.engine
        self.engine = engine
        engine.open_subaccount(self.taker)
        for asset, amount in self.sandbox.seed.maker.balances.items():
            if amount > 0:
                engine.deposit(self.taker, asset, amount)
        self.books = {m.symbol: _Book(m, m.initial_price) for m in self.sandbox.seed.markets}
        for book in self.books.values():
            self._requote(book)

    async def run(self) -> None:
        """Quote and trade until cancelled (a reset ledger is picked up automatically)."""
        loop = asyncio.get_running_loop()
        interval = 1 / self.rate if self.rate > 0 else CALM_INTERVAL_S
        next_at = loop.time()
        while True:
            if self.engine is not self.sandbox.engine:
                self._setup()
            try:
                self.step()
            except Exception:
                logger.exception("maker step failed")
            next_at += interval
            delay = next_at - loop.time()
            if delay < -1.0:  # far behind: skip ahead instead of bursting
                next_at = loop.time()
                delay = 0
            await asyncio.sleep(max(delay, 0))

    def step(self) -> None:
        """One tick on every market."""
        self.steps += 1
        for book in self.books.values():
            if self.rate > 0:
                self._busy_step(book)
            else:
                self._walk(book, 0.0015)
                self._requote(book)
                if self.random.random() < TRADE_CHANCE:
                    self._trade(book)

    # -------------------------------------------------------------- internals
    def _walk(self, book: _Book, sigma: float) -> None:
        tick = book.market.tick_size
        shock = Decimal(repr(self.random.gauss(0, sigma))).quantize(Decimal("1e-9"))
        moved = book.mid * shock.exp()  # a log-normal step, in Decimal arithmetic
        book.mid = max(tick, (moved / tick).to_integral_value() * tick)
        if book.market.market_type == "PERP":
            try:
                self.engine.set_mark_price(book.market.symbol, book.mid, book.mid)
            except EngineError:
                pass

    def _quantity(self, book: _Book) -> Decimal:
        market = book.market
        notional = Decimal(self.random.randint(200, 5000))
        quantity = (notional / book.mid / market.step_size).to_integral_value(ROUND_DOWN)
        quantity *= market.step_size
        return max(quantity, market.min_quantity)

    def _price(self, book: _Book, side: str, level: int) -> Decimal:
        tick = book.market.tick_size
        spacing = max(tick, (book.mid * Decimal("0.0005") / tick).to_integral_value() * tick)
        offset = spacing * level
        price = book.mid - offset if side == "Bid" else book.mid + offset
        return max(tick, price)

    def _order(self, book: _Book, side: str, price: Decimal) -> dict[str, Any]:
        return {
            "symbol": book.market.symbol,
            "side": side,
            "orderType": "Limit",
            "price": format(price, "f"),
            "quantity": format(self._quantity(book), "f"),
            "postOnly": True,
        }

    def _requote(self, book: _Book) -> None:
        symbol = book.market.symbol
        try:
            self.engine.cancel_open_orders(self.quoter, symbol=symbol)
        except EngineError:
            pass
        book.resting.clear()
        orders = [
            self._order(book, side, self._price(book, side, level))
            for level in range(1, LEVELS + 1)
            for side in ("Bid", "Ask")
        ]
        try:
            results = self.engine.execute_orders(self.quoter, orders)
        except EngineError:
            return
        book.resting.extend(str(r["id"]) for r in results if "id" in r)

    def _trade(self, book: _Book) -> None:
        side = self.random.choice(("Bid", "Ask"))
        order = {
            "symbol": book.market.symbol,
            "side": side,
            "orderType": "Market",
            "quantity": format(self._quantity(book), "f"),
        }
        try:
            self.engine.execute_order(self.taker, order)
        except EngineError:
            pass

    def _busy_step(self, book: _Book) -> None:
        roll = self.random.random()
        if roll < 0.02:
            self._walk(book, 0.001)
            self._requote(book)
        elif roll < 0.03:
            self._trade(book)
        elif len(book.resting) > MAX_RESTING_BUSY or (roll < 0.5 and book.resting):
            order_id = book.resting.popleft()
            try:
                self.engine.cancel_order(self.quoter, symbol=book.market.symbol, order_id=order_id)
            except EngineError:
                pass
        else:
            side = "Bid" if roll < 0.75 else "Ask"
            level = self.random.randint(1, LEVELS * 2)
            try:
                result = self.engine.execute_order(
                    self.quoter, self._order(book, side, self._price(book, side, level))
                )
            except EngineError:
                return
            book.resting.append(str(result["id"]))
