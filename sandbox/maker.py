"""A simulated market maker: a ladder of quotes on each side of a random-walk price, and
some trades.

It trades through the engine like everyone else, from two internal subaccounts (the seed's
``maker`` account quotes; ``maker.id + 1`` takes now and then, so self-trade prevention
never blocks a trade). Deterministic for a given ``seed``.

It quotes like a real maker: ``LEVELS`` levels a side on a fixed price grid (one step is
``SPACING`` of the market's initial price), the size growing away from the mid. When the mid
moves it replaces levels, the new quote before the old one is pulled, and never pulls the
last quote of a side, so every state of the book the exchange ever publishes is two-sided
(a quote that would cross one of its own old quotes waits until that one is pulled).

Two paces:

- calm (``rate == 0``): every half second each market's mid price takes a random step and
  the maker moves its ladder; now and then a small market order trades.
- busy (``rate > 0``): about ``rate`` depth updates per second per market, mostly a single
  small order placed or cancelled on top of the ladder near the mid (for relay and stream
  benchmarks); now and then the mid moves and the ladder follows.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Any

from sandbox.engine import EngineError
from sandbox.seed import MarketSeed

logger = logging.getLogger("sandbox.maker")

LEVELS = 25  # a trade takes at most a few levels: at least 20 a side remain
SPACING = Decimal("0.0005")  # one grid step, as a fraction of the market's initial price
MAX_MOVE_STEPS = 5  # the mid never moves further in one tick: the ladder holds
LEVEL_NOTIONAL = Decimal(500)  # quote value of level 1; level n holds about n times that
CALM_INTERVAL_S = 0.5
TRADE_CHANCE = 0.15
MAX_RESTING_BUSY = 40
SIDES = ("Bid", "Ask")
OTHER = {"Bid": "Ask", "Ask": "Bid"}


@dataclass
class _Book:
    market: MarketSeed
    mid: Decimal
    step: Decimal
    resting: deque[str] = field(default_factory=deque)  # busy mode's extra orders


def _grid_step(market: MarketSeed) -> Decimal:
    tick = market.tick_size
    return max(tick, (market.initial_price * SPACING / tick).to_integral_value() * tick)


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

    def setup(self) -> None:
        """Open the taker's account on the sandbox's current ledger and quote every market."""
        engine = self.sandbox.engine
        self.engine = engine
        engine.open_subaccount(self.taker)
        for asset, amount in self.sandbox.seed.maker.balances.items():
            if amount > 0:
                engine.deposit(self.taker, asset, amount)
        self.books = {
            m.symbol: _Book(m, m.initial_price, _grid_step(m)) for m in self.sandbox.seed.markets
        }
        for book in self.books.values():
            self._requote(book)

    async def run(self) -> None:
        """Quote and trade until cancelled (a reset ledger is picked up automatically)."""
        loop = asyncio.get_running_loop()
        interval = 1 / self.rate if self.rate > 0 else CALM_INTERVAL_S
        next_at = loop.time()
        while True:
            if self.engine is not self.sandbox.engine:
                self.setup()
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
                if self.random.random() < TRADE_CHANCE:
                    self._trade(book)
                self._walk(book, 0.0015)
                self._requote(book)  # also puts back what the trade took

    # -------------------------------------------------------------- internals
    def _walk(self, book: _Book, sigma: float) -> None:
        tick = book.market.tick_size
        shock = Decimal(repr(self.random.gauss(0, sigma))).quantize(Decimal("1e-9"))
        moved = book.mid * shock.exp()  # a log-normal step, in Decimal arithmetic
        reach = book.step * MAX_MOVE_STEPS
        moved = min(max(moved, book.mid - reach), book.mid + reach)
        book.mid = max(tick, (moved / tick).to_integral_value() * tick)
        if book.market.market_type == "PERP":
            try:
                self.engine.set_mark_price(book.market.symbol, book.mid, book.mid)
            except EngineError:
                pass

    def _ladder(self, book: _Book) -> dict[str, list[Decimal]]:
        """The prices to quote, nearest the mid first: grid points strictly inside each side."""
        step = book.step
        below = int((book.mid / step).to_integral_value(ROUND_CEILING)) - 1
        above = int((book.mid / step).to_integral_value(ROUND_FLOOR)) + 1
        return {
            "Bid": [(below - i) * step for i in range(LEVELS) if below - i > 0],
            "Ask": [(above + i) * step for i in range(LEVELS)],
        }

    def _quantity(self, book: _Book, notional: Decimal) -> Decimal:
        market = book.market
        quantity = (notional / book.mid / market.step_size).to_integral_value(ROUND_DOWN)
        return max(quantity * market.step_size, market.min_quantity)

    def _order(self, book: _Book, side: str, price: Decimal, quantity: Decimal) -> dict[str, Any]:
        return {
            "symbol": book.market.symbol,
            "side": side,
            "orderType": "Limit",
            "price": format(price, "f"),
            "quantity": format(quantity, "f"),
            "postOnly": True,
        }

    def _place(self, book: _Book, side: str, price: Decimal, level: int) -> str | None:
        """One ladder quote, its size growing with its distance from the mid."""
        notional = LEVEL_NOTIONAL * level * Decimal(self.random.randint(70, 130)) / 100
        order = self._order(book, side, price, self._quantity(book, notional))
        try:
            return str(self.engine.execute_order(self.quoter, order)["id"])
        except EngineError:
            return None

    def _cancel(self, book: _Book, order_ids: list[str]) -> None:
        for order_id in order_ids:
            try:
                self.engine.cancel_order(self.quoter, symbol=book.market.symbol, order_id=order_id)
            except EngineError:
                pass  # filled meanwhile

    def _requote(self, book: _Book) -> None:
        """Move the ladder to the mid: new levels first, then pull the old ones; a level whose
        size no longer fits its distance from the mid is replaced (new order, then old)."""
        ids: dict[str, dict[Decimal, list[str]]] = {"Bid": {}, "Ask": {}}
        sizes: dict[str, dict[Decimal, Decimal]] = {"Bid": {}, "Ask": {}}
        for order in self.engine.open_orders(self.quoter, book.market.symbol):
            side, price = order["side"], Decimal(order["price"])
            ids[side].setdefault(price, []).append(str(order["id"]))
            left = Decimal(order["quantity"]) - Decimal(order.get("executedQuantity") or 0)
            sizes[side][price] = sizes[side].get(price, Decimal(0)) + left
        ladder = self._ladder(book)

        def crosses(side: str, price: Decimal) -> bool:
            other = ids[OTHER[side]]
            if not other:
                return False
            return price >= min(other) if side == "Bid" else price <= max(other)

        waiting: list[tuple[str, Decimal, int]] = []
        for side in SIDES:
            for level, price in enumerate(ladder[side], 1):
                if price in ids[side]:
                    fair = LEVEL_NOTIONAL * level
                    if fair / 2 <= sizes[side][price] * book.mid <= fair * 2:
                        continue
                    if (order_id := self._place(book, side, price, level)) is not None:
                        self._cancel(book, ids[side][price])
                        ids[side][price] = [order_id]
                elif crosses(side, price):
                    waiting.append((side, price, level))
                elif (order_id := self._place(book, side, price, level)) is not None:
                    ids[side][price] = [order_id]
        for side in SIDES:
            wanted = set(ladder[side])
            # nearest the other side first: a quote in the way of a waiting one goes first
            stale = sorted((p for p in ids[side] if p not in wanted), reverse=side == "Bid")
            for price in stale:
                if len(ids[side]) == 1:
                    break  # never the last level of a side
                self._cancel(book, ids[side].pop(price))
        for side, price, level in waiting:
            if not crosses(side, price):
                self._place(book, side, price, level)

    def _trade(self, book: _Book) -> None:
        side = self.random.choice(SIDES)
        quantity = self._quantity(book, Decimal(self.random.randint(200, 5000)))
        order = {
            "symbol": book.market.symbol,
            "side": side,
            "orderType": "Market",
            "quantity": format(quantity, "f"),
        }
        try:
            self.engine.execute_order(self.taker, order)
        except EngineError:
            pass

    def _busy_step(self, book: _Book) -> None:
        roll = self.random.random()
        if roll < 0.01:  # a ladder move costs several updates: rarer than before
            self._walk(book, 0.001)
            self._requote(book)
        elif roll < 0.02:
            self._trade(book)
            self._requote(book)  # put back what the trade took before the next one comes
        elif len(book.resting) > MAX_RESTING_BUSY or (roll < 0.5 and book.resting):
            order_id = book.resting.popleft()
            try:
                self.engine.cancel_order(self.quoter, symbol=book.market.symbol, order_id=order_id)
            except EngineError:
                pass
        else:
            side = "Bid" if roll < 0.75 else "Ask"
            prices = self._ladder(book)[side][:10]
            if not prices:
                return
            price = self.random.choice(prices)
            quantity = self._quantity(book, Decimal(self.random.randint(200, 5000)))
            try:
                result = self.engine.execute_order(
                    self.quoter, self._order(book, side, price, quantity)
                )
            except EngineError:
                return
            book.resting.append(str(result["id"]))
