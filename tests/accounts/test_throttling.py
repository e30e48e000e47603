"""Sign-in throttling: per user name and address, per address across user names; the pause
page says when to try again."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory


def sign_in(client: Client, username: str, password: str = DEFAULT_PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def retry_at(**filters) -> str:
    last = max(a.attempt_time for a in AccessAttempt.objects.filter(**filters))
    return f"{last + timedelta(minutes=15):%H:%M}"


def test_five_wrong_passwords_for_one_name_pause_it_and_say_until_when(db):
    UserFactory(username="erin")
    client = Client()
    for _ in range(5):
        sign_in(client, "erin", "wrong")

    locked = sign_in(client, "erin")

    assert locked.status_code == 429
    assert (
        f"Too many failed sign-ins for erin. Try again at {retry_at(username='erin')} UTC "
        "(in 15 minutes), or ask an admin to unlock the account."
    ) in locked.content.decode()
    assert 890 <= int(locked["Retry-After"]) <= 900
    assert client.get("/").status_code == 302


def test_one_address_trying_many_names_is_paused_after_twenty(db):
    UserFactory(username="frank")
    client = Client()
    for n in range(19):
        sign_in(client, f"guess{n}", "wrong")
    assert sign_in(client, "frank").status_code == 302  # nineteen: still open
    sign_in(client, "guess19", "wrong")

    locked = sign_in(Client(), "frank")

    assert locked.status_code == 429
    assert (
        f"Too many failed sign-ins from your address. Try again at "
        f"{retry_at(ip_address='127.0.0.1')} UTC (in 15 minutes), or ask an admin to unlock "
        "the account."
    ) in locked.content.decode()
    assert sign_in(Client(REMOTE_ADDR="10.0.0.2"), "frank").status_code == 302


def test_a_correct_password_forgets_only_that_names_failures(db):
    UserFactory(username="gina")
    client = Client()
    for _ in range(4):
        sign_in(client, "gina", "wrong")
    for _ in range(4):
        sign_in(client, "hal", "wrong")

    assert sign_in(client, "gina").status_code == 302
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        ("hal", 4)
    ]
