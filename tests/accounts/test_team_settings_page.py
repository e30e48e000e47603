"""The team settings page: an admin types a time zone and a fresh two-factor code; a name
zoneinfo does not know, or a missing or wrong code, is refused beside its field, and nothing
changes."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Role
from accounts.team import team_time_zone
from tests.accounts.conftest import fresh_totp, totp_now, verified_client
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory

WRONG_CODE = "That two-factor code is not right (or was used already). Type the current code."
NO_CODE = "Type the current two-factor code from your authenticator app: this change needs one."


def _admin():
    admin = UserFactory(username="zone-admin")
    MembershipFactory(user=admin, subaccount=SubaccountFactory(), role=Role.ADMIN)
    return admin


def _code(user) -> str:
    return fresh_totp(TOTPDevice.objects.get(user=user))


def _beside_code(response) -> str:
    found = re.search(r'data-field="otp_code">([^<]*)</div>', response.content.decode())
    return found.group(1) if found else ""


def test_an_admin_sets_the_zone_and_a_bad_name_is_refused_beside_the_field(db) -> None:
    admin = _admin()
    client = verified_client(admin)

    refused = client.post("/accounts/team/", {"time_zone": "Mars/Olympus"})
    kept = client.post(
        "/accounts/team/", {"time_zone": "Europe/Berlin", "otp_code": _code(admin)}, follow=True
    )

    assert refused.status_code == 200
    assert (
        '<p class="form-error" role="alert" id="time-zone-error">“Mars/Olympus” is not a time '
        "zone name; use one like UTC, Europe/Berlin or America/New_York.</p>"
    ) in refused.content.decode()
    assert "The team&#x27;s days now run in Europe/Berlin." in kept.content.decode()
    assert team_time_zone() == "Europe/Berlin"


def test_changing_the_zone_takes_a_fresh_two_factor_code(db) -> None:
    # the zone says when the daily loss limits start a new day: a limit setting
    admin = _admin()
    client = verified_client(admin)
    wrong = "000000" if totp_now(TOTPDevice.objects.get(user=admin)) != "000000" else "111111"

    without = client.post("/accounts/team/", {"time_zone": "Asia/Tokyo"})
    with_wrong = client.post("/accounts/team/", {"time_zone": "Asia/Tokyo", "otp_code": wrong})
    unchanged = team_time_zone()
    right = client.post("/accounts/team/", {"time_zone": "Asia/Tokyo", "otp_code": _code(admin)})

    assert unchanged == "UTC"
    for refused, said in ((without, NO_CODE), (with_wrong, WRONG_CODE)):
        assert refused.status_code == 200
        assert _beside_code(refused) == said
        assert 'name="time_zone" id="id_time_zone" value="Asia/Tokyo"' in refused.content.decode()
    denied = AuditEvent.objects.filter(action="team.time_zone", result="denied").order_by("pk")
    assert list(denied.values_list("actor_name", "detail")) == [
        ("zone-admin", "no two-factor code typed"),
        ("zone-admin", "two-factor code not accepted"),
    ]
    assert right.status_code == 302
    assert team_time_zone() == "Asia/Tokyo"


def test_the_page_says_how_long_to_wait_while_wrong_codes_hold_the_device(db, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 10  # held 10 s after one wrong code
    admin = _admin()
    client = verified_client(admin)
    device = TOTPDevice.objects.get(user=admin)
    wrong = "000000" if totp_now(device) != "000000" else "111111"
    client.post("/accounts/team/", {"time_zone": "Asia/Tokyo", "otp_code": wrong})

    held = client.post("/accounts/team/", {"time_zone": "Asia/Tokyo", "otp_code": totp_now(device)})

    assert (
        _beside_code(held) == "Too many wrong codes: wait 10 seconds, then type the current code."
    )
    assert team_time_zone() == "UTC"


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"time_zone": "Asia/\x00Tokyo"}, "time_zone", "Null characters are not allowed."),
        ({"otp_code": "12\x003456"}, "otp_code", "Null characters are not allowed."),
        (
            {"otp_code": "1" * 5000},
            "otp_code",
            "Ensure this value has at most 20 characters (it has 5000).",
        ),
    ],
)
def test_a_nul_or_an_overlong_value_is_refused_beside_its_field(db, typed, field, message) -> None:
    admin = _admin()

    refused = verified_client(admin).post(
        "/accounts/team/", {"time_zone": "Asia/Tokyo", "otp_code": _code(admin), **typed}
    )

    html = refused.content.decode()
    assert refused.status_code == 200
    if field == "otp_code":
        assert _beside_code(refused) == message
    else:
        assert f'id="time-zone-error">{message}</p>' in html
    assert team_time_zone() == "UTC"
