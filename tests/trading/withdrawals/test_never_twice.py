"""A withdrawal whose answer was lost is found in the exchange's history, never sent twice."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tests.trading.withdrawals.conftest import client_on, code_of
from trading.withdrawals.models import WithdrawalPolicy, WithdrawalRequest
from trading.withdrawals.services import withdrawal_request, withdrawal_send

pytestmark = pytest.mark.django_db(transaction=True)
Status = WithdrawalRequest.Status


async def _send_now(desk, client):
    await WithdrawalPolicy.objects.filter(subaccount=desk.subaccount).aupdate(
        second_admin_required=False
    )
    return await withdrawal_request(
        actor=desk.alice,
        subaccount=desk.subaccount,
        asset="USDC",
        quantity="125",
        address_id=desk.address.pk,
        otp_code=await sync_to_async(code_of)(desk.alice),
        client=client,
    )


async def test_a_lost_answer_is_reconciled_from_the_history_not_resent(sandbox, desk, lossy):
    proxy, session = lossy
    proxy.lose = 1
    client = client_on(session, sandbox, desk)

    record = await _send_now(desk, client)
    again = (
        await withdrawal_send(
            actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
        )
        if record.status != Status.SENT
        else record
    )

    history = await client.withdrawals()
    assert [w.client_id for w in history] == [record.client_id]
    assert record.status == Status.SENT
    assert record.exchange_id == str(history[0].id)
    assert again.status == Status.SENT
    assert proxy.withdrawals_seen == 1


async def test_an_answer_lost_before_the_exchange_is_sent_again_only_on_request(
    sandbox, desk, lossy
):
    proxy, session = lossy
    proxy.drop = 1
    client = client_on(session, sandbox, desk)

    record = await _send_now(desk, client)
    nothing_yet = await client.withdrawals()
    resent = await withdrawal_send(
        actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
    )

    assert record.status == Status.APPROVED
    assert record.error.startswith("The exchange never received this withdrawal;")
    assert nothing_yet == []
    assert resent.status == Status.SENT
    assert [w.client_id for w in await client.withdrawals()] == [record.client_id]
    assert proxy.withdrawals_seen == 2


async def test_sending_a_sent_withdrawal_again_is_refused(sandbox, desk, exchange):
    client = client_on(exchange, sandbox, desk)
    record = await _send_now(desk, client)

    from trading.withdrawals.services import WithdrawalError

    with pytest.raises(WithdrawalError, match="there is nothing to send"):
        await withdrawal_send(
            actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
        )
    assert len(await client.withdrawals()) == 1


async def test_a_send_interrupted_midway_is_settled_from_the_history(sandbox, desk, lossy):
    from datetime import timedelta

    from django.utils import timezone

    proxy, session = lossy
    proxy.lose = 1
    client = client_on(session, sandbox, desk)
    record = await _send_now(desk, client)
    # As if the process had stopped right after calling the exchange, two minutes ago.
    await WithdrawalRequest.objects.filter(pk=record.pk).aupdate(
        status=Status.SENDING, exchange_id="", updated_at=timezone.now() - timedelta(minutes=2)
    )

    settled = await withdrawal_send(
        actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
    )

    assert settled.status == Status.SENT
    assert settled.exchange_id == str((await client.withdrawals())[0].id)
    assert proxy.withdrawals_seen == 1


async def test_nothing_is_resent_while_the_history_cannot_be_read(sandbox, desk, lossy):
    proxy, session = lossy
    proxy.lose = 1
    proxy.fail_history = True
    client = client_on(session, sandbox, desk)

    record = await _send_now(desk, client)
    retried = await withdrawal_send(
        actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
    )
    proxy.fail_history = False
    settled = await withdrawal_send(
        actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
    )

    assert record.status == Status.UNKNOWN
    assert record.error.startswith("Could not check the exchange's withdrawal history")
    assert retried.status == Status.UNKNOWN
    assert settled.status == Status.SENT
    assert proxy.withdrawals_seen == 1
    assert [w.client_id for w in await client.withdrawals()] == [record.client_id]
