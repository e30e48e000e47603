"""The daily loss limit on the sandbox: a losing position past the limit switches the
subaccount to reduce-only with one alert (bell and webhook), refuses new risk naming the limit,
lets a reduce-only order pass; an admin's release lifts it for the day."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from html import escape

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.risk.test_gate_on_the_sandbox import limits, open_long, send, ticket
from trading.ledger.keeper import LedgerKeeper
from trading.ledger.services import ledger_sync
from trading.models import Alert, LedgerEntry, RiskBreach, RiskDayStart, RiskLimit, WebhookDelivery
from trading.risk.loss import daily_loss_for, risk_loss_release, risk_loss_watch, today_utc

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

PERP = "SOL_USDC_PERP"
HOOK = "http://127.0.0.1:9/desk-alerts"
STOP = (
    "Order refused: reduce-only (daily loss limit: today's loss 20.15 USDC passed the limit "
    "of 10.00 USDC): only orders that reduce risk until an admin releases it or the day ends."
)


@pytest.fixture
def admin(desk):
    user = UserFactory(username="ada")
    MembershipFactory(user=user, subaccount=desk.main, role=Role.ADMIN)
    TOTPDeviceFactory(user=user)
    return user


code = sync_to_async(lambda user: fresh_totp(TOTPDevice.objects.get(user=user)))


async def losing_long(desk) -> None:
    """Arrange: a long of 2 SOL perp bought at 150 in the ledger, the mark down to 140."""
    await open_long(desk)
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))
    await asyncio.to_thread(desk.sandbox.set_mark_price, PERP, "140")


async def test_the_loss_is_read_from_the_ledger_at_mark(desk) -> None:
    await losing_long(desk)

    loss = await sync_to_async(daily_loss_for)(subaccount=desk.main, marks={PERP: Decimal("140")})

    assert loss == Decimal("20.15")  # 2 x (150 - 140) and the taker fee 0.05% of 300


async def test_a_loss_past_the_limit_stops_new_risk_once_and_alerts_once(desk, settings) -> None:
    settings.DASHBOARD_ALERT_WEBHOOKS = [HOOK]
    await limits(desk, daily_loss_limit=Decimal("10"))
    await losing_long(desk)

    first = await send(desk, n=1)
    second = await send(desk, n=2)

    assert escape(STOP) in first and escape(STOP) in second
    breaches = [b.limit async for b in RiskBreach.objects.all()]
    assert breaches == ["daily_loss_limit", "daily_loss_limit"]
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert (row.loss_stop_day, row.reduce_only) == (today_utc(), False)
    alert = await Alert.objects.aget(kind="daily_loss")
    assert alert.message == (
        "Main desk: the whole subaccount switched to reduce-only: today's loss 20.15 USDC "
        "passed the daily loss limit of 10.00 USDC."
    )
    assert await WebhookDelivery.objects.filter(url=HOOK).acount() == 1
    assert await AuditEvent.objects.filter(action="risk_daily_loss_stop").acount() == 1


async def test_a_reduce_only_order_passes_the_loss_stop(desk) -> None:
    await limits(desk, daily_loss_limit=Decimal("10"))
    await losing_long(desk)
    assert escape(STOP) in await send(desk, n=1)

    html = await send(desk, PERP, n=2, side="Ask", price="140", quantity="1", reduce_only="on")

    assert 'data-result="ok"' in html, html


async def test_an_admins_release_lifts_the_stop_for_the_day(desk, admin) -> None:
    await limits(desk, daily_loss_limit=Decimal("10"))
    await losing_long(desk)
    assert escape(STOP) in await send(desk, n=1)

    await risk_loss_release(actor=admin, subaccount=desk.main, otp_code=await code(admin))

    assert 'data-result="ok"' in await send(desk, n=2)
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert (row.loss_stop_day, row.loss_released_day) == (None, today_utc())
    alert = await Alert.objects.aget(kind="daily_loss")
    assert alert.cleared_at is not None
    event = await AuditEvent.objects.aget(action="risk_daily_loss_release")
    assert (event.result, event.detail) == (
        "ok",
        "released: daily loss limit: today's loss 20.15 USDC passed the limit of 10.00 USDC",
    )


async def test_yesterdays_stop_is_over(desk) -> None:
    row = await limits(desk, daily_loss_limit=Decimal("10"))
    row.loss_stop_day = today_utc() - timedelta(days=1)
    row.loss_stop_reason = "daily loss limit: an old day"
    await row.asave()

    assert 'data-result="ok"' in await send(desk, n=1)


def test_the_risk_page_shows_the_stop_and_its_button_releases_it(desk, admin) -> None:
    RiskLimit.objects.create(
        subaccount=desk.main,
        daily_loss_limit=Decimal("10"),
        loss_stop_day=today_utc(),
        loss_stop_reason="daily loss limit: today's loss 20.15 USDC passed the limit of 10.00 USDC",
    )
    client = verified_client(admin)
    page = client.get(f"/trading/subaccounts/{desk.main.pk}/risk/").content.decode()
    assert (
        '<li data-who="Whole subaccount">Whole subaccount: daily loss limit: today&#x27;s loss '
        "20.15 USDC passed the limit of 10.00 USDC"
    ) in page

    response = client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/loss-release/",
        {"member": "", "otp_code": fresh_totp(TOTPDevice.objects.get(user=admin))},
        follow=True,
    )

    html = response.content.decode()
    assert "The whole subaccount may trade again: daily loss stop released for today." in html
    assert '<li class="muted">No daily loss stop today.</li>' in html
    assert RiskLimit.objects.get(subaccount=desk.main).loss_released_day == today_utc()


async def test_a_members_own_loss_stops_only_that_member(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await RiskLimit.objects.acreate(
        subaccount=desk.main, member=desk.trader, daily_loss_limit=Decimal("10")
    )
    await open_long(desk)  # sent outside the desk: the trader's own loss is nothing yet
    # the trader buys 2 at 150 from the maker's rest: 2 x 10 + fees lost at a mark of 140
    assert 'data-result="ok"' in await send(desk, PERP, n=1, price="150", quantity="2")
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))
    await asyncio.to_thread(desk.sandbox.set_mark_price, PERP, "140")

    html = await send(desk, n=3)

    assert (
        escape(
            "Order refused: reduce-only (daily loss limit of trader: today's loss 20.15 USDC "
            "passed the limit of 10.00 USDC): only orders that reduce risk until an admin "
            "releases it or the day ends."
        )
        in html
    ), html
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=desk.trader)
    assert row.loss_stop_day == today_utc()
    whole = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert whole.loss_stop_day is None


async def test_the_ledger_keeper_stops_a_loss_without_any_order(desk) -> None:
    await limits(desk, daily_loss_limit=Decimal("10"))
    await open_long(desk)
    await asyncio.to_thread(desk.sandbox.set_mark_price, PERP, "140")
    keeper = LedgerKeeper()

    await keeper.sync_one(desk.main)

    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert row.loss_stop_reason == (
        "daily loss limit: today's loss 20.15 USDC passed the limit of 10.00 USDC"
    )
    assert await Alert.objects.filter(kind="daily_loss", cleared_at__isnull=True).acount() == 1
    await keeper.sync_one(desk.main)
    assert await Alert.objects.filter(kind="daily_loss").acount() == 1


async def test_yesterdays_alert_clears_at_the_next_check(desk) -> None:
    await limits(desk, daily_loss_limit=Decimal("10"))
    yesterday = (today_utc() - timedelta(days=1)).isoformat()
    now = timezone.now()
    await Alert.objects.acreate(
        key=f"daily_loss:{desk.main.pk}:subaccount:{yesterday}",
        kind="daily_loss",
        subaccount=desk.main,
        message="Main desk: the whole subaccount switched to reduce-only: ...",
        opened_at=now,
        last_seen_at=now,
    )

    await risk_loss_watch(subaccount=desk.main)

    alert = await Alert.objects.aget(kind="daily_loss")
    assert alert.cleared_at is not None


async def test_the_ticket_check_says_the_loss_stop_before_sending(desk) -> None:
    await limits(desk, daily_loss_limit=Decimal("10"))
    await losing_long(desk)
    assert escape(STOP) in await send(desk, n=1)
    client = await client_for_user(desk.trader)

    response = await client.post("/trading/market/SOL_USDC/ticket/check/", ticket(desk, n=2), **HX)

    assert (
        escape(
            "Reduce-only (daily loss limit: today's loss 20.15 USDC passed the limit of "
            "10.00 USDC): only orders that reduce risk will pass."
        )
        in response.content.decode()
    )


async def test_a_loss_accrued_before_today_does_not_count_again_today(desk) -> None:
    await limits(desk, daily_loss_limit=Decimal("100"))
    await open_long(desk, quantity="5")  # 5 SOL perp at 150 ...
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))
    yesterday = timezone.now() - timedelta(days=1)
    await LedgerEntry.objects.filter(subaccount=desk.main).aupdate(occurred_at=yesterday)
    await asyncio.to_thread(desk.sandbox.set_mark_price, PERP, "50")  # ... down 500 yesterday

    html = await send(desk, n=1)

    assert 'data-result="ok"' in html, html
    assert await sync_to_async(daily_loss_for)(
        subaccount=desk.main, marks={PERP: Decimal("50")}
    ) == Decimal("0")
    start = await RiskDayStart.objects.aget(subaccount=desk.main, level=0, day=today_utc())
    assert start.unrealized == Decimal("-500")
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert row.loss_stop_day is None
    # The sentinel: the same position losing 105 more today does trip the limit.
    await asyncio.to_thread(desk.sandbox.set_mark_price, PERP, "29")
    await risk_loss_watch(subaccount=desk.main)
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert row.loss_stop_reason == (
        "daily loss limit: today's loss 105.00 USDC passed the limit of 100.00 USDC"
    )


async def test_todays_fills_count_their_whole_change_next_to_yesterdays_position(desk) -> None:
    await open_long(desk, quantity="1")  # 1 SOL perp at 150 yesterday
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))
    yesterday = timezone.now() - timedelta(days=1)
    await LedgerEntry.objects.filter(subaccount=desk.main).aupdate(occurred_at=yesterday)
    first = {PERP: Decimal("140")}  # down 10 yesterday: the day's first evaluation
    assert await sync_to_async(daily_loss_for)(subaccount=desk.main, marks=first) == 0
    await open_long(desk, quantity="1")  # 1 more at 150 today, taker fee 0.075
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))

    loss = await sync_to_async(daily_loss_for)(subaccount=desk.main, marks={PERP: Decimal("130")})

    # yesterday's unit: 140 -> 130 today; today's unit: 150 -> 130 and its fee
    assert loss == Decimal("10") + Decimal("20") + Decimal("0.075")
