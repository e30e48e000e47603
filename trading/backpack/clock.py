"""The exchange's clock as seen from here: local time plus a measured offset."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


class ExchangeClock:
    """Keeps the offset between the local clock and the exchange's (``GET /api/v1/time``).

    ``now_ms()`` is what goes into ``X-Timestamp``. The offset is measured at first use,
    every ``refresh_s`` seconds, and whenever the owner calls ``resync()`` (after the
    exchange rejected a request's timestamp). ``local_ms`` is injectable for tests.
    """

    def __init__(
        self,
        *,
        refresh_s: float = 300.0,
        local_ms: Callable[[], int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refresh_s = refresh_s
        self.local_ms = local_ms or (lambda: time.time_ns() // 1_000_000)
        self.monotonic = monotonic
        self.offset_ms = 0
        self.round_trip_ms: float | None = None
        self.measured_at: float | None = None

    def now_ms(self) -> int:
        """Exchange time in milliseconds (local time corrected by the offset)."""
        return self.local_ms() + self.offset_ms

    def is_stale(self) -> bool:
        """True when the offset was never measured or is older than ``refresh_s``."""
        return self.measured_at is None or self.monotonic() - self.measured_at > self.refresh_s

    async def resync(self, fetch_server_ms: Callable[[], Awaitable[int]]) -> int:
        """Measure the offset now (midpoint of the round trip) and return it."""
        before = self.local_ms()
        t0 = self.monotonic()
        server_ms = await fetch_server_ms()
        rtt = (self.monotonic() - t0) * 1000.0
        after = self.local_ms()
        self.offset_ms = int(server_ms - (before + after) / 2)
        self.round_trip_ms = rtt
        self.measured_at = self.monotonic()
        return self.offset_ms
