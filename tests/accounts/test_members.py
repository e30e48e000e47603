"""Members and roles: add by username, change role, remove; each change is audited."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Membership, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def admin(db):
    return MembershipFactory(role=Role.ADMIN)


def _url(membership, suffix: str = "") -> str:
    return f"/accounts/subaccounts/{membership.subaccount_id}/members/{suffix}"


def test_admin_adds_a_member_by_username_with_htmx(admin):
    UserFactory(username="frank")
    client = verified_client(admin.user)

    response = client.post(
        _url(admin),
        {"username": "frank", "role": "trader"},
        HTTP_HX_REQUEST="true",
        REMOTE_ADDR="10.1.2.3",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="members">')  # only the partial
    assert 'data-member="frank"' in html and "frank is now trader here." in html
    assert Membership.objects.get(user__username="frank").role == Role.TRADER
    event = AuditEvent.objects.get(action="membership_add")
    assert event.parameters == {"username": "frank", "role": "trader", "previous_role": None}
    assert event.ip_address == "10.1.2.3" and event.actor == admin.user


def test_unknown_username_gets_a_message_by_the_field(admin):
    response = verified_client(admin.user).post(
        _url(admin), {"username": "nobody", "role": "viewer"}
    )

    assert "There is no active user named &#x27;nobody&#x27;." in response.content.decode()
    assert not AuditEvent.objects.filter(action="membership_add").exists()


def test_changing_a_role_is_audited_with_the_previous_role(admin):
    member = MembershipFactory(subaccount=admin.subaccount, role=Role.VIEWER)
    client = verified_client(admin.user)
    code = fresh_totp(TOTPDevice.objects.get(user=admin.user))

    client.post(_url(admin), {"username": member.user.username, "role": "admin", "otp_code": code})

    member.refresh_from_db()
    assert member.role == Role.ADMIN
    event = AuditEvent.objects.get(action="membership_role")
    assert (event.parameters["previous_role"], event.parameters["role"]) == ("viewer", "admin")


def test_making_someone_an_admin_takes_a_fresh_two_factor_code(admin):
    # an admin approves addresses and withdrawals: granting that is a money setting
    member = MembershipFactory(subaccount=admin.subaccount, role=Role.TRADER)
    UserFactory(username="newcomer")
    client = verified_client(admin.user)

    without = client.post(_url(admin), {"username": member.user.username, "role": "admin"})
    wrong = client.post(
        _url(admin), {"username": member.user.username, "role": "admin", "otp_code": "000000"}
    )
    client.post(_url(admin), {"username": "newcomer", "role": "trader"})

    member.refresh_from_db()
    assert member.role == Role.TRADER
    assert "Type the current two-factor code from your authenticator app" in without.text
    assert "That two-factor code is not right" in wrong.text
    denied = AuditEvent.objects.filter(action="membership_role", result="denied")
    assert denied.count() == 2
    added = Membership.objects.get(user__username="newcomer")
    assert added.role == Role.TRADER  # other roles need no code


def test_removing_a_member_takes_away_their_access(admin):
    member = MembershipFactory(subaccount=admin.subaccount, role=Role.TRADER)
    client = verified_client(admin.user)

    client.post(_url(admin, f"{member.pk}/remove/"))

    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.filter(action="membership_remove").count() == 1
    member_client = verified_client(member.user)
    assert member_client.get(f"/accounts/subaccounts/{admin.subaccount_id}/").status_code == 404


def test_the_last_admin_cannot_be_removed_or_demoted(admin):
    client = verified_client(admin.user)

    removed = client.post(_url(admin, f"{admin.pk}/remove/"))
    demoted = client.post(_url(admin), {"username": admin.user.username, "role": "viewer"})

    assert "A subaccount needs at least one admin." in removed.content.decode()
    assert "A subaccount needs at least one admin." in demoted.content.decode()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_a_bad_role_value_is_refused_by_the_form(admin):
    UserFactory(username="gina")

    response = verified_client(admin.user).post(_url(admin), {"username": "gina", "role": "owner"})

    assert "Select a valid choice." in response.content.decode()
    assert not Membership.objects.filter(user__username="gina").exists()


def test_a_trader_cannot_change_members(admin):
    trader = MembershipFactory(subaccount=admin.subaccount, role=Role.TRADER)
    UserFactory(username="hank")

    response = verified_client(trader.user).post(_url(admin), {"username": "hank", "role": "admin"})

    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="hank").exists()
