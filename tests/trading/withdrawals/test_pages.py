"""The withdrawals page through Django's async client, against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.fields import storable_digits
from tests.factories import WithdrawalAddressFactory
from tests.trading.withdrawals.conftest import client_on, code_of
from trading.exchange import close_session, exchange_session
from trading.formatting import fixed
from trading.withdrawals.models import WithdrawalRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def on_sandbox(sandbox, settings) -> AsyncIterator[None]:
    """The dashboard's exchange session points at the sandbox (closed after the test)."""
    settings.BACKPACK_API_URL = sandbox.api_url
    yield
    await close_session()


async def verified(user) -> AsyncClient:
    """A client signed in as `user` in a session that passed two-factor."""
    client = AsyncClient()
    await client.aforce_login(user)
    device_id = await sync_to_async(lambda: TOTPDevice.objects.get(user=user).persistent_id)()
    session = await client.asession()
    await session.aset(DEVICE_ID_SESSION_KEY, device_id)
    await session.asave()
    return client


def _page_url(desk) -> str:
    return f"/trading/subaccounts/{desk.subaccount.pk}/withdrawals/"


async def test_the_page_offers_only_usable_addresses_and_the_max_withdrawable(
    sandbox, desk, on_sandbox
):
    await sync_to_async(WithdrawalAddressFactory)(
        subaccount=desk.subaccount,
        label="not confirmed",
        confirmed_2fa_exempt=False,
        added_by=desk.alice,
    )
    client = await verified(desk.alice)

    response = await client.get(_page_url(desk))
    exchange = client_on(exchange_session(), sandbox, desk)
    available = (await exchange.max_withdrawal_quantity("USDC")).max_quantity

    page = response.content.decode()
    assert response.status_code == 200
    assert "treasury · Solana" in page
    assert "not confirmed" not in page
    assert available > Decimal("1000")  # so the daily limit is what binds
    assert '<span class="max-amount" data-asset="USDC">1,000.00 USDC</span>' in page
    exchange_max = fixed(available, 2, grouped=True, down=True)
    assert (
        f"exchange allows <span data-exchange-max>{exchange_max}</span> · "
        "limit leaves <span data-limit-left>1,000.00</span> (binding)"
    ) in page


async def test_the_exchange_maximum_binds_when_the_limit_leaves_more(sandbox, desk, on_sandbox):
    await sync_to_async(
        lambda: desk.subaccount.withdrawal_limits.update(daily_limit=Decimal("1e12"))
    )()
    client = await verified(desk.alice)

    response = await client.get(_page_url(desk))
    exchange = client_on(exchange_session(), sandbox, desk)
    available = (await exchange.max_withdrawal_quantity("USDC")).max_quantity

    expected = fixed(available, 2, grouped=True, down=True)  # USDC's cents, rounded down
    page = response.content.decode()
    assert f'<span class="max-amount" data-asset="USDC">{expected} USDC</span>' in page
    assert f"exchange allows <span data-exchange-max>{expected}</span> (binding)" in page


async def test_withdrawals_are_linked_from_the_navigation_and_the_subaccount_page(desk):
    client = await verified(desk.alice)

    index = (await client.get("/trading/withdrawals/")).content.decode()
    detail = (await client.get(f"/accounts/subaccounts/{desk.subaccount.pk}/")).content.decode()

    assert '<a href="/trading/withdrawals/">Withdrawals</a>' in index  # the navigation
    assert f'<a href="{_page_url(desk)}">Desk A</a>' in index
    assert f'href="{_page_url(desk)}" id="subaccount-withdrawals">Withdrawals</a>' in detail


