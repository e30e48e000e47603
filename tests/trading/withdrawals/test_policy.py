"""Withdrawal policy against the sandbox: limits, approval, TOTP, refusals, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent, Role
from tests.factories import MembershipFactory, UserFactory, WithdrawalAddressFactory
from tests.trading.withdrawals.conftest import EXEMPT_ADDRESS, client_on, code_of, fresh_code_of
from trading.withdrawals.models import WithdrawalLimit, WithdrawalPolicy, WithdrawalRequest
from trading.withdrawals.services import (
    WithdrawalError,
    plain,
    withdrawal_approve,
    withdrawal_reject,
    withdrawal_request,
)

pytestmark = pytest.mark.django_db(transaction=True)
Status = WithdrawalRequest.Status


async def _request(
    desk, client, *, user=None, quantity="250", asset="USDC", address=None, code=None
):
    user = user or desk.alice
    return await withdrawal_request(
        actor=user,
        subaccount=desk.subaccount,
        asset=asset,
        quantity=quantity,
        address_id=(address or desk.address).pk,
        otp_code=code if code is not None else await sync_to_async(code_of)(user),
        client=client,
    )


async def _no_second_admin(desk) -> None:
    await WithdrawalPolicy.objects.filter(subaccount=desk.subaccount).aupdate(
        second_admin_required=False
    )


async def test_without_second_admin_the_withdrawal_is_sent_at_once(sandbox, exchange, desk):
    await _no_second_admin(desk)
    client = client_on(exchange, sandbox, desk)

    record = await _request(desk, client, quantity="250.5")

    assert record.status == Status.SENT
    history = await client.withdrawals()
    assert [(w.client_id, w.quantity, w.to_address) for w in history] == [
        (record.client_id, Decimal("250.5"), EXEMPT_ADDRESS)
    ]
    assert record.exchange_id == str(history[0].id)
    actions = [a async for a in AuditEvent.objects.order_by("id").values_list("action", "result")]
    assert actions == [("withdrawal_request", "ok"), ("withdrawal_send", "ok")]


async def test_a_second_admin_approves_and_only_then_it_is_sent(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)

    record = await _request(desk, client)
    waiting = await client.withdrawals()
    approved = await withdrawal_approve(
        actor=desk.bob,
        subaccount=desk.subaccount,
        withdrawal_id=record.pk,
        otp_code=await sync_to_async(code_of)(desk.bob),
        client=client,
    )

    assert record.status == Status.PENDING
    assert waiting == []
    assert approved.status == Status.SENT
    assert approved.decided_by_id == desk.bob.pk
    assert [w.client_id for w in await client.withdrawals()] == [record.client_id]


async def test_nobody_approves_their_own_request(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)
    record = await _request(desk, client)

    with pytest.raises(WithdrawalError) as refused:
        await withdrawal_approve(
            actor=desk.alice,
            subaccount=desk.subaccount,
            withdrawal_id=record.pk,
            otp_code="000000",
            client=client,
        )

    assert refused.value.message == "You requested this withdrawal; a second admin must approve it."
    await record.arefresh_from_db()
    assert record.status == Status.PENDING
    assert await client.withdrawals() == []


async def test_a_rejected_request_is_never_sent_and_frees_the_daily_limit(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)
    first = await _request(desk, client, quantity="800")
    with pytest.raises(WithdrawalError) as over:
        await _request(desk, client, user=desk.bob, quantity="300")

    await sync_to_async(withdrawal_reject)(
        actor=desk.bob, subaccount=desk.subaccount, withdrawal_id=first.pk, reason="wrong amount"
    )
    second = await _request(desk, client, user=desk.bob, quantity="300")

    assert over.value.message == (
        "Over the daily limit: 1000 USDC a day, 800 requested today, 200 left."
    )
    assert over.value.field == "quantity"
    await first.arefresh_from_db()
    assert first.status == Status.REJECTED and first.reject_reason == "wrong amount"
    assert second.status == Status.PENDING
    with pytest.raises(WithdrawalError, match="only a waiting one can be decided"):
        await withdrawal_approve(
            actor=desk.alice,
            subaccount=desk.subaccount,
            withdrawal_id=first.pk,
            otp_code=await sync_to_async(code_of)(desk.alice),
            client=client,
        )
    assert await client.withdrawals() == []


async def test_more_than_the_exchange_allows_is_refused_with_the_maximum(sandbox, exchange, desk):
    await WithdrawalRequest.objects.all().adelete()
    await WithdrawalLimit.objects.filter(subaccount=desk.subaccount).aupdate(
        daily_limit=Decimal("100000000")
    )
    client = client_on(exchange, sandbox, desk)
    available = (await client.max_withdrawal_quantity("USDC")).max_quantity

    with pytest.raises(WithdrawalError) as refused:
        await _request(desk, client, quantity=str(available + 1))

    assert refused.value.message == (
        f"More than available: at most {plain(available)} USDC can be withdrawn now."
    )
    assert not await WithdrawalRequest.objects.aexists()


async def test_an_address_not_confirmed_as_exempt_is_refused(sandbox, exchange, desk):
    unconfirmed = await sync_to_async(WithdrawalAddressFactory)(
        subaccount=desk.subaccount, confirmed_2fa_exempt=False, added_by=desk.alice
    )
    elsewhere = await sync_to_async(WithdrawalAddressFactory)(added_by=desk.alice)
    client = client_on(exchange, sandbox, desk)

    with pytest.raises(WithdrawalError) as not_exempt:
        await _request(desk, client, address=unconfirmed)
    with pytest.raises(WithdrawalError) as foreign:
        await _request(desk, client, address=elsewhere)

    assert not_exempt.value.message.startswith(
        "That address is not confirmed as 2FA-exempt on the exchange;"
    )
    assert foreign.value.message == "That address is not in this subaccount's address book."
    assert not await WithdrawalRequest.objects.aexists()
    denied = [a async for a in AuditEvent.objects.filter(result="denied").values_list("action")]
    assert denied == [("withdrawal_request",), ("withdrawal_request",)]


async def test_the_code_is_required_and_works_only_once(sandbox, exchange, desk, settings):
    # Throttling off: each refused code would hold the authenticator for a second, and the
    # next code typed within it is answered with the wait (tests/trading/withdrawals/
    # test_pages.py), not checked.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = client_on(exchange, sandbox, desk)
    code = await sync_to_async(code_of)(desk.alice)

    first = await _request(desk, client, code=code, quantity="10")
    with pytest.raises(WithdrawalError) as reused:
        await _request(desk, client, code=code, quantity="10")
    with pytest.raises(WithdrawalError) as wrong:
        await _request(desk, client, code="123456" if code != "123456" else "654321")

    message = (
        "That two-factor code is wrong or was used already. Wait for the next code in "
        "your app and type it."
    )
    assert wrong.value.message == message and wrong.value.field == "otp_code"
    assert reused.value.message == message
    assert first.status == Status.PENDING
    assert await WithdrawalRequest.objects.acount() == 1


async def test_only_admins_request_withdrawals(sandbox, exchange, desk):
    trader = await sync_to_async(UserFactory)(username="tess")
    await sync_to_async(MembershipFactory)(
        user=trader, subaccount=desk.subaccount, role=Role.TRADER
    )

    with pytest.raises(PermissionDenied):
        await _request(desk, client_on(exchange, sandbox, desk), user=trader, code="000000")

    assert not await WithdrawalRequest.objects.aexists()


async def test_the_exchange_rules_on_chain_and_minimum_are_explained(sandbox, exchange, desk):
    await WithdrawalLimit.objects.acreate(
        subaccount=desk.subaccount, asset="BTC", daily_limit=Decimal("5")
    )
    client = client_on(exchange, sandbox, desk)

    with pytest.raises(WithdrawalError) as wrong_chain:
        await _request(desk, client, asset="BTC", quantity="0.5")
    with pytest.raises(WithdrawalError) as too_small:
        await _request(desk, client, quantity="1.5")

    assert wrong_chain.value.message == (
        "BTC does not move on Solana; choose an address on Bitcoin."
    )
    assert wrong_chain.value.field == "address"
    assert too_small.value.message == "Below the exchange's minimum withdrawal of 2 USDC on Solana."
    assert not await WithdrawalRequest.objects.aexists()


async def test_more_decimals_than_the_asset_has_on_its_blockchain_are_refused(
    sandbox, exchange, desk
):
    client = client_on(exchange, sandbox, desk)

    with pytest.raises(WithdrawalError) as refused:
        await _request(desk, client, quantity="10.0000000001")
    nine = await _request(desk, client, user=desk.bob, quantity="10.000000001")

    assert refused.value.message == (
        "USDC on Solana has at most 9 decimals; 10.0000000001 has 10. "
        "Round the quantity to 9 decimals."
    )
    assert refused.value.field == "quantity"
    assert nine.status == Status.PENDING
    assert [r.quantity async for r in WithdrawalRequest.objects.all()] == [Decimal("10.000000001")]


async def test_the_quantity_goes_to_the_exchange_as_typed(sandbox, desk, lossy):
    proxy, session = lossy
    client = client_on(session, sandbox, desk)
    record = await _request(desk, client, quantity="10.000000001")

    sent = await withdrawal_approve(
        actor=desk.bob,
        subaccount=desk.subaccount,
        withdrawal_id=record.pk,
        otp_code=await sync_to_async(code_of)(desk.bob),
        client=client,
    )

    assert sent.status == Status.SENT
    # not the database's 18 places ("10.000000001000000000"): more than USDC's 9 there
    assert [body["quantity"] for body in proxy.withdrawal_bodies] == ["10.000000001"]


async def test_the_daily_limit_starts_its_day_at_the_teams_midnight(sandbox, exchange, desk):
    # The team works in UTC+14, as the daily loss limits count its days: what was requested
    # a minute before its midnight counts for yesterday, a minute after for today (whatever
    # the hour in UTC, one of the two falls on the other side of UTC's midnight).
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from accounts.models import TeamSetting

    zone = ZoneInfo("Pacific/Kiritimati")
    await TeamSetting.objects.aupdate_or_create(pk=1, defaults={"time_zone": zone.key})
    client = client_on(exchange, sandbox, desk)
    midnight = datetime.combine(datetime.now(zone).date(), time(), zone)
    for quantity, minutes in (("800", -1), ("100", 1)):
        code = await sync_to_async(fresh_code_of)(desk.alice)
        made = await _request(desk, client, quantity=quantity, code=code)
        await WithdrawalRequest.objects.filter(pk=made.pk).aupdate(
            created_at=midnight + timedelta(minutes=minutes)
        )

    today = await _request(desk, client, user=desk.bob, quantity="800")

    assert today.status == Status.PENDING  # 100 + 800 of today's 1000
    with pytest.raises(WithdrawalError) as over:
        await _request(
            desk, client, quantity="200", code=await sync_to_async(fresh_code_of)(desk.alice)
        )
    assert over.value.message == (
        "Over the daily limit: 1000 USDC a day, 900 requested today, 100 left."
    )
