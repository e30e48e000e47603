"""The fat-finger guard every subaccount has: a default for new and old subaccounts, changed
by admins (audited, old and new values), never removed by leaving the field empty."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts import services
from accounts.models import AuditEvent, Role, Subaccount
from tests.accounts.conftest import signed_in_client, verified_client
from tests.factories import MembershipFactory, SubaccountFactory


@pytest.fixture
def admin(db):
    return MembershipFactory(role=Role.ADMIN, subaccount__name="Desk A")


def test_a_new_subaccount_has_the_default_guard(db):
    subaccount = SubaccountFactory()
    subaccount.refresh_from_db()

    assert subaccount.order_confirm_equity_pct == Decimal("10")
    assert subaccount.order_confirm_price_pct == Decimal("5")


@pytest.mark.django_db(transaction=True)
def test_a_subaccount_made_before_the_guard_gets_the_default_from_the_migration():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_userpreference")])
    old_apps = executor.loader.project_state([("accounts", "0002_userpreference")]).apps
    OldSubaccount = old_apps.get_model("accounts", "Subaccount")
    OldSubaccount.objects.create(name="Old desk", api_public_key="k", api_secret_sealed="s")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    old = Subaccount.objects.get(name="Old desk")
    assert (old.order_confirm_equity_pct, old.order_confirm_price_pct) == (
        Decimal("10"),
        Decimal("5"),
    )


def test_the_detail_page_states_the_guard(admin):
    html = (
        signed_in_client(admin.user)
        .get(f"/accounts/subaccounts/{admin.subaccount_id}/")
        .content.decode()
    )

    assert (
        '<td id="confirm-guard">Confirm orders above 10.00% of equity, and limit prices more '
        "than 5.00% through the best opposite price.</td>"
    ) in html


def test_the_settings_form_shows_the_current_guard(admin):
    html = (
        verified_client(admin.user)
        .get(f"/accounts/subaccounts/{admin.subaccount_id}/settings/")
        .content.decode()
    )

    assert 'name="order_confirm_equity_pct" value="10"' in html
    assert 'name="order_confirm_price_pct" value="5"' in html


def test_an_admin_changes_the_guard_and_the_audit_keeps_both_values(admin):
    response = verified_client(admin.user).post(
        f"/accounts/subaccounts/{admin.subaccount_id}/settings/",
        {"is_active": "on", "order_confirm_equity_pct": "25", "order_confirm_price_pct": "2.5"},
    )

    assert response.status_code == 302
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.order_confirm_equity_pct == Decimal("25")
    assert admin.subaccount.order_confirm_price_pct == Decimal("2.5")
    event = AuditEvent.objects.get(action="subaccount_settings")
    assert event.parameters["order_confirm_equity_pct"] == "25"
    assert event.parameters["previous_order_confirm_equity_pct"] == "10.0000"
    assert event.parameters["order_confirm_price_pct"] == "2.5"


def test_an_empty_guard_field_is_refused_not_taken_as_removal(admin):
    response = verified_client(admin.user).post(
        f"/accounts/subaccounts/{admin.subaccount_id}/settings/",
        {"is_active": "on", "order_confirm_equity_pct": "", "order_confirm_price_pct": "5"},
    )

    assert response.status_code == 200
    assert (
        "The fat-finger guard cannot be removed: give a share of equity (10 is the default)."
        in response.content.decode()
    )
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.order_confirm_equity_pct == Decimal("10")
    assert not AuditEvent.objects.filter(action="subaccount_settings").exists()


def test_the_service_keeps_the_guard_when_given_none_and_refuses_out_of_range(admin):
    services.subaccount_settings_set(
        actor=admin.user,
        subaccount=admin.subaccount,
        exchange_label="",
        notes="",
        is_active=True,
        order_confirm_notional=None,
    )
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.order_confirm_equity_pct == Decimal("10")

    with pytest.raises(services.ServiceError) as refused:
        services.subaccount_settings_set(
            actor=admin.user,
            subaccount=admin.subaccount,
            exchange_label="",
            notes="",
            is_active=True,
            order_confirm_notional=None,
            order_confirm_equity_pct=Decimal("5000"),
        )
    assert refused.value.message == "The share of equity must be above 0% and at most 1000%."
    assert refused.value.field == "order_confirm_equity_pct"
