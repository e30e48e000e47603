"""Script keys of the previous release (trading 0019) come through the upgrade that records
the form that issued a key (trading 0020) unchanged: both still admit their scripts, they
record no form, and a key issued afterwards through the page's form records its token."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from nacl.signing import SigningKey

from tests.migrating import old_desk, previous_release, upgrade
from trading.gateway.admit import script_key_admit
from trading.gateway.keys import script_key_create
from trading.gateway.models import ScriptKey
from trading.gateway.routes import served

BEFORE = [("accounts", "0005_team_setting"), ("trading", "0019_order_origins")]


def _public_key() -> str:
    return base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


@pytest.mark.django_db(transaction=True)
def test_keys_of_the_previous_release_keep_working_and_record_no_form():
    old = previous_release(BEFORE)
    alice = old.get_model("auth", "User").objects.create(username="alice")
    desk = old_desk(old)
    old.get_model("accounts", "Membership").objects.create(
        user=alice, subaccount=desk, role="trader"
    )
    old_key = old.get_model("trading", "ScriptKey")
    for name in ("one", "two"):
        key = old_key.objects.create(
            member=alice,
            name=name,
            public_key=_public_key(),
            expires_at=timezone.now() + timedelta(days=1),
        )
        key.subaccounts.set([desk])

    upgrade()

    keys = ScriptKey.objects.order_by("name")
    assert [(k.name, k.form_token, k.state) for k in keys] == [
        ("one", None, "active"),
        ("two", None, "active"),
    ]
    caller = script_key_admit(
        api_key=keys[0].public_key,
        served=served("GET", "/api/v1/capital"),
        subaccount=None,
        ip="127.0.0.1",
    )
    assert caller.member.username == "alice"
    issued = script_key_create(
        actor=caller.member,
        name="three",
        subaccounts=[caller.subaccount],
        can_trade=False,
        days=1,
        form_token="form-1",
    )
    assert (issued.repeated, ScriptKey.objects.get(name="three").form_token) == (False, "form-1")
