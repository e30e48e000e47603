"""Alerts fire once per storm and clear once, from real calls against the sandbox's faults."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory, keypair_for
from tests.trading.monitoring.conftest import good_client
from trading.backpack import AuthenticationError, Credentials
from trading.backpack.errors import BackpackError, RateLimitedError
from trading.models import Alert, AlertWebhook
from trading.monitoring.alerts import low_balance_report

pytestmark = pytest.mark.django_db(transaction=True)


async def _webhook(url: str) -> None:
    await sync_to_async(AlertWebhook.objects.create)(name="ops", url=url)


async def _failing_calls(client, error: type[BackpackError], count: int) -> None:
    for _ in range(count):
        with pytest.raises(error):
            await client.balances()


async def test_a_429_storm_gives_one_alert_and_recovery_one_all_clear(
    sandbox, session, desk, agent, receivers, clock
):
    receiver = await receivers()
    await _webhook(receiver.url)
    client = good_client(session, sandbox, desk)
    sandbox.set_faults(burst_429=1000)

    await _failing_calls(client, RateLimitedError, 3)
    first = await agent.tick()
    await _failing_calls(client, RateLimitedError, 3)
    during_storm = await agent.tick()
    sandbox.clear_faults()
    clock.advance(1.1)
    await client.balances()
    clock.advance(2.1)  # the storm leaves the 2 s window
    await client.balances()
    recovered = await agent.tick()
    after = await agent.tick()
    await agent.deliver_now()

    assert [change.event for change in first] == ["opened"]
    assert during_storm == []
    assert [change.event for change in recovered] == ["cleared"]
    assert after == []
    assert [message["text"] for message in receiver.received] == [
        "[ALERT] Desk A: rate limited (HTTP 429) 3 times in the last 2 s. "
        "The desk is sending too many requests; orders may be delayed.",
        "[ALL CLEAR] Desk A: no more 429s.",
    ]
    assert await sync_to_async(Alert.objects.filter(kind="rate_limited").count)() == 1


async def test_authentication_failures_alert_once_and_clear_when_the_key_works(
    sandbox, session, desk, agent, receivers, clock
):
    receiver = await receivers()
    await _webhook(receiver.url)
    wrong_key = session.client(Credentials(*keypair_for()), label=str(desk.pk))
    client = good_client(session, sandbox, desk)

    await _failing_calls(wrong_key, AuthenticationError, 2)
    opened = await agent.tick()
    await _failing_calls(wrong_key, AuthenticationError, 2)
    still_failing = await agent.tick()
    clock.advance(2.1)
    no_proof_yet = await agent.tick()  # no successful call yet: stays open
    await client.balances()
    cleared = await agent.tick()
    await agent.deliver_now()

    assert [change.event for change in opened] == ["opened"]
    assert still_failing == [] and no_proof_yet == []
    assert [change.event for change in cleared] == ["cleared"]
    assert [message["text"] for message in receiver.received] == [
        "[ALERT] Desk A: the exchange refused the API key 2 times in the last 2 s. "
        "Check that the subaccount's key is still active on the exchange.",
        "[ALL CLEAR] Desk A: the exchange accepts the API key again.",
    ]


async def test_two_expired_requests_do_not_alert_the_third_does(sandbox, desk, agent):
    from tests.trading.monitoring.conftest import NO_RETRY
    from trading.backpack import ExchangeSession

    # A 50 ms signature window and 120 ms of network latency: every signed request expires.
    async with ExchangeSession(
        api_url=sandbox.api_url, window_ms=50, timeout_s=2.0, retry=NO_RETRY
    ) as session:
        agent.attach(session)
        client = good_client(session, sandbox, desk)
        sandbox.set_faults(latency_ms=120)

        await _failing_calls(client, AuthenticationError, 2)
        two = await agent.tick()
        await _failing_calls(client, AuthenticationError, 1)
        three = await agent.tick()

    assert two == []
    assert [change.event for change in three] == ["opened"]
    alert = await sync_to_async(Alert.objects.get)(kind="expired")
    assert alert.message.startswith("Desk A: 3 requests expired in the last 2 s.")


async def test_a_stream_down_over_30_seconds_alerts_once_and_clears_on_reconnect(
    desk, agent, receivers
):
    receiver = await receivers()
    await _webhook(receiver.url)
    name = f"subaccount.{desk.pk}"
    agent.streams.report(name, True, timezone.now())
    agent.streams.report(name, False)
    dropped = timezone.now()

    at_29 = await agent.tick(now=dropped + timedelta(seconds=29))
    at_31 = await agent.tick(now=dropped + timedelta(seconds=31))
    at_45 = await agent.tick(now=dropped + timedelta(seconds=45))
    agent.streams.report(name, True, timezone.now())
    back = await agent.tick(now=dropped + timedelta(seconds=50))
    later = await agent.tick(now=dropped + timedelta(seconds=55))
    await agent.deliver_now()

    assert at_29 == []
    assert [change.event for change in at_31] == ["opened"]
    assert at_45 == [] and later == []
    assert [change.event for change in back] == ["cleared"]
    texts = [message["text"] for message in receiver.received]
    assert texts[0].startswith(f"[ALERT] Stream {name} has been down for 31 s")
    assert texts[1] == f"[ALL CLEAR] Stream {name} is connected again."


async def test_a_private_stream_refused_over_30_seconds_alerts_with_the_reason(
    desk, agent, receivers
):
    from trading.models import StreamState

    receiver = await receivers()
    await _webhook(receiver.url)
    name = f"subaccount.{desk.pk}"
    agent.streams.report(name, True, timezone.now())
    agent.streams.report(name, False, state="refused: Request has expired")
    refused = timezone.now()

    at_29 = await agent.tick(now=refused + timedelta(seconds=29))
    row = await StreamState.objects.aget(name=name)
    at_31 = await agent.tick(now=refused + timedelta(seconds=31))
    agent.streams.report(name, True, state="connected")
    back = await agent.tick(now=refused + timedelta(seconds=40))
    await agent.deliver_now()

    assert at_29 == [] and not row.connected and row.state == "refused: Request has expired"
    assert [change.event for change in at_31] == ["opened"]
    assert [change.event for change in back] == ["cleared"]
    assert [message["text"] for message in receiver.received] == [
        f"[ALERT] Stream {name} has been down for 31 s (refused: Request has expired); live "
        "prices and account events may be stale.",
        f"[ALL CLEAR] Stream {name} is connected again.",
    ]


async def test_an_alert_pushes_the_bell_of_the_subaccount_members_only(
    sandbox, session, desk, agent
):
    member = await sync_to_async(UserFactory)(username="mia")
    outsider = await sync_to_async(UserFactory)(username="otto")
    await sync_to_async(MembershipFactory)(user=member, subaccount=desk)
    layer = get_channel_layer()
    member_channel = await layer.new_channel()
    outsider_channel = await layer.new_channel()
    await layer.group_add(f"alerts.{member.pk}", member_channel)
    await layer.group_add(f"alerts.{outsider.pk}", outsider_channel)
    client = good_client(session, sandbox, desk)
    sandbox.set_faults(burst_429=1000)

    await _failing_calls(client, RateLimitedError, 1)
    await agent.tick()

    pushed = await asyncio.wait_for(layer.receive(member_channel), 2)
    assert pushed["type"] == "push"
    assert 'id="alerts-bell"' in pushed["html"]
    assert 'data-unread="1"' in pushed["html"]
    assert "Desk A: rate limited (HTTP 429) 1 time" in pushed["html"]
    # A sentinel sent to the outsider after the tick arrives first: no bell came before it.
    await layer.group_send(f"alerts.{outsider.pk}", {"type": "sentinel"})
    first = await asyncio.wait_for(layer.receive(outsider_channel), 2)
    assert first["type"] == "sentinel"


@pytest.mark.django_db(transaction=True)
def test_a_low_balance_alerts_once_and_clears_when_topped_up(desk, settings):
    from trading.balances.readmodel import ThresholdBreach
    from trading.models import WebhookDelivery

    settings.DASHBOARD_ALERT_WEBHOOKS = ["http://127.0.0.1:9/hook"]

    breach = ThresholdBreach(
        desk.pk, "Desk A", "USDC", Decimal("1051214.4514964"), Decimal("2000000"), places=2
    )
    now = timezone.now()

    opened = low_balance_report(subaccount_id=desk.pk, breaches=[breach], now=now)
    again = low_balance_report(subaccount_id=desk.pk, breaches=[breach], now=now)
    cleared = low_balance_report(subaccount_id=desk.pk, breaches=[], now=now)
    nothing = low_balance_report(subaccount_id=desk.pk, breaches=[], now=now)

    assert [change.event for change in opened] == ["opened"]
    assert again == [] and nothing == []
    assert [change.event for change in cleared] == ["cleared"]
    alert = Alert.objects.get(kind="low_balance")
    # as the balances page shows it: "1,051,214.45 < 2,000,000.00"
    assert alert.message == (
        "Desk A: USDC balance 1,051,214.45 is under its threshold 2,000,000.00."
    )
    assert WebhookDelivery.objects.get(event="opened").text == f"[ALERT] {alert.message}"


async def test_the_bell_reaches_a_members_open_page_through_the_account_socket(
    sandbox, session, desk, agent, settings
):
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from dashboard.asgi import application

    settings.DASHBOARD_RELAY = "off"
    member = await sync_to_async(UserFactory)(username="mia")
    await sync_to_async(MembershipFactory)(user=member, subaccount=desk)

    def session_cookie() -> str:
        client = Client()
        client.force_login(member)
        return client.cookies["sessionid"].value

    cookie = await sync_to_async(session_cookie)()
    socket = WebsocketCommunicator(
        application,
        "/ws/account/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await socket.connect(timeout=5)
    client = good_client(session, sandbox, desk)
    sandbox.set_faults(burst_429=1000)

    await _failing_calls(client, RateLimitedError, 2)
    await agent.tick()
    html = await socket.receive_from(timeout=3)
    await socket.disconnect()

    assert connected
    assert html.startswith('<div id="alerts-bell"')
    assert 'hx-swap-oob="true"' in html and 'data-unread="1"' in html


async def test_the_agent_reads_watched_balances_and_alerts_below_the_threshold(
    sandbox, desk, agent, settings
):
    from accounts.models import LowBalanceThreshold
    from trading.exchange import close_session

    settings.BACKPACK_API_URL = sandbox.api_url
    threshold = await LowBalanceThreshold.objects.acreate(
        subaccount=desk, asset="USDC", minimum=Decimal("2000000")
    )
    try:
        await agent.poll_balances()
        opened = await sync_to_async(list)(Alert.objects.filter(kind="low_balance"))
        threshold.minimum = Decimal("10")
        await threshold.asave()
        await agent.poll_balances()
    finally:
        await close_session()

    assert [a.message for a in opened] == [
        "Desk A: USDC balance 1,000,000.00 is under its threshold 2,000,000.00."
    ]
    alert = await Alert.objects.aget(kind="low_balance")
    assert alert.cleared_at is not None


async def test_a_stream_stopped_on_purpose_never_alerts_and_leaves_the_page(desk, agent):
    from trading.models import StreamState

    agent.streams.report("market.SOL_USDC", True, timezone.now())
    agent.streams.report("market.BTC_USDC", False)
    dropped = timezone.now()
    opened = await agent.tick(now=dropped + timedelta(seconds=31))
    agent.streams.stopped("market.SOL_USDC")
    agent.streams.stopped("market.BTC_USDC")
    later = await agent.tick(now=dropped + timedelta(seconds=90))

    assert [change.event for change in opened] == ["opened"]
    assert [change.event for change in later] == ["cleared"]
    assert not await StreamState.objects.aexists()
    alert = await Alert.objects.aget(kind="stream_down")
    assert alert.key == "stream_down:market.BTC_USDC" and alert.cleared_at is not None


async def test_two_processes_seeing_the_same_storm_open_one_alert_and_send_one_webhook(
    sandbox, desk, receivers
):
    from tests.trading.monitoring.conftest import NO_RETRY
    from trading.backpack import ExchangeSession
    from trading.monitoring.agent import MonitoringAgent
    from trading.monitoring.alerts import AlertRules

    receiver = await receivers()
    await _webhook(receiver.url)
    agents = [MonitoringAgent(bucket_s=1, rules=AlertRules(window_s=2)) for _ in range(2)]
    sandbox.set_faults(burst_429=1000)
    changes = []
    for agent in agents:
        async with ExchangeSession(api_url=sandbox.api_url, retry=NO_RETRY) as session:
            agent.attach(session)
            await _failing_calls(good_client(session, sandbox, desk), RateLimitedError, 2)
    for agent in agents:
        changes += await agent.tick()
    for agent in agents:
        await agent.deliver_now()

    assert [change.event for change in changes] == ["opened"]
    assert len(receiver.received) == 1
    alert = await Alert.objects.aget(kind="rate_limited")
    # The first process to flush opens it with what it saw; the second only adds its count.
    assert alert.message.startswith("Desk A: rate limited (HTTP 429) 2 times")


@pytest.mark.django_db(transaction=True)
def test_alerts_cleared_over_a_month_ago_are_forgotten(desk):
    from trading.monitoring.agent import prune_alerts

    now = timezone.now()
    old = Alert.objects.create(
        key="auth:1",
        kind="auth",
        message="old",
        opened_at=now - timedelta(days=40),
        last_seen_at=now - timedelta(days=40),
        cleared_at=now - timedelta(days=31),
    )
    recent = Alert.objects.create(
        key="auth:2",
        kind="auth",
        message="recent",
        opened_at=now - timedelta(days=3),
        last_seen_at=now,
        cleared_at=now - timedelta(days=2),
    )
    still_open = Alert.objects.create(
        key="auth:3",
        kind="auth",
        message="open",
        opened_at=now - timedelta(days=60),
        last_seen_at=now,
    )

    prune_alerts(now)

    assert set(Alert.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert not Alert.objects.filter(pk=old.pk).exists()
