"""Retry policy, in one place: which failures are retried, how long to wait, when to stop."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import (
    BackpackError,
    ExchangeUnavailableError,
    MaintenanceError,
    RateLimitedError,
    ServerError,
)

RETRYABLE = (ExchangeUnavailableError, ServerError, RateLimitedError, MaintenanceError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and total time.

    Only reads (idempotent routes) are retried blindly; placing an order goes through
    reconciliation by ``clientId`` instead (see ``orders.py``).
    """

    attempts: int = 5
    base_s: float = 0.05
    cap_s: float = 2.0
    total_s: float = 10.0

    def should_retry(self, error: BackpackError, attempt: int, elapsed_s: float) -> bool:
        """True when ``error`` (on try number ``attempt``, from 1) is worth another try."""
        return isinstance(error, RETRYABLE) and attempt < self.attempts and elapsed_s < self.total_s

    def delay(self, attempt: int, error: BackpackError | None = None) -> float:
        """Seconds to wait before try ``attempt + 1``; honours a 429's ``retry_after``."""
        backoff = random.uniform(0, min(self.cap_s, self.base_s * (2 ** (attempt - 1))))
        if isinstance(error, RateLimitedError) and error.retry_after:
            return max(backoff, min(error.retry_after, self.cap_s * 2))
        return backoff
