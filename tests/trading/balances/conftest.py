"""Balances tests run against the sandbox exchange over real sockets.

`desk(i)` registers the sandbox's i-th subaccount (its real key pair) as a Subaccount row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from asgiref.sync import sync_to_async

from accounts.exchange_assets import forget_asset_names
from accounts.models import Subaccount
from tests.factories import SubaccountFactory
from trading.balances import fetch, snapshots
from trading.exchange import close_session


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
async def exchange(sandbox, settings) -> AsyncIterator[object]:
    """The dashboard pointed at a fresh still sandbox; caches and session reset around it."""
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    fetch.accounts_cache.clear()
    fetch.market_cache.clear()
    snapshots.sparklines_forget()
    yield sandbox
    fetch.accounts_cache.clear()
    fetch.market_cache.clear()
    await close_session()


@pytest.fixture
def desk(exchange) -> Callable[..., Awaitable[Subaccount]]:
    """`await desk(i)`: the Subaccount row of sandbox subaccount `i` (named by its label)."""

    async def make(index: int, **fields: object) -> Subaccount:
        key = exchange.keys[index]
        fields.setdefault("name", key["label"])
        keypair = (key["api_key"], key["api_secret"])
        return await sync_to_async(SubaccountFactory)(keypair=keypair, **fields)

    return make


@pytest.fixture
def exchange_urls(sandbox, settings) -> object:
    """Sync tests: the dashboard pointed at the still sandbox (asset names checked there)."""
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    forget_asset_names()
    return sandbox
