"""The script keys page as a member uses it: the answer that shows a secret is never cached."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/trading/keys/"


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
