"""Prometheus exposition of the deployment's figures, read from the database.

Counters come from `ApiCallTotal` (every process adds to it), so any dashboard process behind
the load balancer answers a scrape with the whole deployment's numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from accounts.models import Subaccount
from trading.monitoring.health import call_health, clock_offset_ms, stream_rows
from trading.monitoring.live_sockets import live_socket_failures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DeskCollector:
    """Yields the desk's metrics at scrape time (database reads only)."""

    def collect(self) -> Iterator[Metric]:
        from trading.models import Alert, ApiCallStat, ApiCallTotal

        names = {str(pk): name for pk, name in Subaccount.objects.values_list("pk", "name")}
        calls = CounterMetricFamily(
            "desk_exchange_calls",
            "Exchange REST calls by subaccount and outcome (ok or the error class).",
            labels=["subaccount", "outcome"],
        )
        for label, outcome, count in ApiCallTotal.objects.values_list("label", "outcome", "count"):
            calls.add_metric([names.get(label, label), outcome], count)
        yield calls

        now = timezone.now()
        labels = sorted(
            set(
                ApiCallStat.objects.filter(bucket__gt=now - timedelta(hours=1))
                .values_list("label", flat=True)
                .distinct()
            )
        )
        problems = GaugeMetricFamily(
            "desk_exchange_problems_last_hour",
            "Calls of the last hour that failed, by kind (auth, expired, rate_limited, ...).",
            labels=["subaccount", "kind"],
        )
        latency = GaugeMetricFamily(
            "desk_exchange_latency_ms",
            "Latency percentiles of the last hour's calls in milliseconds.",
            labels=["subaccount", "quantile"],
        )
        for label, health in call_health(labels=labels, now=now).items():
            who = names.get(label, label)
            for kind in (
                "auth_failures",
                "expired",
                "rate_limited",
                "server_errors",
                "unavailable",
            ):
                problems.add_metric([who, kind], getattr(health, kind))
            if health.p50_ms is not None:
                latency.add_metric([who, "0.5"], health.p50_ms)
                latency.add_metric([who, "0.99"], health.p99_ms or health.p50_ms)
        yield problems
        yield latency

        connected = GaugeMetricFamily(
            "desk_stream_connected", "1 while the upstream stream is connected.", labels=["stream"]
        )
        age = GaugeMetricFamily(
            "desk_stream_last_message_age_seconds",
            "Seconds since the stream's last message.",
            labels=["stream"],
        )
        for row in stream_rows(now=now):
            connected.add_metric([row.name], 1 if row.connected else 0)
            if row.last_message_age_s is not None:
                age.add_metric([row.name], row.last_message_age_s)
        yield connected
        yield age

        open_alerts = GaugeMetricFamily(
            "desk_alerts_open", "Alerts open now, by kind.", labels=["kind"]
        )
        by_kind = Counter(
            Alert.objects.filter(cleared_at__isnull=True).values_list("kind", flat=True)
        )
        for kind, _label in Alert.Kind.choices:
            open_alerts.add_metric([kind], by_kind.get(kind, 0))
        yield open_alerts

        failed_sockets = CounterMetricFamily(
            "desk_live_socket_failures",
            "Browser sockets closed because live updates could not be set up or kept going.",
            labels=["cause"],
        )
        for failure in live_socket_failures():
            failed_sockets.add_metric([failure.cause], failure.count)
        yield failed_sockets

        offset = clock_offset_ms()
        if offset is not None:
            yield GaugeMetricFamily(
                "desk_exchange_clock_offset_ms",
                "Exchange clock minus this deployment's clock, in milliseconds.",
                value=offset,
            )


def metrics_text() -> bytes:
    """The exposition text of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector())
    return generate_latest(registry)
