"""Alert webhooks: Slack-compatible `{"text": ...}` POSTs, retried with bounded backoff.

Opening or clearing an alert writes one `WebhookDelivery` per configured URL in the same
transaction (an outbox), so nothing is lost when a process stops. The agent's background task
calls `WebhookDispatcher.deliver_due()`: it claims due deliveries (an optimistic UPDATE, so two
processes never post the same one at once), posts them with a short timeout, and on failure
schedules the next try after `base_s * 2**(attempt-1)` seconds (at most `cap_s`), giving up
after `max_attempts`. Nothing here ever runs inside a trading request.

URLs come from active `AlertWebhook` rows (admins add them on the health page) and from the
`DASHBOARD_ALERT_WEBHOOKS` setting (comma-separated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)


def webhook_urls() -> list[str]:
    """Every URL an alert goes to: active rows first, then the environment setting."""
    from trading.models import AlertWebhook

    urls = list(AlertWebhook.objects.filter(is_active=True).values_list("url", flat=True))
    for url in getattr(settings, "DASHBOARD_ALERT_WEBHOOKS", ()) or ():
        if url not in urls:
            urls.append(url)
    return urls


def enqueue(alert, event: str, text: str) -> int:
    """Write one delivery of `text` per webhook URL (call inside the alert's transaction);
    each is due at once."""
    from trading.models import WebhookDelivery

    due = timezone.now()
    rows = [
        WebhookDelivery(alert=alert, event=event, url=url, text=text, next_attempt_at=due)
        for url in webhook_urls()
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff between delivery attempts."""

    base_s: float = 2.0
    cap_s: float = 300.0
    max_attempts: int = 8
    lease_s: float = 30.0
    timeout_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (from 1)."""
        return min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0))


@dataclass(frozen=True)
class Claimed:
    """A delivery this process holds the lease of."""

    pk: int
    url: str
    text: str
    attempt: int


class WebhookDispatcher:
    """Posts due deliveries (see the module docstring)."""

    def __init__(self, backoff: Backoff | None = None, *, batch: int = 20) -> None:
        self.backoff = backoff or Backoff()
        self.batch = batch

    def claim_due(self, now: datetime | None = None) -> list[Claimed]:
        """Take the lease of up to `batch` due deliveries (sync, database only)."""
        from trading.models import WebhookDelivery

        now = now or timezone.now()
        due = WebhookDelivery.objects.filter(
            delivered_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")[: self.batch]
        claimed = []
        for row in due:
            taken = WebhookDelivery.objects.filter(
                pk=row.pk, next_attempt_at=row.next_attempt_at, delivered_at__isnull=True
            ).update(
                next_attempt_at=now + timedelta(seconds=self.backoff.lease_s),
                attempts=F("attempts") + 1,
            )
            if taken:
                claimed.append(Claimed(row.pk, row.url, row.text, row.attempts + 1))
        return claimed

    def settle(self, claimed: Claimed, error: str | None, now: datetime | None = None) -> None:
        """Record the outcome of one attempt (sync, database only)."""
        from trading.models import WebhookDelivery

        now = now or timezone.now()
        rows = WebhookDelivery.objects.filter(pk=claimed.pk)
        if error is None:
            rows.update(delivered_at=now, last_error="")
        elif claimed.attempt >= self.backoff.max_attempts:
            rows.update(gave_up_at=now, last_error=error[:300])
            logger.warning(
                "alert webhook %s gave up after %s tries: %s", claimed.url, claimed.attempt, error
            )
        else:
            delay = timedelta(seconds=self.backoff.delay(claimed.attempt))
            rows.update(next_attempt_at=now + delay, last_error=error[:300])

    async def deliver_due(self) -> int:
        """Post every due delivery once; returns how many were delivered."""
        claimed = await sync_to_async(self.claim_due)()
        if not claimed:
            return 0
        delivered = 0
        async with httpx.AsyncClient(timeout=self.backoff.timeout_s) as client:
            for item in claimed:
                error = await _post(client, item)
                delivered += error is None
                await sync_to_async(self.settle)(item, error)
        return delivered


async def _post(client: httpx.AsyncClient, item: Claimed) -> str | None:
    """POST one message; None on a 2xx answer, else the reason in words."""
    try:
        response = await client.post(item.url, json={"text": item.text})
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"
