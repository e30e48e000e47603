"""A database of the previous release, which let one key be registered for several
subaccounts, is upgraded to one subaccount per key: every row stays as it was, the
duplicates are marked, and from then on the database itself refuses a second holder."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from accounts.models import Subaccount
from tests.factories import SubaccountFactory, keypair_for
from tests.migrating import previous_release, upgrade

BEFORE = [("accounts", "0005_team_setting"), ("trading", "0019_order_origins")]
TREASURY, _ = keypair_for(bytes(range(32)))
DESK_A, _ = keypair_for(bytes(range(1, 33)))


@pytest.mark.django_db(transaction=True)
def test_subaccounts_sharing_a_key_are_kept_and_the_later_ones_marked():
    old = previous_release(BEFORE)
    subaccount = old.get_model("accounts", "Subaccount")
    for name, key in [
        ("Treasury", TREASURY),
        ("Desk A", DESK_A),
        ("Treasury 2", TREASURY),
        ("Treasury 3", f" {TREASURY[:20]}\n{TREASURY[20:]}\n"),  # as a script might have stored it
        ("Old desk", "k"),
    ]:
        subaccount.objects.create(name=name, api_public_key=key, api_secret_sealed="s")

    upgrade()

    rows = Subaccount.objects.order_by("pk").values_list(
        "name", "api_public_key", "legacy_shared_key"
    )
    assert list(rows) == [
        ("Treasury", TREASURY, False),
        ("Desk A", DESK_A, False),
        ("Treasury 2", TREASURY, True),
        ("Treasury 3", TREASURY, True),
        ("Old desk", "k", False),
    ]
    with pytest.raises(IntegrityError):
        Subaccount.objects.create(name="Desk A again", api_public_key=DESK_A, api_secret_sealed="s")


def test_the_database_holds_one_subaccount_per_key(db):
    first = SubaccountFactory(name="Treasury")

    with pytest.raises(IntegrityError):
        SubaccountFactory(name="Treasury 2", api_public_key=first.api_public_key)
