"""The per-process monitoring agent: flush, evaluate alerts, push bells, deliver webhooks.

One agent per process (`trading.monitoring.agent()`); `install()` attaches its sink to every
`ExchangeSession` the process creates (`trading.exchange.on_new_session`). On the event loop
of each session it runs a background task that every `flush_s` seconds calls `tick()`:
counters and stream states go to the database, the alert rules run, the bells of the users
concerned are pushed, and due webhooks are posted in a task of their own so a slow receiver
never delays the next flush. A failing tick is logged and retried at the next one; nothing the
agent does can raise into trading code.

Inside a pytest process the background task does not start by itself (tests call `tick()`
themselves so they stay deterministic); `DASHBOARD_MONITORING_FLUSH_S=0` turns it off too.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings

from trading.monitoring.alerts import AlertChange, AlertEngine, AlertRules, low_balance_report
from trading.monitoring.bell import alert_recipients, bell_messages, push_bells
from trading.monitoring.sink import MetricsSink
from trading.monitoring.streams import StreamStates
from trading.monitoring.webhooks import Backoff, WebhookDispatcher

logger = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(minutes=5)
KEEP_CLEARED_ALERTS = timedelta(days=30)


def prune_alerts(now: datetime) -> int:
    """Forget alerts cleared more than 30 days ago (their deliveries go with them)."""
    from trading.models import Alert

    deleted, _ = Alert.objects.filter(cleared_at__lt=now - KEEP_CLEARED_ALERTS).delete()
    return deleted


class MonitoringAgent:
    """See the module docstring."""

    def __init__(
        self,
        *,
        bucket_s: int = 10,
        flush_s: float = 5.0,
        rules: AlertRules | None = None,
        backoff: Backoff | None = None,
        low_balance_every_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock  # seconds since the epoch: the buckets' time and a tick's "now"
        self.sink = MetricsSink(bucket_s=bucket_s, clock=clock)
        self.streams = StreamStates()
        self.engine = AlertEngine(rules)
        self.dispatcher = WebhookDispatcher(backoff)
        self.flush_s = flush_s
        self.low_balance_every_s = low_balance_every_s
        self.sessions: weakref.WeakSet = weakref.WeakSet()
        self._tasks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._delivery: asyncio.Task | None = None
        self._pruned_at: datetime | None = None
        self._balances_at: float = 0.0

    # -- wiring --------------------------------------------------------------------------

    def attach(self, session) -> None:
        """Count every call of `session` and (outside tests) start the background task."""
        window_ms = getattr(session, "window_ms", None) or 5000
        session.metrics.add_hook(lambda record: self.sink.record(record, window_ms))
        self.sessions.add(session)
        if autostart_allowed():
            self.ensure_running()

    def ensure_running(self) -> None:
        """Start the background task on the running event loop, once per loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = self._tasks.get(loop)
        if task is None or task.done():
            # A fresh context: the task must not inherit the request it was started from
            # (asgiref ties sync_to_async to that request's executor, gone once it answers).
            self._tasks[loop] = loop.create_task(
                self._run(), name="monitoring-agent", context=contextvars.Context()
            )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self.tick()
                await self._poll_balances()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - monitoring must never stop, nor break trading
                logger.warning("monitoring tick failed", exc_info=True)

    # -- one round -----------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=UTC)

    async def tick(self, now: datetime | None = None) -> list[AlertChange]:
        """Flush, evaluate, push bells; start delivering webhooks. Returns alert changes."""
        changes, messages = await sync_to_async(self._tick_db)(now)
        if messages:
            await push_bells(messages)
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(self._deliver())
        return changes

    def _tick_db(self, now: datetime | None) -> tuple[list[AlertChange], list]:
        now = now or self._now()
        self.sink.flush()
        self.streams.flush()
        self._gauges(now)
        changes = self.engine.evaluate(now)
        if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
            self.sink.prune()
            prune_alerts(now)
            self._pruned_at = now
        return changes, self._messages(changes)

    def _messages(self, changes: list[AlertChange]) -> list:
        if not changes:
            return []
        return bell_messages(alert_recipients(change.subaccount_id for change in changes))

    def _gauges(self, now: datetime) -> None:
        from trading.models import Gauge

        for session in list(self.sessions):
            if session.clock.measured_at is not None:
                Gauge.objects.update_or_create(
                    name="clock_offset_ms",
                    label="",
                    defaults={"value": int(session.clock.offset_ms), "updated_at": now},
                )

    async def deliver_now(self) -> int:
        """Wait for the delivery task in flight, then post what is due (tests, shutdown)."""
        if self._delivery is not None and not self._delivery.done():
            await self._delivery
        return await self.dispatcher.deliver_due()

    async def _deliver(self) -> None:
        try:
            await self.dispatcher.deliver_due()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a broken receiver or database must not stop us
            logger.warning("alert webhook delivery failed", exc_info=True)

    async def low_balances(self, subaccount_id: int, breaches, now: datetime | None = None):
        """Record the balances under their thresholds of one subaccount (from a balances read)
        and push the bells of the alerts that opened or cleared."""
        changes = await sync_to_async(low_balance_report)(
            subaccount_id=subaccount_id, breaches=list(breaches), now=now or self._now()
        )
        if changes:
            await push_bells(await sync_to_async(self._messages)(changes))
        return changes

    async def _poll_balances(self) -> None:
        """Every `low_balance_every_s`, read the subaccounts that have low-balance thresholds."""
        loop = asyncio.get_running_loop()
        if (
            not self.low_balance_every_s
            or loop.time() - self._balances_at < self.low_balance_every_s
        ):
            return
        self._balances_at = loop.time()
        await self.poll_balances()

    async def poll_balances(self) -> None:
        """Read now the subaccounts that have low-balance thresholds; alert below them and
        clear what is above again."""
        from accounts.models import Subaccount
        from trading.balances.selectors import balances_view_for

        watched = Subaccount.objects.filter(is_active=True, low_balance_thresholds__isnull=False)
        async for subaccount in watched.distinct():
            view = await balances_view_for(subaccount, sparklines=False)
            if view.ok:
                await self.low_balances(subaccount.pk, view.below_threshold)


def autostart_allowed() -> bool:
    """False in a pytest process or when DASHBOARD_MONITORING_FLUSH_S is 0."""
    if "pytest" in sys.modules or "_pytest" in sys.modules:
        return False
    return bool(getattr(settings, "DASHBOARD_MONITORING_FLUSH_S", 5.0))
