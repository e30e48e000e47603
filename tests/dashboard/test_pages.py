from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import override_settings

from dashboard.asgi import application


@pytest.fixture
def member(db):
    return get_user_model().objects.create_user("dana", password="correct horse battery")


def test_home_page_requires_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signed_in_member_sees_the_overview(client, member):
    client.force_login(member)

    response = client.get("/")

    assert response.status_code == 200
    assert b"Signed in as <strong>dana</strong>" in response.content


def test_wrong_password_is_refused_with_a_message(client, member):
    response = client.post("/accounts/login/", {"username": "dana", "password": "wrong"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_health_check_reports_the_database(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["channel_layer"] == "ok"


@override_settings(DEBUG=False)
def test_static_files_are_served_with_debug_off(client):
    response = client.get("/static/vendor/htmx-2.0.11.min.js")

    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)


@override_settings(DEBUG=False)
async def test_static_files_are_served_through_the_asgi_handler(async_client):
    response = await async_client.get("/static/vendor/htmx-2.0.11.min.js")

    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)
    assert response["Content-Type"].startswith("text/javascript")


def test_admin_is_there_for_staff(client, db):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
async def test_presence_socket_refuses_anonymous_visitors():
    communicator = WebsocketCommunicator(
        application, "/ws/presence/", headers=[(b"origin", b"http://localhost")]
    )

    connected, code = await communicator.connect()

    assert not connected
    assert code == 4401
    await communicator.disconnect()


def test_the_site_has_a_favicon(client, member):
    client.force_login(member)

    page = client.get("/").content.decode()
    icon = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert icon.status_code == 301 and icon["Location"] == "/static/favicon.svg"
