"""The metrics sink: every exchange call's outcome, aggregated in memory, added to the DB.

`MetricsSink.record` is a `MetricsCollector` hook: it runs on the event loop after every REST
call and only bumps counters in a dict (no I/O). `flush()` (sync, called every few seconds by
the agent through `sync_to_async`) adds the counters to `ApiCallStat` / `ApiCallTotal` rows with
`count = count + n`, so several processes add up instead of overwriting each other.

Each call is counted under its subaccount label (the client's `label`, the subaccount's pk) as
`calls`, `requests` (HTTP requests including retries: what the exchange's rate limit counts),
`outcome:<ok|ErrorClass>`, `status:<http>`, `code:<exchange code>`, `latency:<i>` and, for the
problems the alerts watch, `kind:<auth|expired|rate_limited|server_error|unavailable>`.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from trading.backpack import CallRecord

# Latency histogram: bucket i holds latencies in (GROWTH**(i-1), GROWTH**i] ms; bucket 0 holds
# everything up to 1 ms. Mergeable across processes, ~19% precision on percentiles.
GROWTH = 1.2
MAX_BUCKET = 80  # 1.2**80 ms is over 6 hours

# An expired request is told apart by measurement, never by the message: a refused signed
# call that took at least its signature window (X-Window) could not arrive in time. (A clock
# that drifted is re-measured and the call resent by the session itself.) The exchange also
# uses INVALID_CLIENT_REQUEST for refused X-Timestamp / X-Window headers.
EXPIRED_CODE = "INVALID_CLIENT_REQUEST"
DEFAULT_WINDOW_MS = 5000

KINDS = ("auth", "expired", "rate_limited", "server_error", "unavailable")


def latency_bucket(latency_ms: float) -> int:
    """The histogram bucket of a latency in milliseconds."""
    if not latency_ms or latency_ms <= 1 or math.isnan(latency_ms):
        return 0
    return min(MAX_BUCKET, math.ceil(math.log(latency_ms, GROWTH) - 1e-9))


def bucket_upper_ms(index: int) -> float:
    """The upper bound (ms) of a latency bucket."""
    return GROWTH**index


def call_kind(record: CallRecord, window_ms: float = DEFAULT_WINDOW_MS) -> str | None:
    """Which watched problem a finished call was, if any (`window_ms`: the session's
    signature window)."""
    outcome = record.outcome
    if outcome == "ok":
        return None
    refused = outcome in ("AuthenticationError", "RequestRejectedError")
    if refused and (record.code == EXPIRED_CODE or record.latency_ms >= window_ms):
        return "expired"
    if outcome == "AuthenticationError":
        return "auth"
    if outcome == "RateLimitedError" or record.status == 429:
        return "rate_limited"
    if outcome in ("ServerError", "MaintenanceError") or (record.status or 0) >= 500:
        return "server_error"
    if outcome == "ExchangeUnavailableError":
        return "unavailable"
    return None


def bucket_start(moment: datetime, bucket_s: int) -> datetime:
    """`moment` floored to its bucket of `bucket_s` seconds (UTC)."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % bucket_s, tz=UTC)


class MetricsSink:
    """In-memory counters of exchange calls, flushed to the database by `flush()`."""

    def __init__(self, *, bucket_s: int = 10, now=None) -> None:
        if bucket_s < 1:
            raise ValueError("bucket_s must be at least 1 second")
        self.bucket_s = bucket_s
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._stats: Counter[tuple[str, datetime, str]] = Counter()
        self._totals: Counter[tuple[str, str]] = Counter()

    def record(self, record: CallRecord, window_ms: float = DEFAULT_WINDOW_MS) -> None:
        """Count one finished call (a `MetricsCollector` hook; never raises, never blocks)."""
        label = (record.label or "public")[:40]
        bucket = bucket_start(self._now(), self.bucket_s)
        metrics = [
            "calls",
            f"outcome:{record.outcome}"[:80],
            f"latency:{latency_bucket(record.latency_ms)}",
        ]
        if record.status is not None:
            metrics.append(f"status:{record.status}")
        if record.code:
            metrics.append(f"code:{record.code}"[:80])
        kind = call_kind(record, window_ms)
        if kind:
            metrics.append(f"kind:{kind}")
        with self._lock:
            for metric in metrics:
                self._stats[(label, bucket, metric)] += 1
            self._stats[(label, bucket, "requests")] += max(int(record.attempts or 1), 1)
            self._totals[(label, record.outcome[:60])] += 1

    def pending(self) -> int:
        """How many counters wait for the next flush."""
        with self._lock:
            return len(self._stats) + len(self._totals)

    def _take(self) -> tuple[Counter, Counter]:
        with self._lock:
            stats, totals = self._stats, self._totals
            self._stats, self._totals = Counter(), Counter()
        return stats, totals

    def flush(self) -> int:
        """Add the counters to the database; returns how many rows were touched.

        When the database fails, the counters are put back and the error propagates (the
        agent logs it and tries again at the next tick).
        """
        from trading.models import ApiCallStat, ApiCallTotal

        stats, totals = self._take()
        try:
            for (label, bucket, metric), count in stats.items():
                _add(ApiCallStat, {"label": label, "bucket": bucket, "metric": metric}, count)
            for (label, outcome), count in totals.items():
                _add(ApiCallTotal, {"label": label, "outcome": outcome}, count)
        except Exception:
            with self._lock:
                self._stats.update(stats)
                self._totals.update(totals)
            raise
        return len(stats) + len(totals)

    def prune(self, *, keep: timedelta = timedelta(hours=2)) -> int:
        """Delete statistics older than `keep`; returns how many rows went."""
        from trading.models import ApiCallStat

        deleted, _ = ApiCallStat.objects.filter(bucket__lt=self._now() - keep).delete()
        return deleted


def _add(model, key: dict, count: int) -> None:
    """`count = count + n` on the row `key`, creating it when missing (race-safe)."""
    if model.objects.filter(**key).update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, count=count)
    except IntegrityError:
        model.objects.filter(**key).update(count=F("count") + count)
