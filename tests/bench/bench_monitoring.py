"""Cost of counting every exchange call: the monitoring sink's hook on the client's hot path.

Run: ``.venv/bin/python -m tests.bench.bench_monitoring``. Prints figures; asserts nothing.
Peer: the client's own ``MetricsCollector.record`` without hooks. The sink adds a dict
increment per metric under a lock; the database flush happens every few seconds elsewhere.
"""

from __future__ import annotations

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from trading.backpack import CallRecord, MetricsCollector  # noqa: E402
from trading.monitoring.sink import MetricsSink  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "200000"))


def records(count: int) -> list[CallRecord]:
    """A mix like a busy desk: mostly ok, some 429s and auth failures, four subaccounts."""
    made = []
    for i in range(count):
        label = str(1 + i % 4)
        if i % 50 == 0:
            made.append(
                CallRecord(label, "balances", 30.0, "RateLimitedError", 429, "TOO_MANY_REQUESTS")
            )
        elif i % 97 == 0:
            made.append(
                CallRecord(label, "balances", 12.0, "AuthenticationError", 401, "UNAUTHORIZED")
            )
        else:
            made.append(CallRecord(label, "order_execute", 3.0 + i % 40, "ok"))
    return made


def per_call_ns(collector: MetricsCollector, batch: list[CallRecord]) -> float:
    started = time.perf_counter_ns()
    for record in batch:
        collector.record(record)
    return (time.perf_counter_ns() - started) / len(batch)


def main() -> None:
    """Print ns per recorded call with and without the sink, and the ratio."""
    batch = records(CALLS)
    bare = per_call_ns(MetricsCollector(), batch)
    hooked = MetricsCollector()
    sink = MetricsSink(bucket_s=10)
    hooked.add_hook(lambda record: sink.record(record, 5000))
    with_sink = per_call_ns(hooked, batch)
    print(f"calls recorded:                  {CALLS}")
    print(f"collector alone (peer):          {bare:8.0f} ns/call")
    print(f"collector + monitoring sink:     {with_sink:8.0f} ns/call")
    print(
        f"sink overhead:                   {with_sink - bare:8.0f} ns/call "
        f"(ratio to peer {with_sink / bare:.2f}x)"
    )
    print(f"overhead on a 1 ms exchange call: {(with_sink - bare) / 1e4:.3f} %")
    print(f"counters waiting for the flush:  {sink.pending()}")


if __name__ == "__main__":
    main()
