"""Health read models: per-subaccount call statistics over the last hour, streams, clock.

Everything here reads the database only (what every process flushed), so the page shows the
figures of the whole deployment, not of the process that happens to answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum

from trading.monitoring.sink import bucket_upper_ms

HOUR = timedelta(hours=1)
STANDARD_BUDGET = 2000  # requests per minute per API key on standard routes (exchange FAQ)


@dataclass(frozen=True)
class CallHealth:
    """One subaccount label's exchange calls over a period."""

    label: str
    calls: int
    ok: int
    auth_failures: int
    expired: int
    rate_limited: int
    server_errors: int
    unavailable: int
    requests_last_minute: int
    p50_ms: float | None
    p99_ms: float | None
    error_codes: tuple[tuple[str, int], ...]

    @property
    def error_rate(self) -> float:
        return 0.0 if not self.calls else (self.calls - self.ok) / self.calls

    @property
    def budget_left(self) -> int:
        """Standard requests left of the exchange's 2000 a minute for this key (every process
        of the deployment counted)."""
        return max(STANDARD_BUDGET - self.requests_last_minute, 0)


@dataclass(frozen=True)
class StreamRow:
    """A stream's state for the health page."""

    name: str
    connected: bool
    state: str
    since: datetime
    last_message_at: datetime | None
    last_message_age_s: float | None
    reported_at: datetime


def percentile_ms(histogram: Counter[int], fraction: float) -> float | None:
    """The latency (upper bucket bound, ms) under which `fraction` of the calls fell."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = fraction * total
    running = 0
    for index in sorted(histogram):
        running += histogram[index]
        if running >= wanted:
            return round(bucket_upper_ms(index), 1)
    return round(bucket_upper_ms(max(histogram)), 1)


def call_health(
    *, labels: list[str], now: datetime, period: timedelta = HOUR
) -> dict[str, CallHealth]:
    """Call statistics of each label since `now - period`."""
    from trading.models import ApiCallStat

    rows = (
        ApiCallStat.objects.filter(label__in=labels, bucket__gt=now - period)
        .values("label", "metric")
        .annotate(n=Sum("count"))
    )
    last_minute = {
        row["label"]: row["n"]
        for row in ApiCallStat.objects.filter(
            label__in=labels, metric="requests", bucket__gt=now - timedelta(seconds=60)
        )
        .values("label")
        .annotate(n=Sum("count"))
    }
    sums: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for row in rows:
        sums[row["label"]][row["metric"]] += row["n"]
    result = {}
    for label, metrics in sums.items():
        histogram: Counter[int] = Counter(
            {int(m.split(":", 1)[1]): n for m, n in metrics.items() if m.startswith("latency:")}
        )
        codes = sorted(
            ((m.split(":", 1)[1], n) for m, n in metrics.items() if m.startswith("code:")),
            key=lambda item: (-item[1], item[0]),
        )
        result[label] = CallHealth(
            label=label,
            calls=metrics["calls"],
            ok=metrics["outcome:ok"],
            auth_failures=metrics["kind:auth"],
            expired=metrics["kind:expired"],
            rate_limited=metrics["kind:rate_limited"],
            server_errors=metrics["kind:server_error"],
            unavailable=metrics["kind:unavailable"],
            requests_last_minute=last_minute.get(label, 0),
            p50_ms=percentile_ms(histogram, 0.50),
            p99_ms=percentile_ms(histogram, 0.99),
            error_codes=tuple(codes),
        )
    return result


def stream_rows(*, now: datetime, names: list[str] | None = None) -> list[StreamRow]:
    """Every reported stream (or those named), with the age of its last message."""
    from trading.models import StreamState

    streams = StreamState.objects.all()
    if names is not None:
        streams = streams.filter(name__in=names)
    return [
        StreamRow(
            name=s.name,
            connected=s.connected,
            state=s.state or ("connected" if s.connected else "disconnected"),
            since=s.changed_at,
            last_message_at=s.last_message_at,
            last_message_age_s=(now - s.last_message_at).total_seconds()
            if s.last_message_at
            else None,
            reported_at=s.updated_at,
        )
        for s in streams
    ]


def stream_title(name: str, subaccount_names: dict[int, str]) -> str:
    """A stream as a person names it: "Desk A (account events)", "SOL_USDC (market data)"."""
    kind, _, rest = name.partition(".")
    if kind == "subaccount" and rest.isdigit():
        owner = subaccount_names.get(int(rest), f"subaccount {rest}")
        return f"{owner} (account events)"
    if kind == "market" and rest:
        return f"{rest} (market data)"
    return name


def clock_offset_ms() -> int | None:
    """The last measured offset between this deployment's clock and the exchange's."""
    from trading.models import Gauge

    return (
        Gauge.objects.filter(name="clock_offset_ms", label="")
        .values_list("value", flat=True)
        .first()
    )
