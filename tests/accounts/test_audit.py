"""The audit trail: append-only, secrets removed, filters and a membership-filtered CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.audit import audit_record, scrub
from accounts.models import AuditEvent, AuditEventError, Role
from tests.accounts.conftest import signed_in_client, verified_client
from tests.factories import MembershipFactory, SuperuserFactory


def test_an_audit_event_cannot_be_changed_or_deleted(db):
    event = audit_record(actor=None, action="test")

    event.action = "rewritten"
    with pytest.raises(AuditEventError):
        event.save()
    with pytest.raises(AuditEventError):
        event.delete()
    with pytest.raises(AuditEventError):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(AuditEventError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == "test"


def test_secret_parameters_are_removed_before_they_are_stored():
    assert scrub({"api_secret": "x", "nested": {"password": "y", "otp_code": "1"}, "n": 1}) == {
        "api_secret": "[removed]",
        "nested": {"password": "[removed]", "otp_code": "[removed]"},
        "n": 1,
    }


@pytest.fixture
def trail(db):
    """Events on two subaccounts; `reader` admins only the first."""
    reader = MembershipFactory(role=Role.ADMIN, subaccount__name="Desk Read")
    other = MembershipFactory(role=Role.ADMIN, subaccount__name="Desk Hidden")
    audit_record(actor=reader.user, action="membership_add", subaccount=reader.subaccount)
    audit_record(actor=other.user, action="membership_add", subaccount=other.subaccount)
    audit_record(actor=other.user, action="withdrawal_policy_set", subaccount=reader.subaccount)
    return reader, other


def test_the_log_shows_only_events_of_subaccounts_the_reader_admins(trail):
    reader, _ = trail

    html = verified_client(reader.user).get("/accounts/audit/").content.decode()

    assert "Desk Read" in html and "withdrawal_policy_set" in html
    assert "Desk Hidden" not in html.split('id="audit-events"')[1]


def test_filters_by_action_and_actor(trail):
    reader, other = trail
    client = verified_client(reader.user)

    by_action = client.get("/accounts/audit/", {"action": "withdrawal_policy_set"})
    by_actor = client.get("/accounts/audit/", {"actor": reader.user.username})

    assert by_action.content.decode().count('data-action="') == 1
    rows = by_actor.content.decode().split('id="audit-events"')[1]
    assert rows.count('data-action="membership_add"') == 1
    assert "withdrawal_policy_set" not in rows


def test_date_range_filter_and_a_reversed_range_is_explained(trail):
    reader, _ = trail
    client = verified_client(reader.user)
    today = timezone.now().date()

    tomorrow_on = client.get("/accounts/audit/", {"date_from": today + timedelta(days=1)})
    reversed_range = client.get(
        "/accounts/audit/", {"date_from": today, "date_to": today - timedelta(days=1)}
    )
    today_only = client.get("/accounts/audit/", {"date_from": today, "date_to": today})

    assert "No events match." in tomorrow_on.content.decode()
    assert "The end date is before the start date." in reversed_range.content.decode()
    assert 'type="date" name="date_to"' in reversed_range.content.decode()  # read: stays a date
    assert today_only.content.decode().count('data-action="') == 2


UNREADABLE_DATE = "The date could not be read: type it as YYYY-MM-DD, e.g. 2026-01-31."


def test_an_unreadable_date_is_said_beside_it_and_kept_as_typed(trail):
    reader, _ = trail
    client = verified_client(reader.user)

    page = client.get("/accounts/audit/", {"date_from": "garbage"}).content.decode()
    region = client.get(
        "/accounts/audit/", {"date_from": "garbage"}, headers={"HX-Request": "true"}
    ).content.decode()

    field = page.split('<label for="id_date_from">', 1)[1].split("</div>", 2)
    assert 'type="text" name="date_from" value="garbage"' in field[0]  # a date box would drop it
    assert UNREADABLE_DATE in field[0] + field[1]
    assert "No events match." not in page
    # the filters change only the events region (htmx): it says why nothing is listed
    assert f"Date from: {UNREADABLE_DATE}" in region and "No events match." not in region


def test_the_csv_refuses_a_filter_it_cannot_read_as_the_page_does(trail):
    reader, _ = trail
    client = verified_client(reader.user)

    bad_subaccount = client.get("/accounts/audit/export.csv", {"subaccount": "abc"})
    bad_date = client.get("/accounts/audit/export.csv", {"date_from": "garbage"})

    assert bad_subaccount.status_code == 400
    assert bad_subaccount["Content-Type"] == "text/plain; charset=utf-8"
    assert bad_subaccount.content.decode() == (
        "Subaccount: Select a valid choice. abc is not one of the available choices."
    )
    assert (bad_date.status_code, bad_date.content.decode()) == (
        400,
        f"Date from: {UNREADABLE_DATE}",
    )


def test_csv_export_is_membership_filtered(trail):
    reader, _ = trail

    response = verified_client(reader.user).get("/accounts/audit/export.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert {row["subaccount"] for row in rows} == {"Desk Read"}
    assert len(rows) == 2


def test_superuser_exports_everything(trail):
    response = verified_client(SuperuserFactory()).get("/accounts/audit/export.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["subaccount"] for row in rows} == {"Desk Read", "Desk Hidden"}


def test_a_viewer_sees_no_other_peoples_events(trail):
    reader, _ = trail
    viewer = MembershipFactory(role=Role.VIEWER, subaccount=reader.subaccount)

    html = signed_in_client(viewer.user).get("/accounts/audit/").content.decode()

    assert "No events match." in html


def test_csv_cells_that_look_like_formulas_are_defused(trail):
    reader, _ = trail
    audit_record(
        actor=reader.user,
        action="withdrawal_address_add",
        subaccount=reader.subaccount,
        detail='=HYPERLINK("http://evil.example")',
    )

    response = verified_client(reader.user).get("/accounts/audit/export.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    details = [row["detail"] for row in rows if row["action"] == "withdrawal_address_add"]
    assert details == ['\'=HYPERLINK("http://evil.example")']


def test_the_log_shows_details_as_readable_fields_and_the_time_on_one_line(db):
    reader = MembershipFactory(role=Role.ADMIN, subaccount__name="Desk Read")
    audit_record(
        actor=reader.user,
        action="subaccount_settings",
        subaccount=reader.subaccount,
        parameters={"order_confirm_notional": None, "is_active": True, "orderType": "Limit"},
        detail="saved",
    )

    html = verified_client(reader.user).get("/accounts/audit/").content.decode()

    row = html.split('<tr data-action="subaccount_settings">', 1)[1].split("</tr>", 1)[0]
    assert (
        '<dl class="audit-fields"><div><dt>Is active</dt><dd>yes</dd></div>'
        "<div><dt>Order confirm notional</dt><dd>–</dd></div>"
        "<div><dt>Order type</dt><dd>Limit</dd></div></dl>"
    ) in row
    assert '<p class="muted audit-detail">saved</p>' in row
    assert '<td class="nowrap" data-label="Time (UTC)"><time datetime="' in row


def test_stored_settings_in_the_details_show_without_the_databases_trailing_zeros(db):
    reader = MembershipFactory(role=Role.ADMIN, subaccount__name="Desk Read")
    audit_record(
        actor=reader.user,
        action="risk_limits_set",
        subaccount=reader.subaccount,
        parameters={  # as the service records them: values read back from decimal columns
            "limits": {"max_order_notional": Decimal("1500000"), "max_leverage": Decimal("2.5")},
            "previous": {
                "max_order_notional": Decimal("1173840.000000000000000000"),
                "max_leverage": Decimal("3.0000"),
                "max_open_orders": 20,
                "allowed_markets": "",
            },
        },
    )

    html = verified_client(reader.user).get("/accounts/audit/").content.decode()

    row = html.split('<tr data-action="risk_limits_set">', 1)[1].split("</tr>", 1)[0]

    def shown(term: str) -> set[str]:  # in any order: PostgreSQL's jsonb orders the keys itself
        return set(row.split(f"<dt>{term}</dt><dd>", 1)[1].split("</dd>", 1)[0].split(", "))

    assert shown("Previous") == {
        "Max order notional: 1173840",
        "Max leverage: 3",
        "Max open orders: 20",
        "Allowed markets: –",
    }
    assert shown("Limits") == {"Max order notional: 1500000", "Max leverage: 2.5"}
