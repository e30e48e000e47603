"""A signature is accepted once: a replay within its window is refused.

Each accepted signature is remembered until its window closes (after that the window check
refuses it anyway). Embedded: in this process. Scaled (`REDIS_URL`): in Redis, one
``SET NX PX`` per request, so a replay to another dashboard process is refused too.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from typing import Any

from django.conf import settings

from trading.redis_pools import bounded_client

PREFIX = "desk:bpx:sig:"
SLACK_MS = 1000

_seen: dict[bytes, float] = {}
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


def _redis() -> Any:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = bounded_client(settings.REDIS_URL, size=8, role="bpx-replay")
    return client


async def signature_first_use(signature: bytes, *, valid_for_ms: int) -> bool:
    """True the first time `signature` is seen; False for a replay."""
    digest = hashlib.sha256(signature).digest()
    keep_ms = max(valid_for_ms, 0) + SLACK_MS
    if settings.REDIS_URL:
        return bool(await _redis().set(PREFIX + digest.hex(), 1, nx=True, px=keep_ms))
    now = time.monotonic()
    if len(_seen) > 10_000:
        for key in [k for k, until in _seen.items() if until <= now]:
            del _seen[key]
    until = _seen.get(digest)
    if until is not None and until > now:
        return False
    _seen[digest] = now + keep_ms / 1000
    return True
