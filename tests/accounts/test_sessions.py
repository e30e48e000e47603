"""A user's other sessions end when the password or the two-factor devices change; the
session that made the change goes on."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SIGNED_OUT
from dashboard.asgi import application
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory, UserFactory

User = get_user_model()


def signed_in_with_password(username: str) -> Client:
    client = Client()
    answer = client.post("/accounts/login/", {"username": username, "password": DEFAULT_PASSWORD})
    assert answer["Location"] == "/"
    assert client.get("/").status_code == 200
    return client


def test_a_password_change_ends_the_users_sessions(db):
    user = UserFactory(username="ivy")
    laptop = signed_in_with_password("ivy")

    user.set_password("a brand new long password 7")  # what the admin or changepassword does
    user.save()

    assert laptop.get("/")["Location"] == "/accounts/login/?next=/"


def test_enrolling_an_authenticator_ends_the_other_sessions_and_keeps_this_one(db):
    UserFactory(username="jo")
    laptop, phone = signed_in_with_password("jo"), signed_in_with_password("jo")

    laptop.get("/accounts/security/enrol/")
    device = TOTPDevice.objects.get(user__username="jo", confirmed=False)
    enrolled = laptop.post("/accounts/security/enrol/", {"code": fresh_totp(device)})

    assert enrolled.status_code == 200
    assert laptop.get("/").status_code == 200
    signed_out = phone.get("/", follow=True)
    assert signed_out.redirect_chain == [("/accounts/login/?next=/", 302)]
    assert SIGNED_OUT in signed_out.content.decode()
    assert phone.get("/").status_code == 302


def test_a_removed_authenticator_ends_the_users_sessions_and_no_one_elses(db):
    user, other = UserFactory(), UserFactory()
    mine, theirs = verified_client(user), verified_client(other)
    assert mine.get("/").status_code == 200 and theirs.get("/").status_code == 200

    TOTPDevice.objects.filter(user=user).delete()  # e.g. an admin removed it

    assert mine.get("/").status_code == 302
    assert theirs.get("/").status_code == 200


def test_new_backup_codes_keep_this_session(db):
    user = UserFactory()
    client = verified_client(user)
    client.get("/")

    renewed = client.post("/accounts/security/backup-codes/")

    assert renewed.status_code == 200
    assert client.get("/").status_code == 200


def _signed_in_session_cookie(user) -> bytes:
    client = verified_client(user)
    assert client.get("/").status_code == 200  # the session notes the user's devices
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.django_db(transaction=True)
async def test_a_sessions_live_socket_is_refused_once_the_devices_changed():
    user = await sync_to_async(UserFactory)()
    cookie = await sync_to_async(_signed_in_session_cookie)(user)
    headers = [(b"origin", b"http://localhost"), (b"cookie", cookie)]
    before = WebsocketCommunicator(application, "/ws/presence/", headers=headers)
    assert (await before.connect())[0]  # sentinel: this session's socket is let in
    await before.disconnect()

    await sync_to_async(TOTPDevice.objects.filter(user=user).delete)()
    after = WebsocketCommunicator(application, "/ws/presence/", headers=headers)
    connected, code = await after.connect()

    assert not connected
    assert code == 4401
    await after.disconnect()


# Through the ASGI handler (the middleware stack runs async there, as under daphne).


@pytest.mark.django_db(transaction=True)
async def test_through_asgi_a_removed_authenticator_ends_the_session():
    user = await sync_to_async(UserFactory)()
    browser = AsyncClient()
    browser.cookies = (await sync_to_async(verified_client)(user)).cookies
    assert (await browser.get("/")).status_code == 200  # sentinel: signed in and verified

    await TOTPDevice.objects.filter(user=user).adelete()
    answer = await browser.get("/")

    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/"


@pytest.mark.django_db(transaction=True)
async def test_through_asgi_a_session_signed_in_there_notes_its_devices():
    await sync_to_async(UserFactory)(username="kit")
    browser = AsyncClient()
    answer = await browser.post(
        "/accounts/login/", {"username": "kit", "password": DEFAULT_PASSWORD}
    )
    assert answer["Location"] == "/"
    assert (await browser.get("/")).status_code == 200  # sentinel

    await sync_to_async(TOTPDeviceFactory)(user=await User.objects.aget(username="kit"))
    signed_out = await browser.get("/")

    assert signed_out.status_code == 302
    assert SIGNED_OUT in (await browser.get("/accounts/login/")).content.decode()
