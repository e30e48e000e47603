"""The team settings page: an admin types a time zone; a name zoneinfo does not know is
refused beside the field, and nothing changes."""

from __future__ import annotations

from accounts.models import Role
from accounts.team import team_time_zone
from tests.accounts.conftest import verified_client
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory


def test_an_admin_sets_the_zone_and_a_bad_name_is_refused_beside_the_field(db) -> None:
    admin = UserFactory(username="zone-admin")
    MembershipFactory(user=admin, subaccount=SubaccountFactory(), role=Role.ADMIN)
    client = verified_client(admin)

    refused = client.post("/accounts/team/", {"time_zone": "Mars/Olympus"})
    kept = client.post("/accounts/team/", {"time_zone": "Europe/Berlin"}, follow=True)

    assert refused.status_code == 200
    assert (
        '<p class="form-error" role="alert" id="time-zone-error">“Mars/Olympus” is not a time '
        "zone name; use one like UTC, Europe/Berlin or America/New_York.</p>"
    ) in refused.content.decode()
    assert "The team&#x27;s days now run in Europe/Berlin." in kept.content.decode()
    assert team_time_zone() == "Europe/Berlin"
