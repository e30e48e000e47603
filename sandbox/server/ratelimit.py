"""Request budgets per API key: sliding one-minute windows, standard and historical."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class RateLimiter:
    """Counts requests per (key, category) over the last minute.

    ``limits`` maps a category ("standard", "historical") to requests per minute; a limit
    of 0 turns that category's check off.
    """

    def __init__(self, limits: dict[str, int], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self.clock = clock
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def allow(self, key: str, category: str) -> bool:
        """Record one request; False when it is over the budget (then it is not counted)."""
        limit = self.limits.get(category, 0)
        if limit <= 0:
            return True
        now = self.clock()
        seen = self._seen.get((key, category))
        if seen is None:
            seen = self._seen[(key, category)] = deque()
        horizon = now - WINDOW_S
        while seen and seen[0] <= horizon:
            seen.popleft()
        if len(seen) >= limit:
            return False
        seen.append(now)
        return True

    def retry_after_s(self, key: str, category: str) -> int:
        """Seconds until the oldest counted request leaves the window."""
        seen = self._seen.get((key, category))
        if not seen:
            return 1
        return max(1, int(seen[0] + WINDOW_S - self.clock()) + 1)

    def reset(self) -> None:
        """Forget every count."""
        self._seen.clear()
