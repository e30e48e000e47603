"""Webhook delivery against local receivers: retried with backoff, bounded, never blocking."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from tests.trading.monitoring.conftest import good_client
from tests.waiting import eventually
from trading.backpack.errors import RateLimitedError
from trading.models import AlertWebhook, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


async def _storm(sandbox, session, desk, agent) -> None:
    client = good_client(session, sandbox, desk)
    sandbox.set_faults(burst_429=1000)
    with pytest.raises(RateLimitedError):
        await client.balances()
    await agent.tick()


async def _deliver_until_settled(agent, seconds: float = 3.0) -> None:
    async def settled() -> bool:
        await agent.deliver_now()
        return not await WebhookDelivery.objects.filter(
            delivered_at__isnull=True, gave_up_at__isnull=True
        ).aexists()

    await eventually(settled, within_s=seconds, what="every delivery settled", every_s=0.05)


async def test_a_failing_receiver_gets_the_alert_on_a_later_try(
    sandbox, session, desk, agent, receivers
):
    flaky = await receivers(statuses=[500, 503])
    await sync_to_async(AlertWebhook.objects.create)(name="flaky", url=flaky.url)

    await _storm(sandbox, session, desk, agent)
    await _deliver_until_settled(agent)

    delivery = await WebhookDelivery.objects.aget(url=flaky.url)
    assert flaky.attempts == 3
    assert [m["text"][:7] for m in flaky.received] == ["[ALERT]"]
    assert delivery.attempts == 3 and delivery.delivered_at is not None
    assert delivery.last_error == ""


async def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_try(
    sandbox, session, desk, agent, receivers, settings
):
    broken = await receivers(statuses=[500] * 10)
    healthy = await receivers()
    await sync_to_async(AlertWebhook.objects.create)(name="broken", url=broken.url)
    settings.DASHBOARD_ALERT_WEBHOOKS = (healthy.url,)

    await _storm(sandbox, session, desk, agent)
    await _deliver_until_settled(agent)

    given_up = await WebhookDelivery.objects.aget(url=broken.url)
    assert broken.attempts == 3  # max_attempts of the test agent's backoff
    assert given_up.gave_up_at is not None
    assert given_up.last_error == "HTTP 500: broken"
    assert len(healthy.received) == 1


async def test_a_slow_receiver_never_delays_the_agent(sandbox, session, desk, agent, receivers):
    from trading.monitoring.webhooks import Backoff

    agent.dispatcher.backoff = Backoff(base_s=0.05, cap_s=0.2, max_attempts=3, timeout_s=5.0)
    slow = await receivers(delay_s=2.0)
    await sync_to_async(AlertWebhook.objects.create)(name="slow", url=slow.url)
    await _storm(sandbox, session, desk, agent)  # starts the delivery in the background

    started = time.monotonic()
    await agent.tick()
    await agent.tick()
    ticking = time.monotonic() - started
    await _deliver_until_settled(agent, seconds=6.0)

    assert ticking < 1.0  # two ticks while the receiver takes 2 s to answer
    assert len(slow.received) == 1


async def test_an_unreachable_receiver_is_retried_then_given_up(sandbox, session, desk, agent):
    from tests.fixtures.dashboard_server import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    await sync_to_async(AlertWebhook.objects.create)(name="gone", url=url)

    await _storm(sandbox, session, desk, agent)
    await _deliver_until_settled(agent)

    delivery = await WebhookDelivery.objects.aget(url=url)
    assert delivery.attempts == 3 and delivery.gave_up_at is not None
    assert delivery.last_error.startswith("ConnectError")
