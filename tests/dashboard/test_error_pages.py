from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Role
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory


@override_settings(DEBUG=False)
def test_another_teams_subaccount_is_a_plain_not_found_page(client, db):
    viewer = UserFactory()
    MembershipFactory(user=viewer, subaccount=SubaccountFactory(name="Mine"), role=Role.VIEWER)
    theirs = SubaccountFactory(name="Theirs")
    client.force_login(viewer)

    page = client.get(f"/accounts/subaccounts/{theirs.pk}/")

    assert page.status_code == 404
    assert b"<h1>Not found</h1>" in page.content
    assert b"Theirs" not in page.content
    assert b'href="/"' in page.content


@override_settings(DEBUG=False)
def test_a_role_too_low_says_so_in_words(client, db):
    viewer = UserFactory()
    desk = SubaccountFactory(name="Desk")
    MembershipFactory(user=viewer, subaccount=desk, role=Role.VIEWER)
    client.force_login(viewer)

    page = client.get(f"/accounts/subaccounts/{desk.pk}/members/")

    assert page.status_code == 403
    assert b"<h1>Not allowed</h1>" in page.content
    assert b"This page needs the admin role." in page.content
    assert b"An admin of the subaccount can change your role." in page.content


@override_settings(DEBUG=False)
def test_a_refused_permission_is_logged_as_one_line_with_user_path_and_reason(client, db, caplog):
    viewer = UserFactory(username="vera")
    desk = SubaccountFactory(name="Desk")
    MembershipFactory(user=viewer, subaccount=desk, role=Role.VIEWER)
    client.force_login(viewer)

    client.get(f"/accounts/subaccounts/{desk.pk}/members/")

    refused = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in refused] == [
        f"Permission denied: user=vera path=/accounts/subaccounts/{desk.pk}/members/ "
        "reason=This page needs the admin role."
    ]
    assert refused[0].levelname == "WARNING"
    assert refused[0].exc_info is None and caplog.text.count("Traceback") == 0


@pytest.mark.parametrize(
    ("method", "path", "reason", "hint"),
    [
        (
            "post",
            "/trading/health/webhooks/",
            "Alert webhooks are managed by staff.",
            "A superuser can give you staff status on your user in /admin/.",
        ),
        (
            "get",
            "/accounts/team/",
            "Only an admin may change the team&#x27;s settings.",
            "Ask an admin of any subaccount to change the team&#x27;s settings.",
        ),
        (
            "get",
            "/accounts/subaccounts/add/",
            "You may not add subaccounts.",
            "Adding subaccounts is a right a superuser gives (the permission "
            "“Can add subaccount” on your user in /admin/); an admin of a subaccount can add "
            "you to it instead.",
        ),
    ],
)
@override_settings(DEBUG=False)
def test_a_refusal_no_subaccount_role_lifts_gives_its_own_hint(
    client, db, method, path, reason, hint
):
    trader = UserFactory()
    MembershipFactory(user=trader, subaccount=SubaccountFactory(name="Desk"), role=Role.TRADER)
    client.force_login(trader)

    page = getattr(client, method)(path)

    html = page.content.decode()
    assert page.status_code == 403
    assert reason in html
    assert hint in html
    assert "can change your role" not in html
