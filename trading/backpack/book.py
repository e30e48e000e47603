"""A local order book: REST snapshot plus depth deltas with the ``U``/``u`` check.

A pure object (no I/O). The owner (``BookKeeper``) feeds it a snapshot and the stream's
deltas; when a delta does not follow the previous one (``U != previous u + 1``) ``apply``
raises ``BookGap`` and the owner resynchronises: new snapshot, buffered deltas replayed.

Prices are kept in a dict per side plus a sorted list of prices (``bisect``), so a level
update costs two ``Decimal`` parses and a dict write; best price and top-N are O(1)/O(N).
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

Level = tuple[Decimal, Decimal]


class BookGap(Exception):
    """A depth delta does not follow the last one applied: the book must be resynchronised."""

    def __init__(self, symbol: str, expected: int, got_first: int, got_last: int) -> None:
        super().__init__(
            f"Depth gap on {symbol}: expected update {expected}, got {got_first}..{got_last}."
        )
        self.symbol = symbol
        self.expected = expected
        self.got_first = got_first
        self.got_last = got_last


class OrderBook:
    """Bids and asks of one market, kept in step with the exchange's update ids."""

    __slots__ = (
        "symbol",
        "bids",
        "asks",
        "_bid_px",
        "_ask_px",
        "_parsed",
        "last_update_id",
        "synced",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self._bid_px: list[Decimal] = []  # ascending; best bid is the last
        self._ask_px: list[Decimal] = []  # ascending; best ask is the first
        self._parsed: dict[Any, Decimal] = {}
        self.last_update_id = 0
        self.synced = False

    # -- feeding -----------------------------------------------------------------------

    def load_snapshot(
        self,
        bids: Iterable[Sequence[Any]],
        asks: Iterable[Sequence[Any]],
        last_update_id: int,
    ) -> None:
        """Replace the book with a REST snapshot (levels as ``(price, qty)``, text or Decimal)."""
        self.bids = {Decimal(p): Decimal(q) for p, q in bids if Decimal(q)}
        self.asks = {Decimal(p): Decimal(q) for p, q in asks if Decimal(q)}
        self._bid_px = sorted(self.bids)
        self._ask_px = sorted(self.asks)
        self.last_update_id = int(last_update_id)
        self.synced = False

    def apply(self, first_id: int, last_id: int, bids: Sequence[Any], asks: Sequence[Any]) -> bool:
        """Apply one delta (``U``=``first_id``, ``u``=``last_id``).

        Returns False for a delta already contained in the snapshot (ignored); raises
        ``BookGap`` when the delta does not follow the last applied update.
        """
        last = self.last_update_id
        if last_id <= last:
            return False
        if self.synced:
            if first_id != last + 1:
                raise BookGap(self.symbol, last + 1, first_id, last_id)
        elif first_id > last + 1:
            raise BookGap(self.symbol, last + 1, first_id, last_id)
        if bids:
            _update(self.bids, self._bid_px, bids, self._parsed)
        if asks:
            _update(self.asks, self._ask_px, asks, self._parsed)
        self.last_update_id = last_id
        self.synced = True
        return True

    def apply_message(self, data: dict[str, Any]) -> bool:
        """Apply a ``depth`` stream payload:
        ``{"e":"depth","s":"SOL_USDC","a":[["18.70","0.000"]],"b":[["18.67","0.832"]],
        "U":94978271,"u":94978271,"T":1694687965940999}``."""
        return self.apply(int(data["U"]), int(data["u"]), data.get("b") or (), data.get("a") or ())

    # -- reading -----------------------------------------------------------------------

    def best_bid(self) -> Level | None:
        """Highest bid ``(price, quantity)``."""
        if not self._bid_px:
            return None
        price = self._bid_px[-1]
        return price, self.bids[price]

    def best_ask(self) -> Level | None:
        """Lowest ask ``(price, quantity)``."""
        if not self._ask_px:
            return None
        price = self._ask_px[0]
        return price, self.asks[price]

    def spread(self) -> Decimal | None:
        """Best ask minus best bid (None when a side is empty)."""
        if not self._bid_px or not self._ask_px:
            return None
        return self._ask_px[0] - self._bid_px[-1]

    def top(self, n: int = 10) -> tuple[list[Level], list[Level]]:
        """The best ``n`` bids (highest first) and asks (lowest first)."""
        bids = [(p, self.bids[p]) for p in reversed(self._bid_px[-n:])] if n else []
        asks = [(p, self.asks[p]) for p in self._ask_px[:n]]
        return bids, asks

    def checksum(self, depth: int = 25) -> int:
        """CRC32 of the top ``depth`` levels as ``b:price:qty,...|a:price:qty,...`` (plain
        decimals, trailing zeros removed), so two books holding the same levels agree."""
        bids, asks = self.top(depth)
        text = "b:" + ",".join(f"{_norm(p)}:{_norm(q)}" for p, q in bids)
        text += "|a:" + ",".join(f"{_norm(p)}:{_norm(q)}" for p, q in asks)
        return zlib.crc32(text.encode())

    def __len__(self) -> int:
        return len(self.bids) + len(self.asks)


def _norm(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_PRICE_CACHE_MAX = 1 << 16


def _update(
    side: dict[Decimal, Decimal],
    prices: list[Decimal],
    levels: Sequence[Any],
    cache: dict[Any, Decimal],
) -> None:
    # Prices repeat (a book lives on a small grid): parse each text once. A quantity made
    # only of zeros removes the level without being parsed.
    for price_text, qty_text in levels:
        price = cache.get(price_text)
        if price is None:
            price = Decimal(price_text)
            if len(cache) < _PRICE_CACHE_MAX:
                cache[price_text] = price
        if type(qty_text) is str and qty_text and not qty_text.strip("0."):
            qty = None
        else:
            qty = Decimal(qty_text)
        if qty:
            if price not in side:
                insort(prices, price)
            side[price] = qty
        elif price in side:
            del side[price]
            del prices[bisect_left(prices, price)]
