"""Recent public trades of one market: newest first, no duplicates, no gaps.

A pure object (no I/O), like ``OrderBook``. Its owner merges the REST list
(``GET /api/v1/trades``, oldest first) and each ``trade`` stream frame into it; both are keyed
by trade id, so a trade seen twice (the REST list overlapping the stream) is kept once. After
a reconnect the owner merges the REST list again: the newest ``keep`` trades from REST are
contiguous, so whatever the stream missed is filled in and nothing older is left above a hole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .market_types import Trade


def _newest_first_key(trade: Trade) -> tuple[int, int]:
    # the exchange numbers a market's trades in order; one without an id sorts below them
    return (trade.id if trade.id is not None else -1, trade.timestamp)


def newest_first(trades: Iterable[Trade]) -> list[Trade]:
    """The trades, duplicates (same id) dropped, highest trade id first."""
    unique: dict[Any, Trade] = {}
    for trade in trades:
        unique[trade.id if trade.id is not None else trade] = trade
    return sorted(unique.values(), key=_newest_first_key, reverse=True)


class RecentTrades:
    """The newest ``keep`` trades of one market."""

    __slots__ = ("keep", "_trades")

    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self._trades: list[Trade] = []

    def merge(self, trades: Iterable[Trade]) -> bool:
        """Add trades (any order, duplicates allowed); True when the list changed."""
        merged = newest_first([*self._trades, *trades])[: self.keep]
        changed = merged != self._trades
        self._trades = merged
        return changed

    def add(self, trade: Trade) -> bool:
        """Add one trade from the stream; True when it was new (not a duplicate, not older
        than everything kept)."""
        newest = self._trades[0] if self._trades else None
        if newest is not None and trade.id is not None and newest.id is not None:
            if trade.id > newest.id:  # the usual case: the next trade, no sort needed
                self._trades.insert(0, trade)
                del self._trades[self.keep :]
                return True
        return self.merge([trade])

    def newest_first(self) -> list[Trade]:
        """The trades kept, newest first."""
        return list(self._trades)

    def __len__(self) -> int:
        return len(self._trades)
