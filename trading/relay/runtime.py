"""Where the relay runs: inside the dashboard process (embedded) or in `manage.py relay`
workers (scaled). `ensure_embedded_relay()` starts the relay once per process and event loop
when DASHBOARD_RELAY is `embedded`, and does nothing otherwise. `StartEmbeddedRelay` wraps the
ASGI application and calls it on the server's first request (a health check, a page, a
socket): daphne has no start-up hook, and the relay's account streams, alerts and balance
snapshots must run whether or not anyone has the dashboard open.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import weakref
from typing import Any

from django.conf import settings

from trading.relay.connections import redis_client
from trading.relay.interest import Interest, LocalInterest, RedisInterest
from trading.relay.ownership import RedisOwnership
from trading.relay.worker import Relay

log = logging.getLogger(__name__)
_embedded: dict[asyncio.AbstractEventLoop, Relay] = {}
_local_interest = LocalInterest()


def interest() -> Interest:
    """The interest store this process shares with its relay(s)."""
    redis = redis_client()
    return RedisInterest(redis) if redis is not None else _local_interest


async def ensure_embedded_relay() -> Relay | None:
    """Start this process's relay on first use (embedded mode only); return it."""
    if settings.DASHBOARD_RELAY != "embedded":
        return None
    loop = asyncio.get_running_loop()
    relay = _embedded.get(loop)
    if relay is None:
        redis = redis_client()
        worker_id = f"embedded:{socket.gethostname()}:{os.getpid()}"
        # Several dashboard processes with embedded relays share the work through Redis
        # leases, so no two publish the same stream; alone, the relay owns everything.
        ownership = RedisOwnership(redis, worker_id=worker_id) if redis is not None else None
        relay = Relay(interest=interest(), ownership=ownership, worker_id=worker_id)
        _embedded[loop] = relay
        relay.start()
        log.info("embedded relay started")
    return relay


class StartEmbeddedRelay:
    """ASGI middleware: the first HTTP or WebSocket request starts the embedded relay."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._started: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:  # noqa: D102
        if scope["type"] in ("http", "websocket"):
            loop = asyncio.get_running_loop()
            if loop not in self._started:
                self._started.add(loop)
                try:
                    await ensure_embedded_relay()
                except Exception:  # noqa: BLE001 - the request is served regardless
                    log.exception("could not start the embedded relay")
        return await self.app(scope, receive, send)


async def stop_embedded_relay() -> None:
    """Stop the running loop's embedded relay (tests call this)."""
    relay = _embedded.pop(asyncio.get_running_loop(), None)
    if relay is not None:
        await relay.stop()
