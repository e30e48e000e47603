"""One exchange key, one subaccount: a key registered for a subaccount is refused for any
other, on the add page and on key rotation, compared as the exchange compares keys (the
32 decoded bytes, however the base64 is spelled or wrapped)."""

from __future__ import annotations

import base64

import pytest
from django.db import IntegrityError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import crypto
from accounts.models import AuditEvent, Role, Subaccount
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, SubaccountFactory, SuperuserFactory

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def other_spelling(key: str) -> str:
    """The same 32 bytes in another base64 spelling: the last character carries two unused
    bits, which a decoder ignores."""
    assert len(key) == 44 and key.endswith("=")
    last = ALPHABET[ALPHABET.index(key[42]) ^ 1]
    assert base64.b64decode(key[:42] + last + "=") == base64.b64decode(key)
    return key[:42] + last + "="


@pytest.fixture
def exchange(db, sandbox, settings):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    return sandbox


def desk(exchange, index: int, name: str, **fields: object) -> Subaccount:
    key = exchange.keys[index]
    return SubaccountFactory(name=name, keypair=(key["api_key"], key["api_secret"]), **fields)


def add(root, name: str, public: str, secret: str):
    client = verified_client(root)
    code = fresh_totp(TOTPDevice.objects.get(user=root))
    return client.post(
        "/accounts/subaccounts/add/",
        {"name": name, "api_public_key": public, "api_secret": secret, "otp_code": code},
    )


def rotate(admin, subaccount: Subaccount, public: str, secret: str):
    client = verified_client(admin.user)
    code = fresh_totp(TOTPDevice.objects.get(user=admin.user))
    return client.post(
        f"/accounts/subaccounts/{subaccount.pk}/key/",
        {"api_public_key": public, "api_secret": secret, "otp_code": code},
    )


@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(lambda key: key, id="as-registered"),
        pytest.param(lambda key: f"  {key}\n ", id="wrapped-in-whitespace"),
        pytest.param(other_spelling, id="other-base64-spelling"),
    ],
)
def test_the_add_page_refuses_a_key_registered_for_another_subaccount(exchange, spell):
    desk(exchange, 0, "Treasury")
    key = exchange.keys[0]

    response = add(SuperuserFactory(), "Treasury 2", spell(key["api_key"]), key["api_secret"])

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        'data-field="api_public_key">This API key is registered already for the subaccount '
        "Treasury: a subaccount needs the key of its own exchange account, or the desk would "
        "count that account twice. Nothing was saved." in html
    )
    assert list(Subaccount.objects.values_list("name", flat=True)) == ["Treasury"]
    failed = AuditEvent.objects.get(action="subaccount_create")
    assert failed.result == "failed"


def test_the_add_page_refuses_a_key_whose_secret_is_wrapped_in_whitespace(exchange):
    desk(exchange, 0, "Treasury")
    key = exchange.keys[0]

    response = add(
        SuperuserFactory(), "Treasury 3", f"\n{key['api_key']} ", f" {key['api_secret']}\n"
    )

    assert "registered already for the subaccount Treasury" in response.content.decode()
    assert Subaccount.objects.count() == 1


def test_the_add_page_still_takes_a_key_no_subaccount_has(exchange):
    desk(exchange, 0, "Treasury")
    key = exchange.keys[1]

    response = add(SuperuserFactory(), "Desk B", key["api_key"], key["api_secret"])

    assert response.status_code == 302
    assert Subaccount.objects.get(name="Desk B").api_public_key == key["api_key"]


