"""Funding and the periodic streams (mixed into :class:`~sandbox.engine.engine.Engine`).

The server drives time: it calls :meth:`publish_market_data` about once a second (ticker,
kline, markPrice, openInterest streams) and :meth:`settle_funding` at the end of each
funding interval.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from .errors import bad_request
from .events import Event
from .marketdata import INTERVAL_SECONDS, interval_start
from .markets import CONTEXT
from .orders import us_to_iso
from .parsing import parse_decimal

_CONTEXT = CONTEXT


class PeriodicMixin:
    """Funding settlement and periodic market-data events."""

    def set_funding_rate(self, symbol: str, rate: Decimal | str) -> None:
        """Set the estimated funding rate shown in mark prices for a perpetual."""
        market = self.market(symbol)
        if not market.is_perp:
            raise bad_request("Funding applies to perpetual markets only")
        self._funding_rate[symbol] = parse_decimal(rate, "fundingRate", positive=False)

    def settle_funding(self, symbol: str, rate: Decimal | str | None = None) -> None:
        """End a funding interval: longs pay shorts ``rate * notional`` at mark price
        (negative rate: shorts pay longs); records a funding-rate history row, and for
        each position a funding payment and a ``FundingPayment`` settlement.

        The interval ends when it was due, or now if that is earlier (then the next one
        still ends when the current one was due): an interval's end is never in the
        future, so a payment falls on the day its ``intervalEndTimestamp`` says."""
        with localcontext(_CONTEXT):
            self._begin()
            market = self.market(symbol)
            if not market.is_perp:
                raise bad_request("Funding applies to perpetual markets only")
            if rate is not None:
                self.set_funding_rate(symbol, rate)
            funding = self._funding_rate[symbol]
            mark = self.mark_price_of(symbol)
            scheduled_ms = self._next_funding_ms[symbol]
            # settled early (a test, the control route): the interval ends now, and the
            # rest of the scheduled one is a new interval ending when it was due
            end_ms = min(scheduled_ms, self._now // 1000)
            end_iso = us_to_iso(end_ms * 1000)
            if mark is not None:
                for account in self._accounts.values():
                    position = account.positions.get(symbol)
                    if position is None:
                        continue
                    payment = -position.net_quantity * mark * funding
                    account.balance(self.collateral_symbol).available += payment
                    position.cumulative_funding += payment
                    self._last_sequence += 1
                    account.settlements.append(
                        (
                            self._last_sequence,
                            self._now,
                            "FundingPayment",
                            payment,
                            position.position_id,
                            account.subaccount_id,
                        )
                    )
                    account.funding_payments.append(
                        {
                            "userId": 1,
                            "subaccountId": account.subaccount_id,
                            "symbol": symbol,
                            "quantity": format(payment, "f"),
                            "intervalEndTimestamp": end_iso,
                            "fundingRate": format(funding, "f"),
                        }
                    )
            self._funding_history[symbol].append(
                {
                    "symbol": symbol,
                    "intervalEndTimestamp": end_iso,
                    "fundingRate": format(funding, "f"),
                }
            )
            if end_ms == scheduled_ms:
                self._next_funding_ms[symbol] = scheduled_ms + market.funding_interval
            self._finish()

    def settle_due_funding(self) -> list[str]:
        """Settle every perpetual whose funding interval has ended by engine time (at its
        current estimated rate); returns their symbols.  Call it from a periodic task."""
        now_ms = self.now_us() // 1000
        due = [s for s, end_ms in self._next_funding_ms.items() if end_ms <= now_ms]
        for symbol in due:
            self.settle_funding(symbol)
        return due

    def publish_market_data(self) -> None:
        """Emit the periodic streams (ticker, kline, markPrice, openInterest) for markets
        that changed since the last call; the server calls this about once a second."""
        with localcontext(_CONTEXT):
            self._begin()
            now = self._now
            now_s = now // 1_000_000
            for symbol, data in self._data.items():
                market = self._markets[symbol]
                if market.is_perp and self.mark_price_of(symbol) is not None:
                    self._batch.append(
                        Event(f"markPrice.{symbol}", self._mark_event(market), symbol)
                    )
                    self._batch.append(
                        Event(
                            f"openInterest.{symbol}",
                            {
                                "e": "openInterest",
                                "E": now,
                                "s": symbol,
                                "o": format(self._open_interest[symbol], "f"),
                            },
                            symbol,
                        )
                    )
                for interval in INTERVAL_SECONDS:
                    key = (symbol, interval)
                    start = interval_start(interval, now_s)
                    previous = self._published_klines.get(key)
                    if previous is not None and previous != start:
                        closed = data.kline_event(interval, now, closed_start=previous)
                        if closed is not None:
                            self._batch.append(Event(f"kline.{interval}.{symbol}", closed, symbol))
                        del self._published_klines[key]
                    if data.dirty:
                        event = data.kline_event(interval, now)
                        if event is not None:
                            self._published_klines[key] = start
                            self._batch.append(Event(f"kline.{interval}.{symbol}", event, symbol))
                        elif data.trades and previous is None:
                            # The trades since the last tick all fell in an interval that has
                            # ended since (a trade in a minute's last second): its candle,
                            # closed, is what changed.
                            traded = interval_start(interval, data.trades[-1][4] // 1_000_000)
                            closed = data.kline_event(interval, now, closed_start=traded)
                            if closed is not None:
                                self._batch.append(
                                    Event(f"kline.{interval}.{symbol}", closed, symbol)
                                )
                if data.dirty:
                    self._batch.append(Event(f"ticker.{symbol}", data.ticker_event(now), symbol))
                    data.dirty = False
            self._finish()
