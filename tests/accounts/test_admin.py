"""Django admin: the sealed secret is never shown, the trail is read-only, rows are scoped."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from accounts.models import AuditEvent, Membership, Role
from tests.accounts.conftest import verified_client
from tests.factories import MembershipFactory, SubaccountFactory, SuperuserFactory, UserFactory


def test_subaccount_change_page_has_no_secret_field(db):
    subaccount = SubaccountFactory()

    html = (
        verified_client(SuperuserFactory())
        .get(f"/admin/accounts/subaccount/{subaccount.pk}/change/")
        .content.decode()
    )

    assert "api_secret_sealed" not in html
    assert subaccount.api_secret_sealed not in html
    assert subaccount.api_public_key in html


def test_audit_events_cannot_be_changed_or_deleted_in_the_admin(db):
    from accounts.audit import audit_record

    event = audit_record(actor=None, action="test")
    client = verified_client(SuperuserFactory())

    change = client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"action": "x"})
    delete = client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"})

    assert change.status_code == 403
    assert delete.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "test"


def test_staff_see_only_the_subaccounts_they_admin(db):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="accounts"))
    MembershipFactory(user=staff, role=Role.ADMIN, subaccount__name="Desk Staff")
    SubaccountFactory(name="Desk Elsewhere")

    html = verified_client(staff).get("/admin/accounts/subaccount/").content.decode()

    assert "Desk Staff" in html and "Desk Elsewhere" not in html


def test_a_role_change_in_the_admin_is_audited(db):
    root = SuperuserFactory()
    membership = MembershipFactory(role=Role.VIEWER)

    verified_client(root).post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {"user": membership.user_id, "subaccount": membership.subaccount_id, "role": "trader"},
    )

    assert Membership.objects.get(pk=membership.pk).role == Role.TRADER
    event = AuditEvent.objects.get(action="admin_membership_change")
    assert event.actor == root and event.subaccount == membership.subaccount


def test_the_admin_site_needs_a_two_factor_verified_session(db):
    from tests.accounts.conftest import signed_in_client

    root = SuperuserFactory()

    unverified = signed_in_client(root).get("/admin/")
    verified = verified_client(root).get("/admin/")

    assert unverified.status_code == 302 and unverified["Location"].startswith("/admin/login/")
    assert verified.status_code == 200


def _nav_offers_admin(user) -> bool:
    html = verified_client(user).get("/accounts/subaccounts/").content.decode()
    return '<a href="/admin/">Admin</a>' in html


def test_the_admin_link_is_offered_only_to_whom_the_admin_has_something(db):
    root = SuperuserFactory()
    bare_staff = UserFactory(is_staff=True)
    demo_admin = UserFactory(is_staff=True)  # staff who may add subaccounts, on the desk's page
    demo_admin.user_permissions.add(Permission.objects.get(codename="add_subaccount"))
    staff_with_a_model = UserFactory(is_staff=True)
    staff_with_a_model.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    member = UserFactory()

    assert _nav_offers_admin(root)
    assert _nav_offers_admin(staff_with_a_model)
    assert not _nav_offers_admin(bare_staff)
    assert not _nav_offers_admin(demo_admin)
    assert not _nav_offers_admin(member)
    index = verified_client(staff_with_a_model).get("/admin/").content.decode()
    assert "permission to view or edit anything" not in index
    assert "permission to view or edit anything" in (
        verified_client(demo_admin).get("/admin/").content.decode()
    )


def test_nobody_is_made_an_admin_in_the_admin(db):
    # that takes a fresh two-factor code, which only the dashboard's Members page asks for
    root = SuperuserFactory()
    viewer = MembershipFactory(role=Role.VIEWER)
    newcomer = UserFactory()
    client = verified_client(root)

    promoted = client.post(
        f"/admin/accounts/membership/{viewer.pk}/change/",
        {"user": viewer.user_id, "subaccount": viewer.subaccount_id, "role": "admin"},
    )
    added = client.post(
        "/admin/accounts/membership/add/",
        {"user": newcomer.pk, "subaccount": viewer.subaccount_id, "role": "admin"},
    )

    for refused in (promoted, added):
        assert refused.status_code == 200
        assert (
            "Making someone an admin takes a fresh two-factor code: do it on the "
            "subaccount&#x27;s Members page on the dashboard." in refused.content.decode()
        )
    assert Membership.objects.get(pk=viewer.pk).role == Role.VIEWER
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not AuditEvent.objects.exists()


def test_an_admin_stays_an_admin_when_the_admin_saves_the_row(db):
    root = SuperuserFactory()
    admin = MembershipFactory(role=Role.ADMIN)
    other = UserFactory()
    client = verified_client(root)
    url = f"/admin/accounts/membership/{admin.pk}/change/"

    kept = client.post(
        url, {"user": admin.user_id, "subaccount": admin.subaccount_id, "role": "admin"}
    )
    moved = client.post(url, {"user": other.pk, "subaccount": admin.subaccount_id, "role": "admin"})

    assert kept.status_code == 302
    assert moved.status_code == 200  # the row would make another user an admin
    assert Membership.objects.get(pk=admin.pk).user == admin.user


def test_withdrawal_limits_and_addresses_are_not_deleted_in_the_admin(db):
    # deleting a daily limit lifts it; the dashboard's changes take a fresh two-factor code
    from django.urls import reverse

    from tests.factories import WithdrawalAddressFactory, WithdrawalLimitFactory

    limit = WithdrawalLimitFactory()
    address = WithdrawalAddressFactory(subaccount=limit.subaccount)
    client = verified_client(SuperuserFactory())

    for row in (limit, address):
        opts = row._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        assert type(row).objects.filter(pk=row.pk).exists()


def _subaccount_form(subaccount, members: list[tuple[int | str, int, str]]) -> dict[str, object]:
    """The subaccount's admin change form as posted, with its members inline."""
    data: dict[str, object] = {
        "name": subaccount.name,
        "exchange_label": subaccount.exchange_label,
        "notes": "",
        "is_active": "on",
        "order_confirm_equity_pct": "10",
        "order_confirm_price_pct": "5",
        "memberships-TOTAL_FORMS": str(len(members)),
        "memberships-INITIAL_FORMS": str(sum(1 for pk, _, _ in members if pk)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for n, (pk, user_id, role) in enumerate(members):
        data |= {
            f"memberships-{n}-id": pk,
            f"memberships-{n}-subaccount": subaccount.pk,
            f"memberships-{n}-user": user_id,
            f"memberships-{n}-role": role,
        }
    return data


def test_the_subaccounts_members_inline_keeps_its_admins_but_makes_none(db):
    root = SuperuserFactory()
    admin = MembershipFactory(role=Role.ADMIN)
    newcomer = UserFactory()
    client = verified_client(root)
    url = f"/admin/accounts/subaccount/{admin.subaccount_id}/change/"
    kept = [(admin.pk, admin.user_id, "admin")]

    saved = client.post(url, _subaccount_form(admin.subaccount, kept))
    granted = client.post(
        url, _subaccount_form(admin.subaccount, [*kept, ("", newcomer.pk, "admin")])
    )

    assert saved.status_code == 302
    assert granted.status_code == 200
    assert "Making someone an admin takes a fresh two-factor code" in granted.content.decode()
    assert list(admin.subaccount.memberships.values_list("user", "role")) == [
        (admin.user_id, "admin")
    ]
