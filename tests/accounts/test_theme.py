from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, RequestFactory

from accounts.context_processors import theme
from accounts.services import user_theme_set
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


@pytest.mark.django_db(transaction=True)
async def test_a_page_rendered_inside_the_event_loop_takes_the_cookie_not_the_database():
    user = await sync_to_async(UserFactory)()
    await sync_to_async(user_theme_set)(user=user, theme="light")
    request = RequestFactory().get("/trading/balances/totals/", HTTP_COOKIE="theme=dark")
    request.user = user

    context = theme(request)  # an async view rendering with context processors

    assert context == {"theme": "dark"}
