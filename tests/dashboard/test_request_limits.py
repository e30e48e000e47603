"""Requests that are too large: 414 for a long address, 413 for a large body, answered by a
real daphne process (never a dropped connection)."""

from __future__ import annotations

import socket

import httpx
import pytest
from django.test import override_settings

URL_TOO_LONG = (
    "The address is too long (over 8192 characters). Shorten the link or the search and try again."
)
BODY_TOO_LARGE = "The request is too large (over 2.5 MB). Send less at once."
LIMIT = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE


def raw_request(port: int, head: bytes, body_chunks: list[bytes] = ()) -> bytes:
    """Send a request byte for byte and read the whole answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(head)
        for chunk in body_chunks:
            conn.sendall(chunk)
        answer = b""
        while data := conn.recv(65536):
            answer += data
    return answer


@pytest.mark.parametrize(
    "target",
    [f"/healthz?q={'a' * 8200}", f"/healthz?q={'a' * 16_000}", f"/healthz?q={'a' * 70_000}"]
    + [f"/{'p' * 20_000}"],
    ids=["query-8k", "query-16k", "query-70k", "path-20k"],
)
def test_an_over_long_address_answers_414(dashboard_server, target):
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

    answer = raw_request(dashboard_server.port, head.encode())

    assert answer.startswith(b"HTTP/1.1 414 ")
    assert URL_TOO_LONG.encode() in answer


@pytest.mark.parametrize("length", [8200, 70_000], ids=["query-8k", "query-70k"])
def test_a_scripts_over_long_address_answers_414_in_the_exchanges_shape(dashboard_server, length):
    # a script's client (ccxt, bpx-py) reads {"code", "message"}, not a page
    head = (
        f"GET /bpx/api/v1/klines?q={'a' * length} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: close\r\n\r\n"
    )

    answer = raw_request(dashboard_server.port, head.encode())

    assert answer.startswith(b"HTTP/1.1 414 ")
    assert b"Content-Type: application/json" in answer
    assert answer.endswith(
        b'{"code": "INVALID_CLIENT_REQUEST", "message": "' + URL_TOO_LONG.encode() + b'"}'
    )


def test_a_scripts_over_large_body_answers_413_in_the_exchanges_shape(dashboard_server):
    response = httpx.post(
        f"{dashboard_server.url}/bpx/api/v1/order",
        content=b"a" * (LIMIT + 1),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 413
    assert response.json() == {"code": "INVALID_CLIENT_REQUEST", "message": BODY_TOO_LARGE}


def test_an_address_just_under_the_limit_is_served(dashboard_server):
    response = httpx.get(f"{dashboard_server.url}/healthz?q={'a' * 8000}", timeout=15)

    assert response.status_code == 200


def test_an_over_large_declared_body_answers_413_before_it_is_read(dashboard_server):
    response = httpx.post(
        f"{dashboard_server.url}/accounts/login/",
        content=b"a" * (LIMIT + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )

    assert response.status_code == 413
    assert BODY_TOO_LARGE in response.text


def test_an_over_large_body_still_arriving_gets_its_413(dashboard_server):
    head = (
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 30000000\r\n\r\n"
    )

    answer = raw_request(dashboard_server.port, head, [b"a" * 1_000_000] * 30)

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert BODY_TOO_LARGE.encode() in answer


def test_an_over_large_chunked_body_answers_413(dashboard_server):
    def chunks():
        for _ in range(3):
            yield b"a" * 1_000_000

    response = httpx.post(
        f"{dashboard_server.url}/accounts/login/",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert BODY_TOO_LARGE in response.text


def test_a_body_under_the_limit_reaches_django(dashboard_server):
    response = httpx.post(
        f"{dashboard_server.url}/accounts/login/",
        content=b"a" * (LIMIT - 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )

    assert response.status_code == 403  # Django's CSRF check read it: no cookie was sent


def test_a_body_twisted_cannot_parse_as_a_form_still_reaches_django(dashboard_server):
    # Twisted parsed form bodies into an `args` daphne never reads; a multipart body it could
    # not parse got its bare "400 Bad Request" and a dropped connection, not Django's answer.
    head = (
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: multipart/form-data; boundary=edge\r\nContent-Length: 9\r\n\r\n"
    )

    answer = raw_request(dashboard_server.port, head, [b"not parts"])

    assert answer.startswith(b"HTTP/1.1 403 ")  # Django's CSRF check: no cookie was sent
    assert b"<html" in answer.lower()


def test_an_over_long_header_answers_431(dashboard_server):
    response = httpx.get(
        f"{dashboard_server.url}/healthz", headers={"X-Long": "h" * 20_000}, timeout=15
    )

    assert response.status_code == 431


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_django_refusing_a_large_form_says_413_not_400(client, db):
    response = client.post("/accounts/login/", {"username": "a" * 2000, "password": "x"})

    assert response.status_code == 413
    assert b"The request is too large (over 0.000953674 MB)" in response.content
