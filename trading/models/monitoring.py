"""API health monitoring: call statistics, stream states, gauges, alerts and their webhooks.

Every dashboard or relay process aggregates its exchange calls in memory and adds them here
every few seconds, so the figures of several processes add up. The rules live in
`trading.monitoring`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Subaccount


class ApiCallStat(models.Model):
    """How often `metric` happened for one subaccount label in one time bucket.

    Metrics: `calls`, `outcome:<ok|ErrorClass>`, `code:<exchange code>`, `status:<http>`,
    `kind:<auth|expired|rate_limited|server_error>`, `latency:<bucket index>`.
    """

    label = models.CharField(max_length=40)
    bucket = models.DateTimeField(db_index=True)
    metric = models.CharField(max_length=80)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["label", "bucket", "metric"], name="one_stat_per_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.bucket:%H:%M:%S} {self.metric}={self.count}"


class ApiCallTotal(models.Model):
    """Calls since the beginning, per label and outcome (Prometheus counters)."""

    label = models.CharField(max_length=40)
    outcome = models.CharField(max_length=60)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "outcome"], name="one_total_per_outcome")
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.outcome}={self.count}"


class Gauge(models.Model):
    """The latest value of a measurement (clock offset, rate budget left) per label."""

    name = models.CharField(max_length=40)
    label = models.CharField(max_length=40, blank=True)
    value = models.BigIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "label"], name="one_gauge")]

    def __str__(self) -> str:
        return f"{self.name}[{self.label}]={self.value}"


class StreamState(models.Model):
    """An upstream WebSocket stream as the relay last reported it."""

    name = models.CharField(max_length=100, unique=True)
    connected = models.BooleanField(default=False)
    state = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="The stream client's words: connected, disconnected, refused: <reason>.",
    )
    changed_at = models.DateTimeField(help_text="When `connected` last changed.")
    last_message_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {'up' if self.connected else 'down'}"


class Alert(models.Model):
    """One episode of a problem: opened once, cleared once (one active per `key`)."""

    class Kind(models.TextChoices):
        AUTH = "auth", "Authentication failures"
        EXPIRED = "expired", "Expired requests"
        RATE_LIMITED = "rate_limited", "Rate limited (429)"
        STREAM_DOWN = "stream_down", "Stream down"
        LOW_BALANCE = "low_balance", "Balance under its threshold"

    key = models.CharField(max_length=160)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    message = models.CharField(max_length=300)
    opened_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(cleared_at__isnull=True), name="one_open_alert"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} {'open' if self.cleared_at is None else 'cleared'}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class AlertSeen(models.Model):
    """Until when a user has looked at the alerts (the bell counts what changed since)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts_seen"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} saw alerts until {self.seen_at:%Y-%m-%d %H:%M:%S}"


class AlertWebhook(models.Model):
    """A Slack-compatible incoming webhook that receives every alert and all-clear."""

    name = models.CharField(max_length=80)
    url = models.URLField(max_length=500, unique=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One message for one webhook URL: retried with bounded backoff until it is taken."""

    class Event(models.TextChoices):
        OPENED = "opened", "Alert"
        CLEARED = "cleared", "All clear"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=10, choices=Event.choices)
    url = models.URLField(max_length=500)
    text = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "event", "url"], name="one_delivery_per_url")
        ]

    def __str__(self) -> str:
        return f"{self.event} of {self.alert.key} to {self.url}"


class LiveSocketFailure(models.Model):
    """Browser sockets closed because their live updates could not be set up or kept going
    (channel layer or database unavailable), counted per cause since the beginning."""

    class Cause(models.TextChoices):
        CHANNEL_LAYER = "channel_layer", "channel layer"
        DATABASE = "database", "database"
        OTHER = "other", "other error"

    cause = models.CharField(max_length=20, choices=Cause.choices, unique=True)
    count = models.BigIntegerField(default=0)
    last_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["cause"]

    def __str__(self) -> str:
        return f"{self.cause}={self.count}"
