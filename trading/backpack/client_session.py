"""What a subaccount client (`client.BackpackClient` and its endpoint groups) needs of the
session it was made by: its calls, its clock and signing window (an order's resends are
matched by time), its market cache, and the exchange's time."""

from __future__ import annotations

from typing import Protocol

from .calls import Calls
from .clock import ExchangeClock
from .markets import MarketCache


class ClientSession(Calls, Protocol):
    clock: ExchangeClock
    window_ms: int
    markets: MarketCache

    async def server_time_ms(self) -> int: ...
