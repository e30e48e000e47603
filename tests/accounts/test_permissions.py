"""The role rules other apps rely on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from accounts.permissions import Role, has_role, require_role, role_of, subaccounts_visible_to
from tests.factories import MembershipFactory, SubaccountFactory, SuperuserFactory, UserFactory


@pytest.fixture
def trader(db):
    return MembershipFactory(role=Role.TRADER)


def test_roles_include_the_ones_below_them(trader):
    user, subaccount = trader.user, trader.subaccount

    assert role_of(user, subaccount) == Role.TRADER
    assert has_role(user, subaccount, Role.VIEWER) and has_role(user, subaccount, Role.TRADER)
    assert not has_role(user, subaccount, Role.ADMIN)
    assert require_role(user, subaccount.pk, Role.TRADER) == Role.TRADER
    with pytest.raises(PermissionDenied, match="This needs the admin role."):
        require_role(user, subaccount, Role.ADMIN)


def test_visible_subaccounts_follow_membership_and_minimum_role(trader):
    SubaccountFactory()
    admin_of = MembershipFactory(user=trader.user, role=Role.ADMIN).subaccount

    assert set(subaccounts_visible_to(trader.user)) == {trader.subaccount, admin_of}
    assert list(subaccounts_visible_to(trader.user, min_role=Role.ADMIN)) == [admin_of]


def test_superusers_have_every_role_and_strangers_none(trader):
    root, stranger = SuperuserFactory(), UserFactory()

    assert role_of(root, trader.subaccount) == Role.ADMIN
    assert subaccounts_visible_to(root).count() == 1
    assert role_of(stranger, trader.subaccount) is None
    assert not subaccounts_visible_to(stranger).exists()
    assert role_of(AnonymousUser(), trader.subaccount) is None
    assert not subaccounts_visible_to(AnonymousUser()).exists()


def test_an_inactive_member_has_no_role(trader):
    trader.user.is_active = False
    trader.user.save()

    assert role_of(trader.user, trader.subaccount) is None
    assert not subaccounts_visible_to(trader.user).exists()
