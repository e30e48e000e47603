"""Issuing and revoking script keys: the page shows a generated secret once and stores only
the public key; scope stays within the member's role; revocation is the owner's or an
admin's; both are audited (issue 17.1)."""

from __future__ import annotations

import base64
import re

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from nacl.signing import SigningKey

from accounts.models import AuditEvent, Membership, Role
from tests.factories import MembershipFactory, SubaccountFactory, SuperuserFactory, UserFactory
from trading.gateway import keys
from trading.gateway.admit import script_key_admit
from trading.gateway.errors import Refusal
from trading.gateway.keys import ScriptKeyError, script_key_create, script_key_revoke
from trading.gateway.models import ScriptKey
from trading.gateway.routes import served

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    desk, other = SubaccountFactory(name="Desk A"), SubaccountFactory(name="Desk B")
    trader, viewer = UserFactory(username="tina"), UserFactory(username="vic")
    MembershipFactory(user=trader, subaccount=desk, role=Role.TRADER)
    MembershipFactory(user=viewer, subaccount=desk, role=Role.VIEWER)
    admin = UserFactory(username="ada")
    MembershipFactory(user=admin, subaccount=desk, role=Role.ADMIN)
    return desk, other, trader, viewer, admin


def _sent(client: Client, data: dict) -> HttpResponse:
    """The issue form as a browser sends it: filled in on the page, with the page's token."""
    url = reverse("gateway:script_keys")
    token = re.search(r'name="token" value="([^"]+)"', client.get(url).content.decode()).group(1)
    return client.post(url, {**data, "token": token})


def test_the_page_shows_a_generated_secret_once_and_keeps_only_the_public_key(team) -> None:
    desk, _other, trader, _viewer, _admin = team
    client = Client()
    client.force_login(trader)
    url = reverse("gateway:script_keys")

    created = _sent(
        client,
        {"name": "grid bot", "subaccounts": [desk.pk], "permissions": "trade", "days": "30"},
    )
    again = client.get(url)

    page = created.content.decode()
    secret = re.search(r"<code data-secret>([^<]+)</code>", page).group(1)
    public = re.search(r"<code data-public-key>([^<]+)</code>", page).group(1)
    key = ScriptKey.objects.get()
    derived = base64.b64encode(bytes(SigningKey(base64.b64decode(secret)).verify_key)).decode()
    assert derived == public == key.public_key
    assert secret not in again.content.decode()
    assert secret not in str(list(ScriptKey.objects.values()))
    assert (key.member, key.can_trade, list(key.subaccounts.all())) == (trader, True, [desk])
    event = AuditEvent.objects.get(action="script_key_create")
    assert (event.actor, event.subaccount, event.parameters["permissions"]) == (
        trader,
        desk,
        "read, trade",
    )


def test_a_pasted_public_key_is_kept_and_no_secret_is_shown(team) -> None:
    desk, _other, _trader, viewer, _admin = team
    client = Client()
    client.force_login(viewer)
    mine = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()

    page = _sent(
        client,
        {
            "name": "reader",
            "subaccounts": [desk.pk],
            "permissions": "read",
            "days": "7",
            "public_key": mine,
            "ip_allowlist": "10.0.0.0/24\n127.0.0.1",
        },
    ).content.decode()

    assert "data-secret" not in page
    key = ScriptKey.objects.get()
    assert (key.public_key, key.can_trade) == (mine, False)
    assert key.allows_ip("10.0.0.7") and key.allows_ip("127.0.0.1")
    assert not key.allows_ip("10.0.1.7")


def test_bad_input_gets_a_clear_message_and_nothing_is_issued(team) -> None:
    desk, _other, trader, _viewer, _admin = team
    client = Client()
    client.force_login(trader)

    page = _sent(
        client,
        {
            "name": "x",
            "subaccounts": [desk.pk],
            "permissions": "read",
            "days": "30",
            "public_key": "not base64!",
            "ip_allowlist": "10.0.0.0/24",
        },
    )

    assert page.status_code == 200
    assert "The public key is not valid base64." in page.content.decode()
    assert not ScriptKey.objects.exists()


def test_a_key_stays_within_the_members_role(team) -> None:
    desk, other, trader, viewer, _admin = team

    with pytest.raises(ScriptKeyError) as no_trade:
        script_key_create(actor=viewer, name="t", subaccounts=[desk], can_trade=True, days=1)
    with pytest.raises(ScriptKeyError) as not_member:
        script_key_create(actor=trader, name="t", subaccounts=[other], can_trade=False, days=1)

    assert (
        no_trade.value.message == "Your role on Desk A does not allow a key that may trade there."
    )
    assert not_member.value.message == (
        "Your role on Desk B does not allow a key that may read there."
    )
    assert not ScriptKey.objects.exists()


