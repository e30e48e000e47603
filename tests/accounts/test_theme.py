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


def test_pages_rendered_by_async_views_take_the_theme_from_the_cookie(client, db, settings):
    settings.BACKPACK_API_URL = "http://127.0.0.1:9"  # no exchange: the page says so, no crash
    user = UserFactory()
    client.force_login(user)
    client.post("/accounts/theme/", {"theme": "dark"})
    client.get("/")  # any page read from the database; the page script syncs the cookie
    client.cookies["theme"] = "dark"

    page = client.get("/trading/markets/")

    assert page.status_code == 200
    assert b'data-theme="dark"' in page.content
