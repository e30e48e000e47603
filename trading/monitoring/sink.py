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
import time
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


LATENCY_NAMES = tuple(f"latency:{index}" for index in range(MAX_BUCKET + 1))


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


class MetricsSink:
    """In-memory counters of exchange calls, flushed to the database by `flush()`."""

    def __init__(self, *, bucket_s: int = 10, clock=time.time) -> None:
        if bucket_s < 1:
            raise ValueError("bucket_s must be at least 1 second")
        self.bucket_s = bucket_s
        self._clock = clock
        self._lock = threading.Lock()
        # (label, bucket start in epoch seconds) -> metric -> count
        self._stats: dict[tuple[str, int], Counter[str]] = {}
        self._totals: Counter[tuple[str, str]] = Counter()
        self._names: dict[tuple[str, str | None, int | None], tuple[str, ...]] = {}

    def _metric_names(self, record: CallRecord, window_ms: float) -> tuple[str, ...]:
        """The metric names of a call's outcome, status, code and kind (cached: few shapes)."""
        kind = call_kind(record, window_ms)
        key = (record.outcome, record.code, record.status, kind)
        names = self._names.get(key)
        if names is None:
            found = [f"outcome:{record.outcome}"[:80]]
            if record.status is not None:
                found.append(f"status:{record.status}")
            if record.code:
                found.append(f"code:{record.code}"[:80])
            if kind:
                found.append(f"kind:{kind}")
            names = self._names[key] = tuple(found)
        return names

    def record(self, record: CallRecord, window_ms: float = DEFAULT_WINDOW_MS) -> None:
        """Count one finished call (a `MetricsCollector` hook; never raises, never blocks)."""
        label = (record.label or "public")[:40]
        now = int(self._clock())
        key = (label, now - now % self.bucket_s)
        names = self._metric_names(record, window_ms)
        latency = LATENCY_NAMES[latency_bucket(record.latency_ms)]
        with self._lock:
            metrics = self._stats.get(key)
            if metrics is None:
                metrics = self._stats[key] = Counter()
            metrics["calls"] += 1
            metrics["requests"] += record.attempts if record.attempts > 1 else 1
            metrics[latency] += 1
            for name in names:
                metrics[name] += 1
            self._totals[(label, record.outcome[:60])] += 1

    def pending(self) -> int:
        """How many counters wait for the next flush."""
        with self._lock:
            return sum(len(m) for m in self._stats.values()) + len(self._totals)

    def _take(self) -> tuple[dict, Counter]:
        with self._lock:
            stats, totals = self._stats, self._totals
            self._stats, self._totals = {}, Counter()
        return stats, totals

    def flush(self) -> int:
        """Add the counters to the database; returns how many rows were touched.

        When the database fails, the counters are put back and the error propagates (the
        agent logs it and tries again at the next tick).
        """
        from trading.models import ApiCallStat, ApiCallTotal

        stats, totals = self._take()
        rows = 0
        try:
            for (label, epoch), metrics in stats.items():
                bucket = datetime.fromtimestamp(epoch, tz=UTC)
                for metric, count in metrics.items():
                    _add(ApiCallStat, {"label": label, "bucket": bucket, "metric": metric}, count)
                    rows += 1
            for (label, outcome), count in totals.items():
                _add(ApiCallTotal, {"label": label, "outcome": outcome}, count)
                rows += 1
        except Exception:
            with self._lock:
                for key, metrics in stats.items():
                    self._stats.setdefault(key, Counter()).update(metrics)
                self._totals.update(totals)
            raise
        return rows

    def prune(self, *, keep: timedelta = timedelta(hours=2)) -> int:
        """Delete statistics older than `keep`; returns how many rows went."""
        from trading.models import ApiCallStat

        oldest = datetime.fromtimestamp(self._clock(), tz=UTC) - keep
        deleted, _ = ApiCallStat.objects.filter(bucket__lt=oldest).delete()
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
