"""The dashboard's door to the exchange: one ExchangeSession per event loop and process.

The session (connection pool, clock offset, market cache, rate budgets, metrics) belongs to the
event loop it was created in; daphne runs one loop, management commands and tests may run
others, so sessions are kept per loop and closed with it.
"""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings

from accounts.crypto import subaccount_credentials
from accounts.models import Subaccount
from trading.backpack import ExchangeSession

_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ExchangeSession] = (
    weakref.WeakKeyDictionary()
)
_session_hooks: list = []


def on_new_session(hook) -> None:
    """Run `hook(session)` for every session created from now on (metrics sinks use it)."""
    _session_hooks.append(hook)


def exchange_session() -> ExchangeSession:
    """The session of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None:
        session = ExchangeSession(
            api_url=settings.BACKPACK_API_URL,
            ws_url=settings.BACKPACK_WS_URL,
            redis_url=settings.REDIS_URL,
            redis_pool_size=settings.REDIS_POOL_SIZE,
        )
        _sessions[loop] = session
        for hook in _session_hooks:
            hook(session)
    return session


def client_for(subaccount: Subaccount):
    """A signed client for `subaccount`; its secret is decrypted only when a request is signed."""
    return exchange_session().client(subaccount_credentials(subaccount), label=str(subaccount.pk))


async def close_session() -> None:
    """Close the running loop's session (tests and commands call this before the loop ends)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.aclose()
