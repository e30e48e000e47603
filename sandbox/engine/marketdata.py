"""Public market data of one market: trades, candles (klines), rolling ticker stats.

Trades are kept as tuples; candles are stored at one minute and aggregated on demand to
every Backpack interval (1m ... 1month), so recording a trade costs one dict update.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .markets import ZERO

_FMT = format

INTERVAL_SECONDS = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "3d": 259200,
    "1w": 604800,
    "1month": 0,  # calendar month
}
TICKER_INTERVALS = {"1d": 86400, "1w": 604800}
TRADE_HISTORY_LIMIT = 50_000
"""Trades kept per market (klines and tickers come from candles, which are all kept)."""
_MONDAY_OFFSET = 4 * 86400  # the epoch was a Thursday; weeks start on Monday

Trade = tuple[int, Decimal, Decimal, Decimal, int, bool, int, int]
"""(tradeId, price, quantity, quoteQuantity, engine time us, isBuyerMaker, buyer order id,
seller order id)."""


def interval_start(interval: str, ts: int) -> int:
    """Start (epoch seconds) of the ``interval`` candle holding second ``ts``."""
    seconds = INTERVAL_SECONDS[interval]
    if seconds == 0:
        moment = datetime.fromtimestamp(ts, tz=UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp())
    if interval == "1w":
        return ts - (ts - _MONDAY_OFFSET) % seconds
    return ts - ts % seconds


def interval_end(interval: str, start: int) -> int:
    """End (epoch seconds, exclusive) of the candle starting at ``start``."""
    seconds = INTERVAL_SECONDS[interval]
    if seconds:
        return start + seconds
    moment = datetime.fromtimestamp(start, tz=UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def _rest_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _stream_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


class MarketData:
    """Trades and candles of one market."""

    __slots__ = (
        "symbol",
        "trades",
        "minutes",
        "minute_starts",
        "next_trade_id",
        "last_price",
        "dirty",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.trades: deque[Trade] = deque(maxlen=TRADE_HISTORY_LIMIT)
        # minute start (s) -> [open, high, low, close, volume, quoteVolume, trades]
        self.minutes: dict[int, list[Any]] = {}
        self.minute_starts: list[int] = []  # sorted keys of ``minutes``
        self.next_trade_id = 1
        self.last_price: Decimal | None = None
        self.dirty = False

    def record_trade(
        self,
        price: Decimal,
        quantity: Decimal,
        now_us: int,
        buyer_is_maker: bool,
        buyer_order_id: int,
        seller_order_id: int,
    ) -> Trade:
        """Append a trade (next sequential id) and fold it into its minute candle."""
        trade_id = self.next_trade_id
        self.next_trade_id = trade_id + 1
        quote = price * quantity
        trade = (
            trade_id,
            price,
            quantity,
            quote,
            now_us,
            buyer_is_maker,
            buyer_order_id,
            seller_order_id,
        )
        self.trades.append(trade)
        self.last_price = price
        self.dirty = True
        minute = now_us // 60_000_000 * 60
        candle = self.minutes.get(minute)
        if candle is None:
            self.minutes[minute] = [price, price, price, price, quantity, quote, 1]
            starts = self.minute_starts
            if not starts or minute > starts[-1]:
                starts.append(minute)
            else:
                insort(starts, minute)
        else:
            if price > candle[1]:
                candle[1] = price
            elif price < candle[2]:
                candle[2] = price
            candle[3] = price
            candle[4] += quantity
            candle[5] += quote
            candle[6] += 1
        return trade

    def add_candle(self, start: int, candle: list[Any]) -> None:
        """Put a whole candle of history, ``[o, h, l, c, volume, quoteVolume, trades]`` from
        ``start`` (seconds, on a minute, after every candle here, before any trade)."""
        starts = self.minute_starts
        if self.trades or (starts and start <= starts[-1]) or start % 60:
            raise ValueError(f"history candle at {start} is out of order")
        self.minutes[start] = list(candle)
        starts.append(start)

    # ------------------------------------------------------------------ queries
    def candles(self, interval: str, start: int, end: int) -> list[tuple[int, list[Any]]]:
        """Aggregated (start, [o, h, l, c, v, qv, n]) candles whose start is in
        [start, end), ascending."""
        out: dict[int, list[Any]] = {}
        first = interval_start(interval, start) if interval != "1m" else start - start % 60
        starts = self.minute_starts
        bucket = bucket_end = -1
        for minute in starts[bisect_left(starts, first) : bisect_left(starts, end)]:
            if minute >= bucket_end:  # minutes ascend: compute each bucket once
                bucket = interval_start(interval, minute) if interval != "1m" else minute
                bucket_end = interval_end(interval, bucket)
            if bucket < start:
                continue
            o, h, low, c, v, qv, n = self.minutes[minute]
            agg = out.get(bucket)
            if agg is None:
                out[bucket] = [o, h, low, c, v, qv, n]
            else:
                agg[1] = max(agg[1], h)
                agg[2] = min(agg[2], low)
                agg[3] = c
                agg[4] += v
                agg[5] += qv
                agg[6] += n
        return sorted(out.items())

    def klines(self, interval: str, start: int, end: int) -> list[dict[str, Any]]:
        """The spec's ``Kline`` list (REST)."""
        return [
            {
                "start": _rest_time(bucket),
                "end": _rest_time(interval_end(interval, bucket)),
                "open": _FMT(o, "f"),
                "high": _FMT(h, "f"),
                "low": _FMT(low, "f"),
                "close": _FMT(c, "f"),
                "volume": _FMT(v, "f"),
                "quoteVolume": _FMT(qv, "f"),
                "trades": str(n),
            }
            for bucket, (o, h, low, c, v, qv, n) in self.candles(interval, start, end)
        ]

    def kline_event(self, interval: str, now_us: int, closed_start: int | None = None):
        """The ``kline`` stream payload for the current candle (or the candle starting at
        ``closed_start``, marked closed); None when that candle has no trades."""
        now_s = now_us // 1_000_000
        bucket = closed_start if closed_start is not None else interval_start(interval, now_s)
        end = interval_end(interval, bucket)
        rows = self.candles(interval, bucket, end)
        if not rows:
            return None
        o, h, low, c, v, _qv, n = rows[0][1]
        return {
            "e": "kline",
            "E": now_us,
            "s": self.symbol,
            "t": _stream_time(bucket),
            "T": _stream_time(end),
            "o": _FMT(o, "f"),
            "c": _FMT(c, "f"),
            "h": _FMT(h, "f"),
            "l": _FMT(low, "f"),
            "v": _FMT(v, "f"),
            "n": n,
            "X": closed_start is not None,
        }

    def stats(self, window_s: int, now_us: int) -> tuple[Any, ...]:
        """(first, last, high, low, volume, quoteVolume, trades) over the last
        ``window_s`` seconds (minute resolution)."""
        now_s = now_us // 1_000_000
        rows = self.candles("1m", now_s - window_s + 60, now_s + 60)
        last = self.last_price if self.last_price is not None else ZERO
        if not rows:
            return last, last, last, last, ZERO, ZERO, 0
        first = rows[0][1][0]
        high = max(r[1][1] for r in rows)
        low = min(r[1][2] for r in rows)
        volume = sum((r[1][4] for r in rows), ZERO)
        quote = sum((r[1][5] for r in rows), ZERO)
        count = sum(r[1][6] for r in rows)
        return first, rows[-1][1][3], high, low, volume, quote, count

    def ticker(self, interval: str, now_us: int) -> dict[str, Any]:
        """The spec's ``Ticker`` (REST)."""
        first, last, high, low, volume, quote, count = self.stats(
            TICKER_INTERVALS[interval], now_us
        )
        change = last - first
        # A fraction, as the exchange sends it ("-0.031279" is -3.13 %).
        percent = (change / first).quantize(Decimal("0.000001")) if first else ZERO
        return {
            "symbol": self.symbol,
            "firstPrice": _FMT(first, "f"),
            "lastPrice": _FMT(last, "f"),
            "priceChange": _FMT(change, "f"),
            "priceChangePercent": _FMT(percent, "f"),
            "high": _FMT(high, "f"),
            "low": _FMT(low, "f"),
            "volume": _FMT(volume, "f"),
            "quoteVolume": _FMT(quote, "f"),
            "trades": str(count),
        }

    def ticker_event(self, now_us: int) -> dict[str, Any]:
        """The ``ticker`` stream payload (24h rolling)."""
        first, last, high, low, volume, quote, count = self.stats(86400, now_us)
        return {
            "e": "ticker",
            "E": now_us,
            "s": self.symbol,
            "o": _FMT(first, "f"),
            "c": _FMT(last, "f"),
            "h": _FMT(high, "f"),
            "l": _FMT(low, "f"),
            "v": _FMT(volume, "f"),
            "V": _FMT(quote, "f"),
            "n": count,
        }

    def trade_wire(self, trade: Trade) -> dict[str, Any]:
        """The spec's ``Trade`` (REST)."""
        trade_id, price, quantity, quote, ts, buyer_maker, _b, _s = trade
        return {
            "id": trade_id,
            "price": _FMT(price, "f"),
            "quantity": _FMT(quantity, "f"),
            "quoteQuantity": _FMT(quote, "f"),
            "timestamp": ts // 1000,
            "isBuyerMaker": buyer_maker,
        }
