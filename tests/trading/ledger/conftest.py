"""Ledger tests run against the sandbox exchange over real sockets.

`desk(i)` registers the sandbox's i-th subaccount (its real key pair) as a Subaccount row;
`clients(i)` is a signed client of it on a session with quick retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Subaccount
from tests.factories import SubaccountFactory
from tests.trading.backpack.conftest import FAST_RETRY, credentials_of
from trading.backpack import BackpackClient, ExchangeSession
from trading.exchange import close_session


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
async def exchange(sandbox, settings) -> AsyncIterator[object]:
    """The dashboard pointed at a fresh still sandbox; its session closed after."""
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    yield sandbox
    await close_session()


@pytest.fixture
def desk(exchange) -> Callable[..., Awaitable[Subaccount]]:
    """`await desk(i)`: the Subaccount row of sandbox subaccount `i`."""

    async def make(index: int, **fields: object) -> Subaccount:
        key = exchange.keys[index]
        fields.setdefault("name", key["label"])
        keypair = (key["api_key"], key["api_secret"])
        return await sync_to_async(SubaccountFactory)(keypair=keypair, **fields)

    return make


@pytest.fixture
async def clients(exchange) -> AsyncIterator[Callable[[int], BackpackClient]]:
    """`clients(i)`: a signed client of sandbox subaccount `i` (quick retries)."""
    async with ExchangeSession(
        api_url=exchange.api_url, ws_url=exchange.ws_url, timeout_s=2.0, retry=FAST_RETRY
    ) as session:
        yield lambda index: session.client(credentials_of(exchange, index), label=f"sub {index}")
