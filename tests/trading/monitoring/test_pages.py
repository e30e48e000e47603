"""The health page, the bell, /metrics and /healthz, fed by real calls to the sandbox."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client
from django.utils import timezone

from tests.factories import MembershipFactory, SubaccountFactory, SuperuserFactory, UserFactory
from tests.trading.monitoring.conftest import NO_RETRY, good_client
from trading.backpack import ExchangeSession
from trading.monitoring.agent import MonitoringAgent
from trading.monitoring.alerts import low_balance_report

pytestmark = pytest.mark.django_db(transaction=True)


async def _two_processes_call(sandbox, desk, calls_each: int) -> None:
    """Two agents with their own sessions, as two dashboard processes would have."""
    for _ in range(2):
        agent = MonitoringAgent(bucket_s=1)
        async with ExchangeSession(api_url=sandbox.api_url, retry=NO_RETRY) as session:
            agent.attach(session)
            client = good_client(session, sandbox, desk)
            for _ in range(calls_each):
                await client.balances()
            await agent.tick()


async def test_the_health_page_adds_up_every_process_and_hides_other_subaccounts(sandbox, desk):
    viewer = await sync_to_async(UserFactory)(username="vera")
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=desk)
    hidden = await sync_to_async(SubaccountFactory)(name="Secret desk")
    await _two_processes_call(sandbox, desk, calls_each=3)
    client = AsyncClient()
    await client.aforce_login(viewer)

    response = await client.get("/trading/health/")

    page = response.content.decode()
    assert response.status_code == 200
    row = page.split(f'data-subaccount="{desk.pk}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Calls" class="num">6</td>' in row  # 3 calls from each of two processes

    assert "1994" in row  # standard budget left this minute: 2000 - 6 requests
    assert " ms</td>" in row  # p50 and p99 are known
    assert hidden.name not in page


async def test_the_health_page_shows_a_refused_private_stream_per_subaccount(desk, agent):
    viewer = await sync_to_async(UserFactory)(username="vera")
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=desk)
    agent.streams.report(f"subaccount.{desk.pk}", False, state="refused: Invalid signature")
    await agent.tick()
    client = AsyncClient()
    await client.aforce_login(viewer)

    page = (await client.get("/trading/health/")).content.decode()

    row = page.split(f'data-subaccount="{desk.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-stream-state="refused: Invalid signature"' in row
    assert '<span class="stream-down">refused: Invalid signature (down since ' in row
    streams = page.split(f'data-stream="subaccount.{desk.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "refused: Invalid signature (down since " in streams


async def test_metrics_need_staff_or_the_token_and_count_every_process(sandbox, desk, settings):
    settings.DASHBOARD_METRICS_TOKEN = "s3cret-token-for-prometheus"
    await _two_processes_call(sandbox, desk, calls_each=2)
    staff = await sync_to_async(SuperuserFactory)(username="sam")
    member = await sync_to_async(UserFactory)(username="mo")
    as_staff, as_member = AsyncClient(), AsyncClient()
    await as_staff.aforce_login(staff)
    await as_member.aforce_login(member)

    anonymous = await AsyncClient().get("/metrics")
    wrong = await AsyncClient().get("/metrics", headers={"Authorization": "Bearer nope"})
    by_token = await AsyncClient().get(
        "/metrics", headers={"Authorization": "Bearer s3cret-token-for-prometheus"}
    )
    by_member = await as_member.get("/metrics")
    by_staff = await as_staff.get("/metrics")

    assert [anonymous.status_code, wrong.status_code, by_member.status_code] == [401, 401, 401]
    assert by_token.status_code == 200 and by_staff.status_code == 200
    text = by_token.content.decode()
    assert 'desk_exchange_calls_total{outcome="ok",subaccount="Desk A"} 4.0' in text
    assert 'desk_alerts_open{kind="rate_limited"} 0.0' in text
    assert 'desk_exchange_latency_ms{quantile="0.5",subaccount="Desk A"}' in text


def test_healthz_reports_database_channel_layer_and_exchange(sandbox, settings):
    from trading.monitoring import healthz

    healthz.exchange_check_forget()
    settings.BACKPACK_API_URL = sandbox.api_url
    up = Client().get("/healthz")
    from tests.fixtures.dashboard_server import free_port

    settings.BACKPACK_API_URL = f"http://127.0.0.1:{free_port()}"
    down = Client().get("/healthz")

    assert up.status_code == 200
    assert up.json() == {"database": "ok", "channel_layer": "ok", "exchange": "ok"}
    assert down.status_code == 200  # the exchange is everyone's: do not leave the pool for it
    assert down.json()["exchange"] == "error: ConnectError"


def test_the_bell_counts_unread_alerts_until_the_member_has_seen_them(desk):
    member = UserFactory(username="mia")
    outsider = UserFactory(username="otto")
    MembershipFactory(user=member, subaccount=desk)
    from decimal import Decimal

    from trading.balances.readmodel import ThresholdBreach

    low_balance_report(
        subaccount_id=desk.pk,
        breaches=[
            ThresholdBreach(desk.pk, desk.name, "USDC", Decimal("5"), Decimal("1000"), places=2)
        ],
        now=timezone.now(),
    )
    client, other = Client(), Client()
    client.force_login(member)
    other.force_login(outsider)

    before = client.get("/trading/alerts/bell/").content.decode()
    seen = client.post("/trading/alerts/seen/").content.decode()
    after = client.get("/trading/alerts/bell/").content.decode()
    outsider_bell = other.get("/trading/alerts/bell/").content.decode()

    assert (
        'data-unread="1"' in before
        and "USDC balance 5.00 is under its threshold 1,000.00" in before
    )
    assert 'data-unread="0"' in seen and 'data-unread="0"' in after
    assert 'data-unread="0"' in outsider_bell and "USDC balance" not in outsider_bell


def test_staff_add_a_webhook_and_a_bad_url_is_explained(db):
    staff = SuperuserFactory(username="sam")
    client = Client()
    client.force_login(staff)

    refused = client.post(
        "/trading/health/webhooks/", {"name": "ops", "url": "ftp://x.example.test/T1"}
    )
    bad = refused.content.decode()
    good = client.post(
        "/trading/health/webhooks/",
        {"name": "ops", "url": "https://hooks.example.test/T1"},
        follow=True,
    ).content.decode()

    assert refused.status_code == 400
    assert "The webhook URL must start with https:// (or http://)." in bad
    # what was typed is there to correct
    assert 'id="id_webhook_name" maxlength="80" value="ops"' in bad
    assert 'value="ftp://x.example.test/T1"' in bad
    assert "Alerts now go to ops too." in good
    assert "https://hooks.example.test/T1" in good


def test_removing_a_webhook_asks_first(db):
    from trading.models import AlertWebhook

    staff = SuperuserFactory(username="sam")
    client = Client()
    client.force_login(staff)
    hook = AlertWebhook.objects.create(name="ops", url="https://hooks.example.test/T1")

    page = client.get("/trading/health/").content.decode()
    removed = client.post(f"/trading/health/webhooks/{hook.pk}/remove/", HTTP_HX_REQUEST="true")

    assert 'hx-confirm="Remove the webhook ops? Alerts no longer go there."' in page
    assert removed.headers["HX-Redirect"] == "/trading/health/"  # the page, loaded again
    assert not AlertWebhook.objects.exists()


async def test_streams_are_named_by_subaccount_with_the_age_of_their_last_message(desk, agent):
    viewer = await sync_to_async(UserFactory)(username="vera")
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=desk)
    ten_s_ago = timezone.now() - timezone.timedelta(seconds=10)
    agent.streams.report(f"subaccount.{desk.pk}", True, ten_s_ago)
    agent.streams.report("market.SOL_USDC", True)
    await agent.tick()
    client = AsyncClient()
    await client.aforce_login(viewer)

    page = (await client.get("/trading/health/")).content.decode()

    private = page.split(f'data-stream="subaccount.{desk.pk}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Stream">Desk A (account events)</td>' in private
    age = float(private.split('data-age="', 1)[1].split('"', 1)[0])
    assert 10 <= age < 20
    market = page.split('data-stream="market.SOL_USDC"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Stream">SOL_USDC (market data)</td>' in market
    assert ">none since connecting</td>" in market


@pytest.mark.parametrize(
    ("urls", "words"),
    [
        (["https://a.example.test/1"], "1 more URL comes from DASHBOARD_ALERT_WEBHOOKS."),
        (
            ["https://a.example.test/1", "https://b.example.test/2"],
            "2 more URLs come from DASHBOARD_ALERT_WEBHOOKS.",
        ),
    ],
)
def test_the_webhooks_from_the_environment_are_counted_in_words(db, settings, urls, words):
    settings.DASHBOARD_ALERT_WEBHOOKS = urls
    client = Client()
    client.force_login(SuperuserFactory(username="sam"))

    assert words in client.get("/trading/health/").content.decode()
