"""One market's limit order book: price levels with time priority and depth sequencing.

Each side is a dict ``price -> {order_id: Order}`` (a dict keeps insertion order, so the
first entry is the oldest: time priority, with O(1) removal) plus an ascending list of its
prices (``bisect``).  Every change to a level's total bumps ``update_id`` and records the
level's new total; :meth:`OrderBook.take_changes` hands the accumulated delta to the
engine, which emits one ``depth`` event per command.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from decimal import Decimal

from .markets import ZERO
from .orders import BID, Order


class OrderBook:
    """Bids and asks of one market."""

    __slots__ = (
        "symbol",
        "bids",
        "asks",
        "bid_prices",
        "ask_prices",
        "bid_totals",
        "ask_totals",
        "update_id",
        "first_pending_id",
        "changed_bids",
        "changed_asks",
    )

    def __init__(self, symbol: str, first_update_id: int = 0) -> None:
        self.symbol = symbol
        self.bids: dict[Decimal, dict[int, Order]] = {}
        self.asks: dict[Decimal, dict[int, Order]] = {}
        self.bid_prices: list[Decimal] = []
        self.ask_prices: list[Decimal] = []
        self.bid_totals: dict[Decimal, Decimal] = {}
        self.ask_totals: dict[Decimal, Decimal] = {}
        self.update_id = first_update_id
        self.first_pending_id: int | None = None
        self.changed_bids: dict[Decimal, Decimal] = {}
        self.changed_asks: dict[Decimal, Decimal] = {}

    # -------------------------------------------------------------------- reads
    def best_bid(self) -> Decimal | None:
        """Highest bid price, or None."""
        return self.bid_prices[-1] if self.bid_prices else None

    def best_ask(self) -> Decimal | None:
        """Lowest ask price, or None."""
        return self.ask_prices[0] if self.ask_prices else None

    def top(self) -> tuple[Decimal | None, Decimal, Decimal | None, Decimal]:
        """(best bid, its total, best ask, its total)."""
        bid = self.best_bid()
        ask = self.best_ask()
        return (
            bid,
            self.bid_totals[bid] if bid is not None else ZERO,
            ask,
            self.ask_totals[ask] if ask is not None else ZERO,
        )

    def levels(self, side: str, limit: int) -> list[tuple[Decimal, Decimal]]:
        """Up to ``limit`` (price, total) levels of ``side``, best first."""
        if side == BID:
            prices = self.bid_prices[::-1][:limit]
            return [(p, self.bid_totals[p]) for p in prices]
        return [(p, self.ask_totals[p]) for p in self.ask_prices[:limit]]

    def makers(self, taker_side: str):
        """Resting orders a ``taker_side`` order would meet, in priority order (a
        generator; do not mutate the book while iterating)."""
        if taker_side == BID:
            for price in self.ask_prices:
                yield from self.asks[price].values()
        else:
            for price in reversed(self.bid_prices):
                yield from self.bids[price].values()

    def crosses(self, side: str, price: Decimal) -> bool:
        """Would a limit order at ``price`` on ``side`` take liquidity?"""
        if side == BID:
            return bool(self.ask_prices) and self.ask_prices[0] <= price
        return bool(self.bid_prices) and self.bid_prices[-1] >= price

    def resting_orders(self) -> list[Order]:
        """Every resting order (bids best first, then asks best first)."""
        out: list[Order] = []
        for price in reversed(self.bid_prices):
            out.extend(self.bids[price].values())
        for price in self.ask_prices:
            out.extend(self.asks[price].values())
        return out

    # ----------------------------------------------------------------- changes
    def _changed(self, side: str, price: Decimal, total: Decimal) -> None:
        self.update_id += 1
        if self.first_pending_id is None:
            self.first_pending_id = self.update_id
        if side == BID:
            self.changed_bids[price] = total
        else:
            self.changed_asks[price] = total

    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of its price level."""
        price = order.price
        if order.side == BID:
            levels, prices, totals = self.bids, self.bid_prices, self.bid_totals
            changed = self.changed_bids
        else:
            levels, prices, totals = self.asks, self.ask_prices, self.ask_totals
            changed = self.changed_asks
        level = levels.get(price)
        if level is None:
            levels[price] = {order.id: order}
            insort(prices, price)
            total = order.quantity - order.executed_quantity
        else:
            level[order.id] = order
            total = totals[price] + (order.quantity - order.executed_quantity)
        totals[price] = changed[price] = total
        self.update_id += 1  # self._changed(...), inlined: every resting order passes here
        if self.first_pending_id is None:
            self.first_pending_id = self.update_id

    def reduce(self, order: Order, quantity: Decimal) -> None:
        """A resting order filled ``quantity``; removes it when nothing remains."""
        price = order.price
        totals = self.bid_totals if order.side == BID else self.ask_totals
        total = totals[price] - quantity
        if order.quantity - order.executed_quantity <= 0:
            self._remove(order, total)
        else:
            totals[price] = total
            self._changed(order.side, price, total)

    def remove(self, order: Order) -> None:
        """Take a resting order off the book (cancel, expiry)."""
        totals = self.bid_totals if order.side == BID else self.ask_totals
        self._remove(order, totals[order.price] - order.remaining)

    def _remove(self, order: Order, total: Decimal) -> None:
        price = order.price
        if order.side == BID:
            levels, prices, totals = self.bids, self.bid_prices, self.bid_totals
        else:
            levels, prices, totals = self.asks, self.ask_prices, self.ask_totals
        level = levels[price]
        del level[order.id]
        if level:
            totals[price] = total
        else:
            del levels[price]
            del totals[price]
            index = bisect_left(prices, price)
            del prices[index]
            total = ZERO
        self._changed(order.side, price, total)

    def take_changes(
        self,
    ) -> tuple[int, int, dict[Decimal, Decimal], dict[Decimal, Decimal]] | None:
        """(first update id, last update id, changed bids, changed asks) since the last
        call, or None when nothing changed.  A removed level has total zero."""
        if self.first_pending_id is None:
            return None
        out = (self.first_pending_id, self.update_id, self.changed_bids, self.changed_asks)
        self.first_pending_id = None
        self.changed_bids = {}
        self.changed_asks = {}
        return out
