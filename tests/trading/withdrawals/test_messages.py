"""What the withdrawals page says: a request its requester takes back is cancelled, not
rejected, and the exchange's refusal is said once, in its own words, without the API path."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuditEvent
from tests.factories import WithdrawalAddressFactory
from tests.trading.withdrawals.conftest import client_on, code_of
from tests.trading.withdrawals.test_pages import _page_url, on_sandbox, verified
from trading.withdrawals.models import WithdrawalPolicy, WithdrawalRequest
from trading.withdrawals.services import withdrawal_reject, withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)
Status = WithdrawalRequest.Status
__all__ = ["on_sandbox"]


async def _request_on_page(client, desk, quantity: str = "42") -> WithdrawalRequest:
    await client.post(
        _page_url(desk) + "request/",
        {
            "asset": "USDC",
            "quantity": quantity,
            "address_id": desk.address.pk,
            "otp_code": await sync_to_async(code_of)(desk.alice),
        },
    )
    return await WithdrawalRequest.objects.aget()


async def test_the_requester_cancels_their_own_request(desk, on_sandbox):
    alice = await verified(desk.alice)
    record = await _request_on_page(alice, desk)

    cancelled = await alice.post(_page_url(desk) + f"{record.pk}/reject/", follow=True)

    page = cancelled.content.decode()
    assert "Cancelled the withdrawal of 42.00 USDC to treasury." in page
    assert "Rejected" not in page
    row = page.split(f'data-withdrawal="{record.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="cancelled"' in row
    assert "cancelled by alice" in row
    await record.arefresh_from_db()
    assert record.status == Status.CANCELLED
    assert await AuditEvent.objects.filter(action="withdrawal_cancel").acount() == 1


async def test_a_second_admin_still_rejects(desk, on_sandbox):
    alice, bob = await verified(desk.alice), await verified(desk.bob)
    record = await _request_on_page(alice, desk)

    rejected = await bob.post(_page_url(desk) + f"{record.pk}/reject/", follow=True)

    page = rejected.content.decode()
    assert "Rejected the withdrawal of 42.00 USDC to treasury." in page
    row = page.split(f'data-withdrawal="{record.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "rejected by bob" in row
    await record.arefresh_from_db()
    assert record.status == Status.REJECTED


async def test_the_service_cancels_when_the_requester_rejects(sandbox, exchange, desk):
    record = await withdrawal_request(
        actor=desk.alice,
        subaccount=desk.subaccount,
        asset="USDC",
        quantity="42",
        address_id=desk.address.pk,
        otp_code=await sync_to_async(code_of)(desk.alice),
        client=client_on(exchange, sandbox, desk),
    )

    done = await sync_to_async(withdrawal_reject)(
        actor=desk.alice, subaccount=desk.subaccount, withdrawal_id=record.pk
    )

    assert (done.status, done.decided_by_id) == (Status.CANCELLED, desk.alice.pk)


async def test_the_exchange_s_refusal_is_said_once_without_the_api_path(sandbox, exchange, desk):
    await WithdrawalPolicy.objects.filter(subaccount=desk.subaccount).aupdate(
        second_admin_required=False
    )
    not_exempt_there = await sync_to_async(WithdrawalAddressFactory)(
        subaccount=desk.subaccount,
        address="9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
        label="cold",
        added_by=desk.alice,
    )

    record = await withdrawal_request(
        actor=desk.alice,
        subaccount=desk.subaccount,
        asset="USDC",
        quantity="42",
        address_id=not_exempt_there.pk,
        otp_code=await sync_to_async(code_of)(desk.alice),
        client=client_on(exchange, sandbox, desk),
    )

    assert record.status == Status.FAILED
    assert record.error == (
        "The exchange refused the withdrawal: Withdrawal address is not 2FA exempt: add it to "
        "the address book with two-factor authentication disabled. If it is 2FA-exempt there "
        "already, check that the subaccount's API key may withdraw."
    )
