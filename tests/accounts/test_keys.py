"""Key entry checks: one message per failure, the exchange ones against the sandbox."""

from __future__ import annotations

import base64

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import crypto
from accounts.keys import (
    MSG_PAIR_MISMATCH,
    MSG_UNREACHABLE,
    KeyCheckError,
    key_pair_parse,
)
from accounts.models import AuditEvent, Role, Subaccount
from accounts.services import subaccount_create
from tests.accounts.conftest import fresh_totp
from tests.factories import SuperuserFactory, TOTPDeviceFactory, keypair_for
from tests.fixtures.dashboard_server import free_port

PUBLIC, SECRET = keypair_for(bytes(range(32)))


def _error(**kwargs) -> KeyCheckError:
    with pytest.raises(KeyCheckError) as caught:
        key_pair_parse(**kwargs)
    return caught.value


def test_secret_that_is_not_base64_is_refused_with_its_own_message():
    error = _error(api_public_key=PUBLIC, api_secret="not base64 at all!")

    assert error.message == "The API secret is not valid base64."
    assert error.field == "api_secret"


def test_secret_of_the_wrong_length_says_how_long_it_is():
    error = _error(api_public_key=PUBLIC, api_secret=base64.b64encode(b"x" * 48).decode())

    assert error.message == "The API secret must be 32 bytes once decoded; this one is 48 bytes."


def test_a_secret_with_its_public_key_appended_is_taken_as_its_seed():
    # libsodium keeps an ED25519 secret key as the seed followed by the public key; some
    # tools export that 64-byte form
    full = base64.b64encode(base64.b64decode(SECRET) + base64.b64decode(PUBLIC)).decode()
    other = base64.b64encode(base64.b64decode(SECRET) + b"x" * 32).decode()

    pair = key_pair_parse(api_public_key=PUBLIC, api_secret=full)
    error = _error(api_public_key=PUBLIC, api_secret=other)

    assert (pair.api_public_key, pair.api_secret) == (PUBLIC, SECRET)
    assert error.message.startswith(
        "The API secret must be 32 bytes once decoded; this one is 64 bytes, but its second "
        "half is not this API key"
    )
    assert error.field == "api_secret"


def test_public_key_of_the_wrong_length_is_refused():
    error = _error(api_public_key=base64.b64encode(b"x" * 16).decode(), api_secret=SECRET)

    assert error.message == "The API key must be 32 bytes once decoded; this one is 16 bytes."
    assert error.field == "api_public_key"


def test_key_that_does_not_belong_to_the_secret_is_refused():
    other_public, _ = keypair_for()

    error = _error(api_public_key=other_public, api_secret=SECRET)

    assert error.message == MSG_PAIR_MISMATCH


def test_a_matching_pair_is_accepted_even_with_stray_whitespace():
    pair = key_pair_parse(api_public_key=f"  {PUBLIC}\n", api_secret=f"{SECRET[:10]} {SECRET[10:]}")

    assert (pair.api_public_key, pair.api_secret) == (PUBLIC, SECRET)
    assert SECRET not in repr(pair)


@pytest.fixture
def creator(db):
    return TOTPDeviceFactory(user=SuperuserFactory()).user


def _code(user) -> str:
    return fresh_totp(TOTPDevice.objects.get(user=user))


def test_a_key_the_exchange_accepts_is_sealed_and_saved(creator, sandbox, settings):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    key = sandbox.keys[1]

    subaccount = subaccount_create(
        actor=creator,
        name="Desk A",
        api_public_key=key["api_key"],
        api_secret=key["api_secret"],
        otp_code=_code(creator),
        ip="10.0.0.7",
    )

    assert subaccount.api_public_key == key["api_key"]
    assert key["api_secret"] not in subaccount.api_secret_sealed
    assert crypto.open_sealed(subaccount.api_secret_sealed, owner="Desk A") == key["api_secret"]
    event = AuditEvent.objects.get(action="subaccount_create", result="ok")
    assert (event.actor, event.subaccount, event.ip_address) == (creator, subaccount, "10.0.0.7")


def test_a_key_the_exchange_does_not_know_is_rejected_and_nothing_saved(creator, sandbox, settings):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    unknown_public, unknown_secret = keypair_for()

    with pytest.raises(KeyCheckError) as caught:
        subaccount_create(
            actor=creator,
            name="Desk X",
            api_public_key=unknown_public,
            api_secret=unknown_secret,
            otp_code=_code(creator),
        )

    assert caught.value.message.startswith("The exchange rejected this key: ")
    assert caught.value.message.endswith("Nothing was saved.")
    assert not Subaccount.objects.exists()
    failed = AuditEvent.objects.get(action="subaccount_create")
    assert failed.result == "failed"
    assert unknown_secret not in str(failed.parameters)


def test_an_unreachable_exchange_is_reported_and_nothing_saved(creator, settings):
    settings.BACKPACK_API_URL = f"http://127.0.0.1:{free_port()}"
    settings.BACKPACK_WS_URL = f"ws://127.0.0.1:{free_port()}/"

    with pytest.raises(KeyCheckError) as caught:
        subaccount_create(
            actor=creator,
            name="Desk Y",
            api_public_key=PUBLIC,
            api_secret=SECRET,
            otp_code=_code(creator),
        )

    assert caught.value.message == MSG_UNREACHABLE
    assert not Subaccount.objects.exists()


def test_the_creator_becomes_admin_of_the_new_subaccount(db, sandbox, settings):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    user = TOTPDeviceFactory(user=UserFactory()).user
    user.user_permissions.add(Permission.objects.get(codename="add_subaccount"))
    key = sandbox.keys[2]

    subaccount = subaccount_create(
        actor=user,
        name="Desk B",
        api_public_key=key["api_key"],
        api_secret=key["api_secret"],
        otp_code=_code(user),
    )

    assert subaccount.memberships.get().role == Role.ADMIN
