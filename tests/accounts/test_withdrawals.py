"""Withdrawal address book and policy: fresh two-factor code, second admin, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, WithdrawalAddressFactory, WithdrawalPolicyFactory
from trading.withdrawals.models import WithdrawalAddress, WithdrawalLimit


@pytest.fixture
def admins(db):
    first = MembershipFactory(role=Role.ADMIN)
    second = MembershipFactory(role=Role.ADMIN, subaccount=first.subaccount)
    WithdrawalPolicyFactory(subaccount=first.subaccount, second_admin_required=True)
    return first, second


def _code(user) -> str:
    return fresh_totp(TOTPDevice.objects.get(user=user))


def _url(subaccount_id: int, suffix: str = "") -> str:
    return f"/accounts/subaccounts/{subaccount_id}/withdrawals/{suffix}"


def test_adding_an_address_needs_a_fresh_code(admins):
    first, _ = admins
    client = verified_client(first.user)
    form = {
        "blockchain": "Solana",
        "address": "So1DestAddress9xQeWvG816bUx9EPjHmaT23y",
        "label": "cold",
    }

    refused = client.post(_url(first.subaccount_id), {**form, "otp_code": "12345x"})
    accepted = client.post(_url(first.subaccount_id), {**form, "otp_code": _code(first.user)})

    assert "That two-factor code is not right" in refused.content.decode()
    assert accepted.status_code == 302
    entry = WithdrawalAddress.objects.get()
    assert (entry.address, entry.added_by, entry.usable) == (
        "So1DestAddress9xQeWvG816bUx9EPjHmaT23y",
        first.user,
        False,
    )
    assert list(
        AuditEvent.objects.filter(action="withdrawal_address_add")
        .order_by("id")
        .values_list("result", flat=True)
    ) == ["denied", "ok"]


def test_an_address_becomes_usable_after_exchange_confirmation_and_a_second_admin(admins):
    first, second = admins
    entry = WithdrawalAddressFactory(
        subaccount=first.subaccount, added_by=first.user, confirmed_2fa_exempt=False
    )
    first_client, second_client = verified_client(first.user), verified_client(second.user)

    first_client.post(
        _url(first.subaccount_id, f"{entry.pk}/confirm/"), {"otp_code": _code(first.user)}
    )
    own_approval = first_client.post(
        _url(first.subaccount_id, f"{entry.pk}/approve/"),
        {"otp_code": _code(first.user)},
        follow=True,
    )
    entry.refresh_from_db()
    usable_before_second_admin = entry.usable
    second_client.post(
        _url(first.subaccount_id, f"{entry.pk}/approve/"), {"otp_code": _code(second.user)}
    )
    entry.refresh_from_db()

    assert "A second admin must approve this address" in own_approval.content.decode()
    assert usable_before_second_admin is False
    assert entry.confirmed_2fa_exempt and entry.approved_by == second.user and entry.usable
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "withdrawal_address_confirm",
        "withdrawal_address_approve",
    }


def test_policy_saves_daily_limits_as_decimals_with_a_fresh_code(admins):
    first, _ = admins
    client = verified_client(first.user)

    response = client.post(
        _url(first.subaccount_id, "policy/"),
        {"daily_limits": "USDC 50000\nBTC 1.5", "otp_code": _code(first.user)},
    )

    assert response.status_code == 302
    limits = dict(WithdrawalLimit.objects.values_list("asset", "daily_limit"))
    assert limits == {"USDC": Decimal("50000"), "BTC": Decimal("1.5")}
    first.subaccount.withdrawal_policy.refresh_from_db()
    assert first.subaccount.withdrawal_policy.second_admin_required is False
    event = AuditEvent.objects.get(action="withdrawal_policy_set")
    assert event.parameters == {
        "second_admin_required": False,
        "daily_limits": {"USDC": "50000", "BTC": "1.5"},
    }


def test_policy_without_a_code_is_refused_and_nothing_changes(admins):
    first, _ = admins

    response = verified_client(first.user).post(
        _url(first.subaccount_id, "policy/"), {"daily_limits": "USDC 1"}
    )

    assert "This field is required." in response.content.decode()
    assert not WithdrawalLimit.objects.exists()


def test_a_negative_limit_is_refused_with_the_line(admins):
    first, _ = admins

    response = verified_client(first.user).post(
        _url(first.subaccount_id, "policy/"),
        {"daily_limits": "USDC -5", "otp_code": _code(first.user)},
    )

    assert (
        "Line 1: &#x27;-5&#x27; is negative; this amount cannot be below zero."
        in response.content.decode()
    )


def test_traders_cannot_see_the_address_book(admins):
    first, _ = admins
    trader = MembershipFactory(role=Role.TRADER, subaccount=first.subaccount)

    assert verified_client(trader.user).get(_url(first.subaccount_id)).status_code == 403


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "USDC 1e6",
            "Line 1: &#x27;1e6&#x27; has an exponent; write the number out in full, like 1500 "
            "rather than 1.5e3.",
        ),
        (
            "USDC 1,000",
            "Line 1: &#x27;1,000&#x27; has a comma; write no thousands separators and use a "
            "point for decimals, like 1234.5.",
        ),
        (
            "USDC １０００",
            "Line 1: &#x27;１０００&#x27; has a digit that is not 0-9; type the number with plain "
            "digits.",
        ),
        ("USDC inf", "Line 1: &#x27;inf&#x27; is not a number."),
    ],
)
def test_a_limit_that_is_not_a_plain_number_is_refused_not_misread(admins, typed, message):
    first, _ = admins

    response = verified_client(first.user).post(
        _url(first.subaccount_id, "policy/"),
        {"daily_limits": typed, "otp_code": _code(first.user)},
    )

    assert message in response.content.decode()
    assert not WithdrawalLimit.objects.exists()


@pytest.mark.parametrize(
    ("blockchain", "address", "words"),
    [
        (
            "Solana",
            "<script>x</script>",
            "An address is one word of letters and digits: no spaces, line breaks, control "
            "characters, angle brackets or quotes.",
        ),
        (
            "Solana",
            "So1DestAddr",
            "Not an address on Solana: 32 to 44 base58 characters (letters and digits without 0, "
            "O, I and l).",
        ),
        (
            "Ethereum",
            "0x12345",
            "Not an address on Ethereum: 0x followed by 40 hexadecimal digits.",
        ),
        (
            "Bitcoin",
            "bc1qBADaddress",
            "Not an address on Bitcoin: bc1 followed by bech32 characters, or 26 to 35 base58 "
            "characters starting with 1 or 3.",
        ),
        (
            "Cardano",
            "addr1 qx",
            "An address is one word of letters and digits: no spaces, line breaks, control "
            "characters, angle brackets or quotes.",
        ),
        (
            "XRP",
            "r\u041db9CJAWyB4rj91VRWn96DkukG4bwdtyTh",
            "Not an address on XRP: &#x27;\u041d&#x27; (CYRILLIC CAPITAL LETTER EN) is not a plain "
            "ASCII character.",
        ),
        ("Narnia", "anything", "Choose one of the exchange&#x27;s blockchains"),
    ],
)
def test_an_address_not_in_its_chains_format_is_refused_and_kept_to_correct(
    admins, blockchain, address, words
):
    first, _ = admins
    client = verified_client(first.user)
    form = {"blockchain": blockchain, "address": address, "label": "cold"}

    response = client.post(_url(first.subaccount_id), {**form, "otp_code": _code(first.user)})

    page = response.content.decode()
    assert response.status_code == 200
    assert words in page
    assert "<script>x" not in page
    assert 'name="label" value="cold"' in page
    assert not WithdrawalAddress.objects.exists()


@pytest.mark.parametrize(
    ("blockchain", "address"),
    [
        ("Solana", "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"),
        ("Ethereum", "0x52908400098527886E0F7030069857D2E4169EE7"),
        ("Arbitrum", "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"),
        ("Bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
        ("Bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        ("Bitcoin", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        (
            "Cardano",
            "addr1qx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer3n0d3vllmyqwsx5wktcd8cc3sq835lu7drv2xwl2wywfgse35a3x",
        ),
    ],
)
def test_an_address_in_its_chains_format_is_added(admins, blockchain, address):
    first, _ = admins
    client = verified_client(first.user)
    form = {"blockchain": blockchain, "address": address, "label": "cold"}

    response = client.post(_url(first.subaccount_id), {**form, "otp_code": _code(first.user)})

    assert response.status_code == 302
    assert WithdrawalAddress.objects.get().address == address


def test_the_service_refuses_a_bad_address_whoever_calls_it(admins):
    from accounts.errors import ServiceError
    from trading.withdrawals.settings_services import withdrawal_address_add

    first, _ = admins
    verified_client(first.user)  # enrols the admin's two-factor device

    with pytest.raises(ServiceError) as refused:
        withdrawal_address_add(
            actor=first.user,
            subaccount=first.subaccount,
            blockchain="Solana",
            address="<script>x</script>",
            label="",
            otp_code=_code(first.user),
        )

    assert refused.value.field == "address"
    assert not WithdrawalAddress.objects.exists()
