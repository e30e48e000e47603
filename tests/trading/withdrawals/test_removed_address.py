"""An address removed from the book (or no longer usable) is never sent to: removing it cancels
the requests that wait for it, and approving or sending re-checks the book first."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from accounts.errors import ServiceError
from accounts.models import AuditEvent
from tests.trading.withdrawals.conftest import client_on, code_of, fresh_code_of
from tests.trading.withdrawals.test_pages import _page_url, on_sandbox, verified
from trading.withdrawals.models import WithdrawalAddress, WithdrawalPolicy, WithdrawalRequest
from trading.withdrawals.services import (
    WithdrawalError,
    withdrawal_approve,
    withdrawal_request,
    withdrawal_send,
)
from trading.withdrawals.settings_services import withdrawal_address_remove

pytestmark = pytest.mark.django_db(transaction=True)
Status = WithdrawalRequest.Status
__all__ = ["on_sandbox"]


async def _request(desk, client, quantity: str = "13.13") -> WithdrawalRequest:
    return await withdrawal_request(
        actor=desk.alice,
        subaccount=desk.subaccount,
        asset="USDC",
        quantity=quantity,
        address_id=desk.address.pk,
        otp_code=await sync_to_async(fresh_code_of)(desk.alice),
        client=client,
    )


async def _approve(desk, record, client) -> WithdrawalRequest:
    return await withdrawal_approve(
        actor=desk.bob,
        subaccount=desk.subaccount,
        withdrawal_id=record.pk,
        otp_code=await sync_to_async(fresh_code_of)(desk.bob),
        client=client,
    )


async def test_removing_an_address_cancels_the_requests_waiting_for_it(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)
    record = await _request(desk, client)

    await sync_to_async(withdrawal_address_remove)(
        actor=desk.alice,
        subaccount=desk.subaccount,
        address_id=desk.address.pk,
        otp_code=await sync_to_async(fresh_code_of)(desk.alice),
    )
    with pytest.raises(WithdrawalError) as refused:
        await _approve(desk, record, client)

    assert refused.value.message == (
        "This withdrawal is cancelled already; only a waiting one can be decided."
    )
    await record.arefresh_from_db()
    assert record.status == Status.CANCELLED
    assert record.reject_reason == "alice removed the address from the address book."
    assert await client.withdrawals() == []
    removal = await AuditEvent.objects.aget(action="withdrawal_address_remove")
    assert removal.parameters["cancelled_withdrawals"] == [
        {
            "withdrawal": record.pk,
            "client_id": record.client_id,
            "asset": "USDC",
            "quantity": "13.13",
        }
    ]


async def test_approving_refuses_a_request_whose_address_left_the_book(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)
    record = await _request(desk, client)
    # As an earlier release removed addresses: the request was left waiting.
    await WithdrawalAddress.objects.filter(pk=desk.address.pk).adelete()

    with pytest.raises(WithdrawalError) as refused:
        await _approve(desk, record, client)

    assert refused.value.message == (
        "Not approved: treasury (Solana) is no longer in the address book, so nothing was "
        "sent. Reject this request; the requester can ask again with an address from the book."
    )
    await record.arefresh_from_db()
    assert record.status == Status.PENDING
    assert await client.withdrawals() == []
    denied = await AuditEvent.objects.aget(result="denied")
    assert denied.action == "withdrawal_approve"


async def test_approving_refuses_an_address_no_longer_usable(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)
    record = await _request(desk, client)
    await WithdrawalAddress.objects.filter(pk=desk.address.pk).aupdate(approved_by=None)

    with pytest.raises(WithdrawalError) as refused:
        await _approve(desk, record, client)

    assert refused.value.message == (
        "Not approved: that address still waits for a second admin's approval in the address book."
    )
    await record.arefresh_from_db()
    assert record.status == Status.PENDING
    assert await client.withdrawals() == []


async def test_a_request_whose_outcome_was_unknown_is_not_sent_once_its_address_is_gone(
    sandbox, desk, lossy
):
    await WithdrawalPolicy.objects.filter(subaccount=desk.subaccount).aupdate(
        second_admin_required=False
    )
    proxy, session = lossy
    proxy.drop, proxy.fail_history = 1, True  # it never arrived, and nobody can tell yet
    client = client_on(session, sandbox, desk)
    record = await _request(desk, client)
    await sync_to_async(withdrawal_address_remove)(
        actor=desk.alice,
        subaccount=desk.subaccount,
        address_id=desk.address.pk,
        otp_code=await sync_to_async(fresh_code_of)(desk.alice),
    )
    proxy.fail_history = False

    after = await withdrawal_send(
        actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk, client=client
    )

    assert record.status == Status.UNKNOWN  # removing the address left it to be reconciled
    assert after.status == Status.CANCELLED
    assert after.reject_reason == (
        "treasury (Solana) is no longer in the address book; nothing was sent."
    )
    assert await client.withdrawals() == []
    assert proxy.withdrawals_seen == 1


async def test_the_testers_steps_through_the_pages(sandbox, desk, on_sandbox):
    alice, bob = await verified(desk.alice), await verified(desk.bob)
    await alice.post(
        _page_url(desk) + "request/",
        {
            "asset": "USDC",
            "quantity": "13.13",
            "address_id": desk.address.pk,
            "otp_code": await sync_to_async(code_of)(desk.alice),
        },
    )
    record = await WithdrawalRequest.objects.aget()

    removed = await alice.post(
        f"/accounts/subaccounts/{desk.subaccount.pk}/withdrawals/{desk.address.pk}/remove/",
        {"otp_code": await sync_to_async(fresh_code_of)(desk.alice)},
        follow=True,
    )
    bob_page = (await bob.get(_page_url(desk))).content.decode()
    approved = await bob.post(
        _page_url(desk) + f"{record.pk}/approve/",
        {"otp_code": await sync_to_async(code_of)(desk.bob)},
        follow=True,
    )

    assert (
        "Address removed from the book; 1 withdrawal waiting for it was cancelled."
        in removed.content.decode()
    )
    row = bob_page.split(f'data-withdrawal="{record.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="cancelled"' in row
    assert "Approve</button>" not in row
    assert "alice removed the address from the address book." in row
    assert "cancelled by alice" in row
    assert (
        "This withdrawal is cancelled already; only a waiting one can be decided."
        in approved.content.decode()
    )
    assert "Sent 13.13 USDC" not in approved.content.decode()
    await record.arefresh_from_db()
    assert record.status == Status.CANCELLED and record.exchange_id == ""


async def test_an_address_with_a_withdrawal_being_sent_is_not_removed(sandbox, exchange, desk):
    client = client_on(exchange, sandbox, desk)
    record = await _request(desk, client)
    await WithdrawalRequest.objects.filter(pk=record.pk).aupdate(status=Status.SENDING)

    with pytest.raises(ServiceError) as refused:
        await sync_to_async(withdrawal_address_remove)(
            actor=desk.alice,
            subaccount=desk.subaccount,
            address_id=desk.address.pk,
            otp_code=await sync_to_async(fresh_code_of)(desk.alice),
        )

    assert refused.value.message == (
        "A withdrawal to this address is being sent right now; remove the address once the "
        "withdrawals page shows it sent (in a minute at most)."
    )
    assert await WithdrawalAddress.objects.filter(pk=desk.address.pk).aexists()
    await record.arefresh_from_db()
    assert record.status == Status.SENDING
