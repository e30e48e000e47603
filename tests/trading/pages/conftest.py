"""Fixtures of the trading page tests: the dashboard wired to a still sandbox exchange, a team
of users with sandbox keys, and signed-in async clients. Nothing here mocks the exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from accounts.models import Role, Subaccount
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory
from trading import exchange, selectors
from trading.backpack import Credentials, ExchangeSession


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def exchange_urls(sandbox, settings):
    """Point the dashboard at the (reset) still sandbox."""
    settings.BACKPACK_API_URL = sandbox.api_url
    settings.BACKPACK_WS_URL = sandbox.ws_url
    selectors.cache_clear()
    return sandbox


@pytest.fixture
async def closes_session() -> AsyncIterator[None]:
    """Close this loop's exchange session after the test (pooled connections), and the
    database connection the ORM opened in asgiref's worker thread (PostgreSQL would keep the
    test database busy otherwise)."""
    yield
    await exchange.close_session()
    await sync_to_async(connections.close_all)()


@dataclass
class Desk:
    """A small team: `main` and `other` subaccounts on sandbox keys 0 and 1."""

    sandbox: Any
    main: Subaccount
    other: Subaccount
    trader: Any
    viewer: Any
    outsider: Any

    def keys(self, index: int) -> dict[str, str]:
        return self.sandbox.keys[index]

    def session(self) -> ExchangeSession:
        return ExchangeSession(api_url=self.sandbox.api_url, ws_url=self.sandbox.ws_url)

    def raw_client(self, session: ExchangeSession, index: int):
        """A client straight on sandbox key `index`, for checking what the exchange holds."""
        key = self.keys(index)
        secret = key["api_secret"]
        return session.client(
            Credentials(api_key=key["api_key"], api_secret=lambda: secret), label=f"check{index}"
        )


@pytest.fixture
def desk(exchange_urls, transactional_db) -> Desk:
    keys = exchange_urls.keys
    main = SubaccountFactory(
        name="Main desk",
        keypair=(keys[0]["api_key"], keys[0]["api_secret"]),
        order_confirm_notional=Decimal("5000"),
    )
    other = SubaccountFactory(
        name="Other desk", keypair=(keys[1]["api_key"], keys[1]["api_secret"])
    )
    trader = UserFactory(username="trader")
    viewer = UserFactory(username="viewer")
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=trader, subaccount=main, role=Role.TRADER)
    MembershipFactory(user=trader, subaccount=other, role=Role.VIEWER)
    MembershipFactory(user=viewer, subaccount=main, role=Role.VIEWER)
    MembershipFactory(user=outsider, subaccount=other, role=Role.ADMIN)
    return Desk(exchange_urls, main, other, trader, viewer, outsider)


async def client_for_user(user) -> AsyncClient:
    """An async test client signed in as `user`."""
    client = AsyncClient()
    await client.aforce_login(user)
    return client


HX = {"headers": {"HX-Request": "true"}}
