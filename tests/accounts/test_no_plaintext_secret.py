"""An API secret, once entered, appears nowhere: database, dumps, logs, pages, exports."""

from __future__ import annotations

import base64
import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Subaccount
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import SuperuserFactory


def _forms_of(secret_b64: str) -> list[bytes]:
    seed = base64.b64decode(secret_b64)
    return [
        secret_b64.encode(),
        secret_b64.rstrip("=").encode(),
        base64.urlsafe_b64encode(seed).rstrip(b"="),
        seed.hex().encode(),
        seed.hex().upper().encode(),
        seed,
    ]


def _assert_absent(secret_b64: str, haystack: bytes, where: str) -> None:
    for form in _forms_of(secret_b64):
        assert form not in haystack, f"the secret ({form[:6]!r}...) appears in {where}"


@pytest.fixture
def entered(db, sandbox, settings, caplog):
    """A superuser adds a subaccount through the page with a real sandbox key."""
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    caplog.set_level(logging.DEBUG)
    root = SuperuserFactory()
    client = verified_client(root)
    key = sandbox.keys[1]
    response = client.post(
        "/accounts/subaccounts/add/",
        {
            "name": "Desk Leak",
            "api_public_key": key["api_key"],
            "api_secret": key["api_secret"],
            "otp_code": fresh_totp(TOTPDevice.objects.get(user=root)),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client, key["api_secret"], Subaccount.objects.get(name="Desk Leak")


def test_the_secret_is_not_in_a_database_dump(entered):
    _, secret, _ = entered
    out = io.StringIO()

    call_command(
        "dumpdata", "accounts", "auth", "sessions", "otp_totp", "otp_static", "axes", stdout=out
    )

    assert "Desk Leak" in out.getvalue()  # the dump did include the subaccount
    _assert_absent(secret, out.getvalue().encode(), "dumpdata")


def test_the_secret_is_not_in_any_raw_database_row(entered):
    _, secret, _ = entered
    raw = bytearray()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    raw += value if isinstance(value, bytes | memoryview) else str(value).encode()
                    raw += b"\x00"

    assert b"Desk Leak" in raw
    _assert_absent(secret, bytes(raw), "a database row")


def test_the_secret_is_not_in_the_logs(entered, caplog):
    _, secret, _ = entered

    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '')}" for r in caplog.records
    )

    _assert_absent(secret, logged.encode(), "the logs")


def test_the_secret_is_not_on_any_page_or_export(entered):
    client, secret, subaccount = entered
    base = f"/accounts/subaccounts/{subaccount.pk}"
    urls = [
        "/accounts/subaccounts/",
        f"{base}/",
        f"{base}/key/",
        f"{base}/settings/",
        f"{base}/members/",
        f"{base}/withdrawals/",
        "/accounts/audit/",
        "/admin/accounts/subaccount/",
        f"/admin/accounts/subaccount/{subaccount.pk}/change/",
        "/admin/accounts/auditevent/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_absent(secret, response.content, url)
    export = client.get("/accounts/audit/export.csv")
    _assert_absent(secret, b"".join(export.streaming_content), "the CSV export")


def test_a_rejected_form_does_not_echo_the_secret(db):
    root = SuperuserFactory()
    secret = base64.b64encode(b"s" * 32).decode()

    response = verified_client(root).post(
        "/accounts/subaccounts/add/",
        {
            "name": "Desk Echo",
            "api_public_key": base64.b64encode(b"p" * 32).decode(),
            "api_secret": secret,
        },
    )

    assert "does not belong to this secret" in response.content.decode()
    _assert_absent(secret, response.content, "the re-rendered form")