def test_rotation_refuses_the_key_of_another_subaccount_and_keeps_the_old_key(exchange):
    treasury = desk(exchange, 0, "Treasury")
    desk(exchange, 1, "Desk B")
    admin = MembershipFactory(subaccount=treasury, role=Role.ADMIN)
    key = exchange.keys[1]

    response = rotate(admin, treasury, f" {other_spelling(key['api_key'])}\n", key["api_secret"])

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        'data-field="api_public_key">This API key is registered already for the subaccount '
        "Desk B: a subaccount needs the key of its own exchange account, or the desk would "
        "count that account twice. Nothing was saved." in html
    )
    treasury.refresh_from_db()
    assert treasury.api_public_key == exchange.keys[0]["api_key"]
    assert crypto.subaccount_credentials(treasury).api_secret() == exchange.keys[0]["api_secret"]
    failed = AuditEvent.objects.get(action="subaccount_key_rotate")
    assert failed.result == "failed"


def test_rotation_may_enter_the_subaccounts_own_key_again(exchange):
    treasury = desk(exchange, 0, "Treasury")
    admin = MembershipFactory(subaccount=treasury, role=Role.ADMIN)
    key = exchange.keys[0]

    response = rotate(admin, treasury, key["api_key"], key["api_secret"])

    assert response.status_code == 302


def legacy_pair(exchange) -> tuple[Subaccount, Subaccount]:
    """Treasury and a second subaccount with Treasury's key, as an upgrade leaves them."""
    treasury = desk(exchange, 0, "Treasury")
    copy = desk(exchange, 0, "Treasury 2", legacy_shared_key=True)
    return treasury, copy


def test_a_subaccount_sharing_its_key_tells_its_admin_which_other_has_it(exchange):
    treasury, copy = legacy_pair(exchange)
    admin = MembershipFactory(subaccount=copy, role=Role.ADMIN)

    html = verified_client(admin.user).get(f"/accounts/subaccounts/{copy.pk}/").content.decode()

    assert (
        "The subaccount Treasury has this API key too, so team equity, PnL and positions "
        "count this exchange account more than once. Rotate the key of the subaccount that "
        "is not this exchange account to the key of its own exchange account." in html
    )


def test_rotating_a_shared_key_to_the_subaccounts_own_key_ends_the_sharing(exchange):
    treasury, copy = legacy_pair(exchange)
    admin = MembershipFactory(subaccount=copy, role=Role.ADMIN)
    MembershipFactory(subaccount=treasury, role=Role.ADMIN, user=admin.user)
    key = exchange.keys[1]

    response = rotate(admin, copy, key["api_key"], key["api_secret"])
    client = verified_client(admin.user)

    assert response.status_code == 302
    for subaccount in (copy, treasury):
        html = client.get(f"/accounts/subaccounts/{subaccount.pk}/").content.decode()
        assert "has this API key too" not in html
    copy.refresh_from_db()
    assert (copy.api_public_key, copy.legacy_shared_key) == (key["api_key"], False)


def test_rotating_the_first_holder_away_leaves_the_shared_key_to_the_other(exchange):
    treasury, copy = legacy_pair(exchange)
    admin = MembershipFactory(subaccount=treasury, role=Role.ADMIN)
    key = exchange.keys[1]

    rotate(admin, treasury, key["api_key"], key["api_secret"])

    copy.refresh_from_db()
    assert (copy.api_public_key, copy.legacy_shared_key) == (exchange.keys[0]["api_key"], False)
    with pytest.raises(IntegrityError):
        SubaccountFactory(name="Treasury 3", api_public_key=copy.api_public_key)


def test_a_key_added_while_the_exchange_checks_it_is_refused_by_the_database(exchange, monkeypatch):
    """Two admins add the same key at once: the second to reach the database is refused."""
    from accounts import services

    key = exchange.keys[0]
    verify = services.key_pair_verify

    def verify_while_another_admin_adds_it(pair):
        verify(pair)
        desk(exchange, 0, "Treasury")

    monkeypatch.setattr(services, "key_pair_verify", verify_while_another_admin_adds_it)

    response = add(SuperuserFactory(), "Treasury 2", key["api_key"], key["api_secret"])

    assert "registered already for the subaccount Treasury" in response.content.decode()
    assert list(Subaccount.objects.values_list("name", flat=True)) == ["Treasury"]
