"""The alerts engine: open one alert per storm, clear it once on recovery.

`AlertEngine.evaluate(now)` (sync, database only) reads the call statistics and stream states
every few seconds and returns the alerts it opened or cleared. Deduplication lives in the
database: at most one open `Alert` per key (a conditional unique constraint), and clearing is
an `UPDATE ... WHERE cleared_at IS NULL`, so when several processes evaluate at once exactly one
of them opens (or clears) each alert and sends its webhooks.

Rules (thresholds in `AlertRules`):
- `auth:<label>`: authentication failures in the window; `expired:<label>`: repeated expired
  requests; `rate_limited:<label>`: 429s. Cleared once the window holds none of them *and* a
  call succeeded after the last one (a subaccount that stopped calling is not "healthy").
- `stream_down:<name>`: a stream disconnected (or its private subscription refused by the
  exchange: state `refused: <reason>`, named in the message) for longer than `stream_down_s`;
  cleared when it is connected again.
- `low_balance:<pk>:<asset>`: reported by `low_balance_report` (from the balances readers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils.translation import ngettext

from accounts.models import Subaccount
from trading.monitoring import webhooks


@dataclass(frozen=True)
class AlertRules:
    """When an alert opens. Windows are in seconds."""

    window_s: int = 60
    auth_min: int = 1
    expired_min: int = 3
    rate_limited_min: int = 1
    stream_down_s: int = 30


@dataclass(frozen=True)
class AlertChange:
    """An alert the engine just opened or cleared (`event` is "opened" or "cleared")."""

    alert_id: int
    event: str
    subaccount_id: int | None


CALL_RULES = (
    (
        "auth",
        "auth_min",
        "the exchange refused the API key {n} {times} in the last {w} s",
        "Check that the subaccount's key is still active on the exchange.",
    ),
    (
        "expired",
        "expired_min",
        "{n} {requests} expired in the last {w} s",
        "Check this machine's clock and the network latency to the exchange.",
    ),
    (
        "rate_limited",
        "rate_limited_min",
        "rate limited (HTTP 429) {n} {times} in the last {w} s",
        "The desk is sending too many requests; orders may be delayed.",
    ),
)
CLEAR_TEXT = {
    "auth": "the exchange accepts the API key again",
    "expired": "requests are no longer expiring",
    "rate_limited": "no more 429s",
}


class AlertEngine:
    """Evaluates the rules against the database (see the module docstring)."""

    def __init__(self, rules: AlertRules | None = None) -> None:
        self.rules = rules or AlertRules()

    def evaluate(self, now: datetime) -> list[AlertChange]:
        """Open and clear alerts; returns what changed."""
        return [*self._call_alerts(now), *self._stream_alerts(now)]

    # -- exchange calls ------------------------------------------------------------------

    def _call_alerts(self, now: datetime) -> list[AlertChange]:
        from trading.models import Alert, ApiCallStat

        window = timedelta(seconds=self.rules.window_s)
        recent = ApiCallStat.objects.filter(bucket__gte=now - timedelta(hours=1))
        kinds = [f"kind:{kind}" for kind, *_ in CALL_RULES]
        in_window = {
            (row["label"], row["metric"]): row["n"]
            for row in recent.filter(bucket__gt=now - window, metric__in=kinds)
            .values("label", "metric")
            .annotate(n=Sum("count"))
        }
        last_seen = {
            (row["label"], row["metric"]): row["last"]
            for row in recent.filter(metric__in=[*kinds, "outcome:ok"])
            .values("label", "metric")
            .annotate(last=Max("bucket"))
        }
        labels = {label for label, _ in last_seen}
        open_keys = set(
            Alert.objects.filter(
                cleared_at__isnull=True, kind__in=[k for k, *_ in CALL_RULES]
            ).values_list("key", flat=True)
        )
        names = _subaccount_names(labels | {key.split(":", 1)[1] for key in open_keys})
        changes: list[AlertChange] = []
        for label in sorted(labels | {key.split(":", 1)[1] for key in open_keys}):
            subaccount_id = int(label) if label in names else None
            who = names.get(label) or (
                "Market data (no key)" if label == "public" else f"Client {label!r}"
            )
            for kind, threshold_name, text, action in CALL_RULES:
                key = f"{kind}:{label}"
                count = in_window.get((label, f"kind:{kind}"), 0)
                if count >= getattr(self.rules, threshold_name):
                    said = text.format(
                        n=count,
                        w=self.rules.window_s,
                        times=ngettext("time", "times", count),
                        requests=ngettext("request", "requests", count),
                    )
                    message = f"{who}: {said}. {action}"
                    changes += _open(key, kind, subaccount_id, message, now)
                elif key in open_keys:
                    last_fail = last_seen.get((label, f"kind:{kind}"))
                    last_ok = last_seen.get((label, "outcome:ok"))
                    if (
                        count == 0
                        and last_ok is not None
                        and (last_fail is None or last_ok > last_fail)
                    ):
                        changes += _clear(key, f"{who}: {CLEAR_TEXT[kind]}.", now)
        return changes

    # -- streams -------------------------------------------------------------------------

    def _stream_alerts(self, now: datetime) -> list[AlertChange]:
        from trading.models import Alert, StreamState

        changes: list[AlertChange] = []
        limit = now - timedelta(seconds=self.rules.stream_down_s)
        open_keys = set(
            Alert.objects.filter(cleared_at__isnull=True, kind="stream_down").values_list(
                "key", flat=True
            )
        )
        streams = list(StreamState.objects.all())
        for key in open_keys - {f"stream_down:{stream.name}" for stream in streams}:
            name = key.removeprefix("stream_down:")
            changes += _clear(key, f"Stream {name} was stopped (nobody watches it).", now)
        for stream in streams:
            key = f"stream_down:{stream.name}"
            subaccount_id = _stream_subaccount(stream.name)
            if not stream.connected and stream.changed_at <= limit:
                down_s = int((now - stream.changed_at).total_seconds())
                why = f" ({stream.state})" if stream.state.startswith("refused") else ""
                message = (
                    f"Stream {stream.name} has been down for {down_s} s{why}; live prices "
                    "and account events may be stale."
                )
                changes += _open(key, "stream_down", subaccount_id, message, now)
            elif stream.connected and key in open_keys:
                changes += _clear(key, f"Stream {stream.name} is connected again.", now)
        return changes


def low_balance_report(
    *, subaccount_id: int, breaches: Iterable, now: datetime
) -> list[AlertChange]:
    """Open an alert per balance under its threshold; clear those of `subaccount_id` no longer
    under it. `breaches` are the balances helper's `ThresholdBreach` entries (asset, balance,
    minimum, subaccount_name; balance_text and minimum_text as the balances page shows them)
    of that subaccount."""
    from trading.models import Alert

    changes: list[AlertChange] = []
    current = set()
    for breach in breaches:
        key = f"low_balance:{subaccount_id}:{breach.asset}"
        current.add(key)
        message = (
            f"{breach.subaccount_name}: {breach.asset} balance {breach.balance_text} is "
            f"under its threshold {breach.minimum_text}."
        )
        changes += _open(key, "low_balance", subaccount_id, message, now)
    prefix = f"low_balance:{subaccount_id}:"
    for key in Alert.objects.filter(cleared_at__isnull=True, key__startswith=prefix).values_list(
        "key", flat=True
    ):
        if key not in current:
            asset = key.removeprefix(prefix)
            name = _subaccount_names([str(subaccount_id)]).get(str(subaccount_id), "")
            changes += _clear(key, f"{name}: {asset} balance is back above its threshold.", now)
    return changes


def _open(
    key: str, kind: str, subaccount_id: int | None, message: str, now: datetime
) -> list[AlertChange]:
    """Open `key` unless it is open already (then only note that it is still happening)."""
    from trading.models import Alert

    if Alert.objects.filter(key=key, cleared_at__isnull=True).update(last_seen_at=now):
        return []
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                key=key,
                kind=kind,
                subaccount_id=subaccount_id,
                message=message[:300],
                opened_at=now,
                last_seen_at=now,
            )
            webhooks.enqueue(alert, "opened", f"[ALERT] {alert.message}")
    except IntegrityError:  # another process opened it a moment ago
        return []
    return [AlertChange(alert.pk, "opened", subaccount_id)]


def _clear(key: str, text: str, now: datetime) -> list[AlertChange]:
    """Clear the open alert `key`; only the process whose UPDATE wins sends the all-clear."""
    from trading.models import Alert

    alert = Alert.objects.filter(key=key, cleared_at__isnull=True).first()
    if alert is None:
        return []
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(cleared_at=now):
            return []
        webhooks.enqueue(alert, "cleared", f"[ALL CLEAR] {text}")
    return [AlertChange(alert.pk, "cleared", alert.subaccount_id)]


def _subaccount_names(labels: Iterable[str]) -> dict[str, str]:
    ids = [int(label) for label in labels if label.isdigit()]
    return {
        str(pk): name
        for pk, name in Subaccount.objects.filter(pk__in=ids).values_list("pk", "name")
    }


def _stream_subaccount(name: str) -> int | None:
    prefix, _, rest = name.partition(".")
    if prefix == "subaccount" and rest.isdigit():
        return int(rest) if Subaccount.objects.filter(pk=int(rest)).exists() else None
    return None
