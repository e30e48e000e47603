"""Market metadata cache: loaded once per session, refreshed periodically and on demand."""

from __future__ import annotations

import asyncio
import time

from . import routes as R
from .calls import Calls
from .errors import InvalidOrderError
from .market_types import Market
from .wire import parse_list


class MarketCache:
    """All markets and their filters, keyed by symbol.

    ``get(symbol)`` loads the list the first time, reloads it after ``refresh_s`` seconds,
    and reloads once more when the symbol is unknown (a market may have just been listed).
    ``invalidate()`` forces a reload (the client calls it on INVALID_MARKET).
    """

    def __init__(self, session: Calls, *, refresh_s: float = 300.0) -> None:
        self.session = session
        self.refresh_s = refresh_s
        self._markets: dict[str, Market] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()
        self.unknown_reload_s = 10.0
        self._unknown_reload_at = -1e9

    def invalidate(self) -> None:
        """Forget the loaded markets; the next ``get`` reloads them."""
        self._loaded_at = None

    def _fresh(self) -> bool:
        return self._loaded_at is not None and time.monotonic() - self._loaded_at < self.refresh_s

    async def load(self, *, force: bool = False) -> dict[str, Market]:
        """Load (or reload) every market; concurrent callers share one request."""
        loaded_before = self._loaded_at
        async with self._lock:
            if self._fresh() and not (force and self._loaded_at == loaded_before):
                return self._markets
            payload = await self.session.call(R.MARKETS)
            markets = parse_list(R.MARKETS.label, Market.from_wire, payload)
            self._markets = {m.symbol: m for m in markets}
            self._loaded_at = time.monotonic()
            return self._markets

    async def all(self) -> dict[str, Market]:
        """Every market, keyed by symbol."""
        if not self._fresh():
            await self.load()
        return self._markets

    async def get(self, symbol: str) -> Market:
        """One market's rules; raises ``InvalidOrderError`` (field ``symbol``) if unknown."""
        if not isinstance(symbol, str):
            raise InvalidOrderError(
                f"The market must be named by its symbol, not {type(symbol).__name__}.",
                field="symbol",
            )
        markets = await self.all()
        market = markets.get(symbol)
        if market is None and self._may_reload_for_unknown():
            markets = await self.load(force=True)
            market = markets.get(symbol)
        if market is None:
            raise InvalidOrderError(
                f"There is no market {symbol!r} on the exchange.",
                field="symbol",
                action="Pick a market from the list.",
            )
        return market

    def _may_reload_for_unknown(self) -> bool:
        # An unknown symbol reloads the list (a market may have just been listed), but at
        # most every ``unknown_reload_s`` so a typo cannot flood the exchange.
        now = time.monotonic()
        if now - self._unknown_reload_at < self.unknown_reload_s:
            return False
        self._unknown_reload_at = now
        return True

    def fresh(self, symbol: str) -> Market | None:
        """The market if loaded and not due for a refresh (no I/O, no await)."""
        return self._markets.get(symbol) if self._fresh() else None

    def cached(self, symbol: str) -> Market | None:
        """The market if already loaded (no I/O)."""
        return self._markets.get(symbol)
