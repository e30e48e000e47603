"""TOTP enrolment, the sign-in code step, backup codes, and enforcement on admin pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Membership, Role
from accounts.twofactor import backup_codes_renew
from tests.accounts.conftest import fresh_totp, signed_in_client, totp_now, verified_client
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    TOTPDeviceFactory,
    UserFactory,
)
from trading.withdrawals.models import WithdrawalAddress


@pytest.fixture
def admin_membership(db):
    return MembershipFactory(role=Role.ADMIN)


def test_admin_without_an_authenticator_is_sent_to_enrolment_before_admin_pages(
    admin_membership,
):
    client = signed_in_client(admin_membership.user)
    members_url = f"/accounts/subaccounts/{admin_membership.subaccount_id}/members/"

    response = client.get(members_url)

    assert response.status_code == 302
    assert (
        response["Location"] == f"/accounts/security/enrol/?next={members_url.replace('/', '%2F')}"
    )


def test_admin_with_an_authenticator_but_no_code_yet_is_asked_for_one(admin_membership):
    TOTPDeviceFactory(user=admin_membership.user)
    client = signed_in_client(admin_membership.user)

    response = client.get(f"/accounts/subaccounts/{admin_membership.subaccount_id}/members/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/verify/?next=")


def test_viewer_pages_do_not_need_two_factor(db):
    membership = MembershipFactory(role=Role.VIEWER)
    client = signed_in_client(membership.user)

    response = client.get(f"/accounts/subaccounts/{membership.subaccount_id}/")

    assert response.status_code == 200


def test_enrolment_shows_an_inline_qr_and_confirms_with_a_code(admin_membership):
    user = admin_membership.user
    client = signed_in_client(user)

    page = client.get("/accounts/security/enrol/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(
        "/accounts/security/enrol/",
        {"code": "000000" if totp_now(device) != "000000" else "111111"},
    )
    right = client.post("/accounts/security/enrol/", {"code": fresh_totp(device)})

    qr = page.content.decode().split('id="totp-qr">')[1].split("</div>")[0]
    assert qr.startswith("<svg") and "src=" not in qr and "<img" not in qr
    assert "That code is not right" in wrong.content.decode()
    assert right.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", right.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    assert AuditEvent.objects.filter(actor=user, action="totp_enrol", result="ok").exists()
    members = client.get(f"/accounts/subaccounts/{admin_membership.subaccount_id}/members/")
    assert members.status_code == 200  # the session was verified by enrolment


def test_sign_in_asks_for_the_code_of_users_with_an_authenticator(db):
    user = UserFactory(username="alice")
    device = TOTPDeviceFactory(user=user)
    client = Client()

    step_one = client.post("/accounts/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    before_code = client.get("/")
    step_two = client.post("/accounts/login/verify/", {"code": fresh_totp(device)})
    after_code = client.get("/")

    assert step_one["Location"] == "/accounts/login/verify/"
    assert before_code.status_code == 302  # not signed in between the two steps
    assert step_two.status_code == 302 and step_two["Location"] == "/"
    assert after_code.status_code == 200
    assert after_code.wsgi_request.user.is_verified()


def test_a_wrong_sign_in_code_keeps_the_user_out(db):
    user = UserFactory(username="bob")
    device = TOTPDeviceFactory(user=user)
    client = Client()
    client.post("/accounts/login/", {"username": "bob", "password": DEFAULT_PASSWORD})
    wrong = "000000" if totp_now(device) != "000000" else "111111"

    response = client.post("/accounts/login/verify/", {"code": wrong})

    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(actor=user, action="sign_in_code", result="failed").exists()


def test_a_backup_code_signs_in_once(db):
    user = UserFactory(username="carol")
    TOTPDeviceFactory(user=user)
    code = backup_codes_renew(user)[0]
    first, second = Client(), Client()
    for client in (first, second):
        client.post("/accounts/login/", {"username": "carol", "password": DEFAULT_PASSWORD})
        client.post("/accounts/login/verify/", {"code": code})

    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_users_without_an_authenticator_sign_in_with_the_password_alone(db):
    UserFactory(username="dave")
    client = Client()

    response = client.post("/accounts/login/", {"username": "dave", "password": DEFAULT_PASSWORD})

    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_failed_passwords_are_throttled_after_five_tries(db):
    UserFactory(username="erin")
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "erin", "password": "wrong"})

    locked = client.post("/accounts/login/", {"username": "erin", "password": DEFAULT_PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed sign-ins for erin. Try again at " in locked.content.decode()
    assert client.get("/").status_code == 302


def test_a_new_set_of_backup_codes_needs_a_verified_session(db):
    user = UserFactory()
    TOTPDeviceFactory(user=user)

    unverified = signed_in_client(user).post("/accounts/security/backup-codes/")
    verified = verified_client(user).post("/accounts/security/backup-codes/")

    assert unverified.status_code == 302 and "/login/verify/" in unverified["Location"]
    assert verified.status_code == 200
    assert len(re.findall(r"<li><code>", verified.content.decode())) == 10


def test_subaccount_add_page_needs_two_factor_for_those_allowed_to_add(db):
    user = UserFactory(is_superuser=True, is_staff=True)

    response = signed_in_client(user).get("/accounts/subaccounts/add/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/security/enrol/")
    assert verified_client(user).get("/accounts/subaccounts/add/").status_code == 200


def test_the_code_step_expires_five_minutes_after_the_password(db):
    from accounts.auth_views import PENDING_SINCE

    user = UserFactory(username="fay")
    device = TOTPDeviceFactory(user=user)
    client = Client()
    client.post("/accounts/login/", {"username": "fay", "password": DEFAULT_PASSWORD})
    session = client.session  # the password was given 301 s ago
    session[PENDING_SINCE] -= 301
    session.save()

    response = client.post("/accounts/login/verify/", {"code": fresh_totp(device)}, follow=True)

    assert "The sign-in took too long. Enter your password again." in response.content.decode()
    assert client.get("/").status_code == 302


def test_an_htmx_request_is_sent_to_enrolment_with_a_client_side_redirect(admin_membership):
    client = signed_in_client(admin_membership.user)

    response = client.post(
        f"/accounts/subaccounts/{admin_membership.subaccount_id}/members/",
        {"username": "x", "role": "viewer"},
        HTTP_HX_REQUEST="true",
    )

    assert response["HX-Redirect"].startswith("/accounts/security/enrol/?next=")
    assert not Membership.objects.filter(user__username="x").exists()


# -- codes and django-otp's throttling: each wrong code holds the device that refused it for
# 1, 2, 4 ... seconds (OTP_TOTP_THROTTLE_FACTOR times); a code meant for one device is never
# counted against another.

ADDRESS_FORM = {"blockchain": "Solana", "label": "cold"}
ADDRESSES = ["So1DestAddress9xQeWvG816bUx9EPjHmaT23y", "So1SecondAddress9xQeWvG816bUx9EPjHmaT2"]


def _beside(response, field: str) -> str:
    """The error shown beside `field` on the page, or ''."""
    found = re.search(rf'data-field="{field}">([^<]*)</div>', response.content.decode())
    return found.group(1) if found else ""


def _add_address(client, membership, address: str, code: str):
    url = f"/accounts/subaccounts/{membership.subaccount_id}/withdrawals/"
    return client.post(url, {**ADDRESS_FORM, "address": address, "otp_code": code})


def _wrong(device: TOTPDevice) -> str:
    return "000000" if totp_now(device) != "000000" else "111111"


def test_a_right_code_while_wrong_ones_hold_the_authenticator_says_how_long_to_wait(
    admin_membership, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 10  # held 10 s after one wrong code
    user = admin_membership.user
    client = verified_client(user)
    device = TOTPDevice.objects.get(user=user)
    wrong = _add_address(client, admin_membership, ADDRESSES[0], _wrong(device))

    held = _add_address(client, admin_membership, ADDRESSES[0], totp_now(device))

    assert _beside(wrong, "otp_code") == (
        "That two-factor code is not right (or was used already). Type the current code."
    )
    assert _beside(held, "otp_code") == (
        "Too many wrong codes: wait 10 seconds, then type the current code."
    )
    assert not WithdrawalAddress.objects.exists()
    assert list(
        AuditEvent.objects.filter(action="withdrawal_address_add").values_list("result", flat=True)
    ) == ["denied", "denied"]


def test_the_sign_in_code_step_says_how_long_to_wait_too(db, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 10
    user = UserFactory(username="erin")
    device = TOTPDeviceFactory(user=user)
    client = Client()
    client.post("/accounts/login/", {"username": "erin", "password": DEFAULT_PASSWORD})
    client.post("/accounts/login/verify/", {"code": _wrong(device)})

    held = client.post("/accounts/login/verify/", {"code": totp_now(device)})

    assert _beside(held, "code") == (
        "Too many wrong codes: wait 10 seconds, then type the current code."
    )
    assert client.get("/").status_code == 302


def test_a_backup_code_is_not_counted_against_the_authenticator(admin_membership):
    user = admin_membership.user
    client = verified_client(user)
    device = TOTPDevice.objects.get(user=user)
    backup = backup_codes_renew(user)[0]

    with_backup = _add_address(client, admin_membership, ADDRESSES[0], backup)
    device.refresh_from_db()
    failures = device.throttling_failure_count
    with_app = _add_address(client, admin_membership, ADDRESSES[1], totp_now(device))

    assert with_backup.status_code == 302, _beside(with_backup, "otp_code")
    assert failures == 0
    assert with_app.status_code == 302, _beside(with_app, "otp_code")
    assert WithdrawalAddress.objects.count() == 2


def test_a_wrong_authenticator_code_does_not_hold_the_backup_codes(admin_membership):
    user = admin_membership.user
    client = verified_client(user)
    device = TOTPDevice.objects.get(user=user)
    backup = backup_codes_renew(user)[0]
    _add_address(client, admin_membership, ADDRESSES[0], _wrong(device))

    with_backup = _add_address(client, admin_membership, ADDRESSES[0], backup)

    assert with_backup.status_code == 302, _beside(with_backup, "otp_code")
    assert WithdrawalAddress.objects.get().address == ADDRESSES[0]