async def test_a_refusal_is_shown_beside_its_field(desk, on_sandbox):
    client = await verified(desk.alice)

    response = await client.post(
        _page_url(desk) + "request/",
        {
            "asset": "USDC",
            "quantity": "1500",
            "address_id": desk.address.pk,
            "otp_code": await sync_to_async(code_of)(desk.alice),
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    error = page.split('id="withdrawal-error-quantity">', 1)[1].split("</p>", 1)[0]
    assert error == "Over the daily limit: 1000 USDC a day, 0 requested today, 1000 left."
    assert 'value="1500"' in page  # what was typed stays in the form
    assert not await WithdrawalRequest.objects.aexists()


async def test_every_problem_of_the_request_is_shown_at_once_beside_its_field(desk, on_sandbox):
    client = await verified(desk.alice)

    response = await client.post(
        _page_url(desk) + "request/",
        {"asset": "", "quantity": "1e3", "address_id": "", "otp_code": ""},
    )

    page = response.content.decode()
    assert response.status_code == 200

    def beside(field: str) -> str:
        return page.split(f'id="withdrawal-error-{field}">', 1)[1].split("</p>", 1)[0]

    assert beside("asset") == "Choose the asset to withdraw."
    assert beside("address") == "Choose an address from the address book."
    assert "&#x27;1e3&#x27;" in beside("quantity")
    assert beside("otp_code") == "Type the two-factor code from your app."
    assert 'value="1e3"' in page  # what was typed stays in the form
    assert not await WithdrawalRequest.objects.aexists()


async def test_request_and_second_admin_approval_through_the_pages(desk, on_sandbox):
    alice, bob = await verified(desk.alice), await verified(desk.bob)

    requested = await alice.post(
        _page_url(desk) + "request/",
        {
            "asset": "USDC",
            "quantity": "42",
            "address_id": desk.address.pk,
            "otp_code": await sync_to_async(code_of)(desk.alice),
        },
    )
    record = await WithdrawalRequest.objects.aget()
    alice_page = (await alice.get(_page_url(desk))).content.decode()
    bob_page = (await bob.get(_page_url(desk))).content.decode()
    approved = await bob.post(
        _page_url(desk) + f"{record.pk}/approve/",
        {"otp_code": await sync_to_async(code_of)(desk.bob)},
    )
    final = (await bob.get(_page_url(desk))).content.decode()

    assert requested.status_code == 302 and approved.status_code == 302
    assert "Approve</button>" not in alice_page  # nobody approves their own request
    assert "Approve</button>" in bob_page
    assert "Sent to the exchange" in final
    assert f'data-client-id="{record.client_id}"' in final  # in the exchange's history


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e2", "&#x27;1e2&#x27; has an exponent; write the number out in full"),
        ("1_00", "&#x27;1_00&#x27; has an underscore; write only digits and one decimal point."),
        (
            "１００",
            "&#x27;１００&#x27; has a digit that is not 0-9; type the number with plain digits.",
        ),
        ("Infinity", "&#x27;Infinity&#x27; is not a number."),
        ("0", "&#x27;0&#x27; must be above zero."),
        ("", "A number is required here."),
    ],
)
async def test_a_quantity_that_is_not_a_plain_number_is_refused_and_never_stored(
    desk, on_sandbox, typed, message
):
    client = await verified(desk.alice)

    response = await client.post(
        _page_url(desk) + "request/",
        {
            "asset": "USDC",
            "quantity": typed,
            "address_id": desk.address.pk,
            "otp_code": await sync_to_async(code_of)(desk.alice),
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert not await WithdrawalRequest.objects.aexists()


async def test_a_quantity_with_more_digits_than_the_database_keeps_is_never_rounded(
    desk, on_sandbox
):
    client = await verified(desk.alice)

    response = await client.post(
        _page_url(desk) + "request/",
        {
            "asset": "USDC",
            "quantity": "12.3456789012345678",
            "address_id": desk.address.pk,
            "otp_code": await sync_to_async(code_of)(desk.alice),
        },
    )

    page = response.content.decode()
    if storable_digits() is None:  # PostgreSQL keeps every digit: USDC's own decimals refuse it
        assert "has more digits than can be stored" not in page
        assert "USDC on Solana has at most 9 decimals; 12.3456789012345678 has 16." in page
        assert not await WithdrawalRequest.objects.aexists()
        return
    assert (
        "&#x27;12.3456789012345678&#x27; has more digits than can be stored exactly: at most "
        "15 significant digits." in page
    )
    assert not await WithdrawalRequest.objects.aexists()


async def test_amounts_follow_the_one_formatting_rule(desk, on_sandbox):
    await sync_to_async(
        lambda: desk.subaccount.withdrawal_limits.update(daily_limit=Decimal("10000"))
    )()
    # As an earlier release let it be requested: more decimals than USDC has on Solana.
    await WithdrawalRequest.objects.acreate(
        subaccount=desk.subaccount,
        address_entry=desk.address,
        asset="USDC",
        blockchain="Solana",
        address=desk.address.address,
        address_label="treasury",
        quantity=Decimal("8044.7534567001"),
        client_id="desk-long-tail",
        requested_by=desk.bob,
    )
    client = await verified(desk.alice)

    page = (await client.get(_page_url(desk))).content.decode()

    limits = page.split("<h2>Daily limits (today)</h2>", 1)[1].split("</table>", 1)[0]
    assert (
        '<td>USDC</td><td class="num">10,000.00</td><td class="num">8,044.75</td>'
        '<td class="num">1,955.24</td>'
    ) in limits  # what is left is rounded down: never more than can be requested
    assert '<span class="max-amount" data-asset="USDC">1,955.24 USDC</span>' in page
    assert "limit leaves <span data-limit-left>1,955.24</span> (binding)" in page
    row = page.split('data-status="pending"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">8,044.7534567001 USDC</td>' in row  # sent exactly: every decimal


async def test_a_right_code_while_wrong_ones_hold_the_authenticator_says_how_long_to_wait(
    desk, on_sandbox, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 10  # held 10 s after one wrong code
    client = await verified(desk.alice)
    right = await sync_to_async(code_of)(desk.alice)
    form = {"asset": "USDC", "quantity": "10", "address_id": desk.address.pk}

    wrong = await client.post(
        _page_url(desk) + "request/",
        {**form, "otp_code": "000000" if right != "000000" else "111111"},
    )
    held = await client.post(_page_url(desk) + "request/", {**form, "otp_code": right})

    def beside(response, field: str) -> str:
        page = response.content.decode()
        return page.split(f'id="withdrawal-error-{field}">', 1)[1].split("</p>", 1)[0]

    assert beside(wrong, "otp_code").startswith("That two-factor code is wrong")
    assert beside(held, "otp_code") == (
        "Too many wrong codes: wait 10 seconds, then type the current code."
    )
    assert not await WithdrawalRequest.objects.aexists()