def test_the_owner_or_an_admin_revokes_and_no_one_else(team) -> None:
    desk, _other, trader, viewer, admin = team
    mine = script_key_create(actor=trader, name="a", subaccounts=[desk], can_trade=True, days=1)
    theirs = script_key_create(actor=trader, name="b", subaccounts=[desk], can_trade=True, days=1)

    with pytest.raises(ScriptKeyError):
        script_key_revoke(actor=viewer, key_id=mine.key.pk)
    script_key_revoke(actor=trader, key_id=mine.key.pk)
    script_key_revoke(actor=admin, key_id=theirs.key.pk)
    script_key_revoke(actor=SuperuserFactory(username="root"), key_id=theirs.key.pk)

    states = dict(ScriptKey.objects.values_list("name", "revoked_by__username"))
    assert states == {"a": "tina", "b": "ada"}
    revoked = AuditEvent.objects.filter(action="script_key_revoke").order_by("pk")
    assert [(e.actor_name, e.parameters["key"]) for e in revoked] == [("tina", "a"), ("ada", "b")]


def _admit(key, route=("GET", "/api/v1/capital"), ip="127.0.0.1", subaccount=None):
    return script_key_admit(
        api_key=key.public_key, served=served(*route), subaccount=subaccount, ip=ip
    )


def test_a_key_is_refused_outside_its_allow_list_and_once_the_role_is_gone(team) -> None:
    desk, _other, trader, _viewer, _admin = team
    key = script_key_create(
        actor=trader,
        name="ip",
        subaccounts=[desk],
        can_trade=True,
        days=1,
        ip_allowlist="10.1.0.0/16",
    ).key

    caller = _admit(key, ip="10.1.2.3")
    with pytest.raises(Refusal) as elsewhere:
        _admit(key, ip="192.0.2.9")
    Membership.objects.filter(user=trader, subaccount=desk).update(role=Role.VIEWER)
    with pytest.raises(Refusal) as demoted:
        _admit(key, route=("POST", "/api/v1/order"), ip="10.1.2.3")

    assert (caller.member, caller.subaccount) == (trader, desk)
    assert (elsewhere.value.status, elsewhere.value.code) == (403, "FORBIDDEN")
    assert elsewhere.value.message == (
        "This key may not be used from 192.0.2.9: not in its IP allow-list."
    )
    assert (demoted.value.status, demoted.value.code) == (403, "FORBIDDEN")
    assert demoted.value.message == "tina no longer has the trader role on Desk A."
    denied = AuditEvent.objects.filter(action="bpx_request", result=AuditEvent.Result.DENIED)
    assert [e.detail for e in denied.order_by("pk")] == [
        elsewhere.value.message,
        demoted.value.message,
    ]


def test_a_key_on_several_subaccounts_names_one(team) -> None:
    desk, other, trader, _viewer, _admin = team
    MembershipFactory(user=trader, subaccount=other, role=Role.VIEWER)
    key = script_key_create(
        actor=trader, name="two", subaccounts=[desk, other], can_trade=False, days=1
    ).key

    with pytest.raises(Refusal) as unnamed:
        _admit(key)
    named = _admit(key, subaccount="Desk B")
    typed = _admit(key, subaccount="desk b")  # as a script's author may type it

    assert unnamed.value.code == "INVALID_CLIENT_REQUEST"
    assert "X-Subaccount" in unnamed.value.message
    assert named.subaccount == other
    assert typed.subaccount == other


def test_a_form_token_issues_one_key_even_when_two_submits_race(team, monkeypatch) -> None:
    desk, _other, trader, viewer, _admin = team
    first = script_key_create(
        actor=trader, name="a", subaccounts=[desk], can_trade=True, days=1, form_token="form-1"
    )
    real = keys._issued_by_form
    calls = []

    def not_yet_committed(actor, form_token):  # the racing submit read before the first wrote
        calls.append(form_token)
        return None if len(calls) == 1 else real(actor, form_token)

    monkeypatch.setattr(keys, "_issued_by_form", not_yet_committed)
    raced = script_key_create(
        actor=trader, name="a", subaccounts=[desk], can_trade=True, days=1, form_token="form-1"
    )
    monkeypatch.setattr(keys, "_issued_by_form", real)
    again = script_key_create(
        actor=trader, name="a", subaccounts=[desk], can_trade=True, days=1, form_token="form-1"
    )
    with pytest.raises(ScriptKeyError) as someone_else:
        script_key_create(
            actor=viewer, name="v", subaccounts=[desk], can_trade=False, days=1, form_token="form-1"
        )

    assert first.secret and not first.repeated
    assert (raced.key, raced.secret, raced.repeated) == (first.key, None, True)
    assert (again.key, again.secret, again.repeated) == (first.key, None, True)
    assert someone_else.value.message == (
        "This form was already used; reload the page and fill it in again."
    )
    assert ScriptKey.objects.count() == 1
    assert AuditEvent.objects.filter(action="script_key_create").count() == 1
