"""Fixtures: an ExchangeSession pointed at the sandbox exchange (real sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from trading.backpack import BackpackClient, Credentials, ExchangeSession, RetryPolicy

FAST_RETRY = RetryPolicy(attempts=6, base_s=0.02, cap_s=0.2, total_s=5.0)


def credentials_of(sandbox, index: int = 0) -> Credentials:
    """Credentials of the sandbox's ``index``-th subaccount key."""
    key = sandbox.keys[index]
    return Credentials(api_key=key["api_key"], api_secret=key["api_secret"])


@pytest.fixture
async def session(sandbox) -> AsyncIterator[ExchangeSession]:
    """A session on the still sandbox, with short timeouts and quick retries."""
    async with ExchangeSession(
        api_url=sandbox.api_url, ws_url=sandbox.ws_url, timeout_s=2.0, retry=FAST_RETRY
    ) as session:
        yield session


@pytest.fixture
def client(session: ExchangeSession, sandbox) -> BackpackClient:
    """Signed client of the sandbox's first subaccount."""
    return session.client(credentials_of(sandbox, 0), label="Desk A")


@pytest.fixture
def public(session: ExchangeSession) -> BackpackClient:
    """Client without credentials (public routes only)."""
    return session.client()
