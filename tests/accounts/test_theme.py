from __future__ import annotations

from django.test import Client

from tests.factories import UserFactory


def test_a_theme_chosen_on_one_browser_follows_the_user_to_another(db):
    user = UserFactory()
    laptop, phone = Client(), Client()
    laptop.force_login(user)
    phone.force_login(user)

    saved = laptop.post("/accounts/theme/", {"theme": "dark"})

    assert saved.status_code == 204
    assert b'data-theme="dark"' in phone.get("/").content


def test_a_visitor_keeps_the_cookie_theme_and_cannot_save_one(client, db):
    client.cookies["theme"] = "dark"

    page = client.get("/accounts/login/")
    refused = client.post("/accounts/theme/", {"theme": "light"})

    assert b'data-theme="dark"' in page.content
    assert refused.status_code == 401


def test_an_unknown_theme_is_refused_and_nothing_changes(client, db):
    user = UserFactory()
    client.force_login(user)

    refused = client.post("/accounts/theme/", {"theme": "neon"})

    assert refused.status_code == 400
    assert refused.content == b"Unknown theme 'neon'."
    assert b'data-theme="light"' in client.get("/").content
