"""Two dashboard processes, one database: 20 orders sent at once for one member never jointly
pass a limit (issue 15.2). Scaled run: a PostgreSQL database shared by both daphne processes;
embedded run: both share the state folder's SQLite (transactions are IMMEDIATE there)."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests import services
from tests.fixtures.dashboard_server import DashboardServer
from trading.backpack import Credentials, ExchangeSession

PASSWORD = "a long risk password 1"
LIMIT = Decimal("1000")
ORDER = Decimal("150")  # 1 SOL at 150: at most 6 fit under the limit

SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.models import RiskLimit
user = get_user_model().objects.create_user("tess", password={password!r})
desk = Subaccount.objects.create(name="Risk desk", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=user, subaccount=desk, role="trader")
{limits}
print(desk.pk)
"""
SUBACCOUNT_LIMIT = (
    "RiskLimit.objects.create(subaccount=desk, max_position_notional_market=Decimal({limit!r}))"
)
MEMBER_LIMIT = (
    "RiskLimit.objects.create(subaccount=desk)\n"
    "RiskLimit.objects.create(subaccount=desk, member=user,"
    " max_position_notional_market=Decimal({limit!r}))"
)


def _shared_database() -> str | None:
    """A fresh PostgreSQL database for both servers in the scaled run (None: embedded)."""
    if services.mode() != "scaled":
        return None
    services.require(services.postgres_available(), "PostgreSQL is not reachable")
    import psycopg

    base = os.environ["DATABASE_URL"]
    name = f"desk_risk_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def _drop(url: str | None) -> None:
    if url is None:
        return
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def two_servers(tmp_path, sandbox):
    yield from _two_servers(tmp_path, sandbox, SUBACCOUNT_LIMIT)


@pytest.fixture
def two_servers_member_limit(tmp_path, sandbox):
    yield from _two_servers(tmp_path, sandbox, MEMBER_LIMIT)


def _two_servers(tmp_path, sandbox, limits: str):
    database = _shared_database()
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DASHBOARD_RELAY": "off",
    }
    if database:
        env["DATABASE_URL"] = database
    urls = {"api_url": sandbox.api_url, "ws_url": sandbox.ws_url}
    first = DashboardServer(tmp_path / "a", env=env, **urls)
    second = DashboardServer(tmp_path / ("b" if database else "a"), env=env, **urls)
    for server in (first, second):
        server.state_dir.mkdir(mode=0o700, exist_ok=True)
    key = sandbox.keys[0]
    try:
        first.start()
        output = first.manage(
            "shell",
            "-c",
            SETUP.format(
                password=PASSWORD,
                api_key=key["api_key"],
                api_secret=key["api_secret"],
                limits=limits.format(limit=str(LIMIT)),
            ),
        )
        subaccount_id = int(output.strip().splitlines()[-1])
        second.start(migrate=False)
        yield first, second, subaccount_id
    finally:
        second.stop()
        first.stop()
        _drop(database)


async def _signed_in(url: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=30)
    await client.get("/accounts/login/")
    await client.post(
        "/accounts/login/",
        data={
            "username": "tess",
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    await client.get("/trading/market/SOL_USDC/")  # a fresh CSRF cookie after the login
    return client


async def _send(client: httpx.AsyncClient, subaccount_id: int, n: int) -> str:
    response = await client.post(
        "/trading/market/SOL_USDC/ticket/",
        data={
            "subaccount": str(subaccount_id),
            "side": "Bid",
            "order_type": "Limit",
            "time_in_force": "GTC",
            "price": "150",
            "quantity": "1",
            "confirmed": "on",
            "token": f"concurrent-{n:02d}-" + "x" * 20,
        },
        headers={"HX-Request": "true", "X-CSRFToken": client.cookies["csrftoken"]},
    )
    return response.text


async def _storm(servers, subaccount_id: int) -> list[str]:
    clients = [await _signed_in(s.url) for s in servers]
    try:
        return await asyncio.gather(*(_send(clients[n % 2], subaccount_id, n) for n in range(20)))
    finally:
        for client in clients:
            await client.aclose()


async def _open_orders(sandbox):
    key = sandbox.keys[0]
    secret = key["api_secret"]
    async with ExchangeSession(api_url=sandbox.api_url, ws_url=sandbox.ws_url) as session:
        client = session.client(
            Credentials(api_key=key["api_key"], api_secret=lambda: secret), label="check"
        )
        return await client.open_orders("SOL_USDC")


def test_twenty_orders_at_once_on_two_processes_never_pass_the_limit_together(
    two_servers, sandbox
) -> None:
    first, second, subaccount_id = two_servers

    answers = asyncio.run(_storm([first, second], subaccount_id))

    placed = [a for a in answers if 'data-result="ok"' in a]
    refused = [a for a in answers if "Order refused: max " in a]
    orders = asyncio.run(_open_orders(sandbox))
    on_exchange = sum((o.price * o.quantity for o in orders), Decimal(0))
    assert len(placed) + len(refused) == 20, [a[:400] for a in answers]
    print(f"{len(placed)} placed, {len(refused)} refused")
    assert placed  # the sentinel: orders do pass, so the refusals are the limit's doing
    assert on_exchange == ORDER * len(placed)
    assert on_exchange <= LIMIT


def test_twenty_orders_at_once_never_pass_a_members_own_limit_together(
    two_servers_member_limit, sandbox
) -> None:
    first, second, subaccount_id = two_servers_member_limit

    answers = asyncio.run(_storm([first, second], subaccount_id))

    placed = [a for a in answers if 'data-result="ok"' in a]
    refused = [a for a in answers if "Order refused: max " in a]
    orders = asyncio.run(_open_orders(sandbox))
    on_exchange = sum((o.price * o.quantity for o in orders), Decimal(0))
    assert len(placed) + len(refused) == 20, [a[:400] for a in answers]
    assert placed
    assert on_exchange == ORDER * len(placed)
    assert on_exchange <= LIMIT
