"""The script keys page as a member uses it: the answer that shows a secret is never cached;
a form issues at most one key, however often it is sent; revoking asks first;
a revoked key says when and by whom; "Last used" is in UTC like the expiry; the buttons look
like the desk's other buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Role
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory
from trading.gateway.keys import script_key_create, script_key_revoke
from trading.gateway.models import ScriptKey

pytestmark = pytest.mark.django_db

URL = "/trading/keys/"
ALREADY = (
    "This form already issued the key {name} ({fingerprint}); its secret was shown once. "
    "Issue a new key if you need another."
)


@pytest.fixture
def desk():
    return SubaccountFactory(name="Desk A")


@pytest.fixture
def trader(desk):
    user = UserFactory(username="tina")
    MembershipFactory(user=user, subaccount=desk, role=Role.TRADER)
    return user


@pytest.fixture
def client(trader) -> Client:
    client = Client()
    client.force_login(trader)
    return client


def _form_token(page: str) -> str:
    """The one-time token of the page's issue form ("" when the form has none)."""
    found = re.search(r'<input type="hidden" name="token" value="([^"]+)"', page)
    return found.group(1) if found else ""


def _issue(client: Client, desk, token: str, name: str = "grid bot"):
    data = {"name": name, "subaccounts": [desk.pk], "permissions": "trade", "days": "30"}
    return client.post(URL, {**data, "token": token})


def _row(page: str, key: ScriptKey) -> str:
    return re.search(rf'<tr data-key="{key.pk}">(.*?)</tr>', page, re.S).group(1)


def test_the_answer_that_shows_a_secret_is_never_stored(client, desk) -> None:
    token = _form_token(client.get(URL).content.decode())

    issued = _issue(client, desk, token)

    assert "data-secret" in issued.content.decode()
    assert "no-store" in issued.headers.get("Cache-Control", "")


def test_every_answer_of_the_page_is_never_stored(client, desk) -> None:
    page = client.get(URL)
    refused = client.post(URL, {"name": "", "token": _form_token(page.content.decode())})

    assert "no-store" in page.headers.get("Cache-Control", "")
    assert refused.status_code == 200
    assert "no-store" in refused.headers.get("Cache-Control", "")


def test_a_resubmitted_form_issues_nothing_and_says_so(client, desk) -> None:
    token = _form_token(client.get(URL).content.decode())
    first = _issue(client, desk, token)

    again = _issue(client, desk, token)

    key = ScriptKey.objects.get()
    page = again.content.decode()
    assert ScriptKey.objects.count() == 1
    assert AuditEvent.objects.filter(action="script_key_create").count() == 1
    assert ALREADY.format(name="grid bot", fingerprint=key.fingerprint) in page
    assert "data-secret" not in page
    assert "data-secret" in first.content.decode()
    assert "no-store" in again.headers.get("Cache-Control", "")


def test_a_fresh_form_issues_again(client, desk) -> None:
    first = _issue(client, desk, _form_token(client.get(URL).content.decode()))
    fresh = _form_token(first.content.decode())

    second = _issue(client, desk, fresh, name="grid bot")

    assert fresh
    assert ScriptKey.objects.filter(name="grid bot", revoked_at=None).count() == 2
    assert AuditEvent.objects.filter(action="script_key_create").count() == 2
    assert "data-secret" in second.content.decode()
    assert "already issued" not in second.content.decode()


def test_a_form_without_its_token_issues_nothing(client, desk) -> None:
    page = _issue(client, desk, "").content.decode()

    assert "The form has no token; reload the page before issuing a key." in page
    assert not ScriptKey.objects.exists()


def test_revoke_asks_first_and_htmx_returns_to_the_page(client, trader, desk) -> None:
    key = script_key_create(
        actor=trader, name="grid bot", subaccounts=[desk], can_trade=True, days=1
    ).key
    revoke_url = reverse("gateway:script_key_revoke", args=[key.pk])

    row = _row(client.get(URL).content.decode(), key)
    answer = client.post(revoke_url, headers={"HX-Request": "true"})

    assert f'hx-post="{revoke_url}"' in row
    assert (
        f'hx-confirm="Revoke the key grid bot ({key.fingerprint})? '
        'Scripts signing with it are refused at once."' in row
    )
    assert answer.headers["HX-Redirect"] == URL
    assert ScriptKey.objects.get().state == "revoked"


def test_last_used_is_shown_in_utc_like_the_expiry(client, trader, desk) -> None:
    key = script_key_create(
        actor=trader, name="grid bot", subaccounts=[desk], can_trade=True, days=1
    ).key
    ScriptKey.objects.filter(pk=key.pk).update(
        expires_at=datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC),
        last_used_at=datetime(2030, 6, 7, 8, 9, 10, tzinfo=UTC),
        last_used_ip="10.0.0.5",
    )

    row = _row(client.get(URL).content.decode(), key)

    assert "<td>2031-01-02 03:04:05 UTC</td>" in row
    assert "<td>2030-06-07 08:09:10 UTC from 10.0.0.5</td>" in row


def test_a_revoked_key_says_when_and_by_whom(client, trader, desk) -> None:
    admin = UserFactory(username="ada")
    MembershipFactory(user=admin, subaccount=desk, role=Role.ADMIN)
    key = script_key_create(
        actor=trader, name="grid bot", subaccounts=[desk], can_trade=True, days=1
    ).key
    ScriptKey.objects.filter(pk=key.pk).update(expires_at=datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC))
    script_key_revoke(actor=admin, key_id=key.pk)
    ScriptKey.objects.filter(pk=key.pk).update(
        revoked_at=datetime(2030, 6, 7, 8, 9, 10, tzinfo=UTC)
    )

    row = _row(client.get(URL).content.decode(), key)

    assert "revoked 2030-06-07 08:09:10 UTC by ada" in row
    assert "2031-01-02 03:04:05 UTC" in row
    assert "Revoke</button>" not in row


def test_the_buttons_are_styled_like_the_desks_other_buttons(client, trader, desk) -> None:
    key = script_key_create(
        actor=trader, name="grid bot", subaccounts=[desk], can_trade=True, days=1
    ).key

    page = client.get(URL).content.decode()

    assert re.search(r'<button type="submit" class="danger[^"]*">Revoke</button>', _row(page, key))
    assert '<button type="submit" class="primary">Issue key</button>' in page
