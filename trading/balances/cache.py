"""A short per-process cache of exchange reads, shared by concurrent requests.

The page's subaccount blocks and its totals block are separate requests arriving together;
with this cache they share one exchange read per subaccount. An entry is the task doing the
read: callers arriving while it runs await the same task, callers within `ttl_s` after it
finished get its result. Tasks belong to an event loop, so an entry made in another loop is
ignored (tests and management commands run their own loops).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TTL_S = 2.0


@dataclass
class _Entry:
    loop: asyncio.AbstractEventLoop
    task: asyncio.Task[Any]
    expires: float = field(default=float("inf"))


class ReadCache:
    """Share reads by key for `ttl_s` seconds after they finish."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[Hashable, _Entry] = {}

    async def get(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
        """The cached result for `key`, or the result of `read()` (then cached)."""
        loop = asyncio.get_running_loop()
        entry = self._entries.get(key)
        if (
            entry is None
            or entry.loop is not loop
            or (entry.task.done() and time.monotonic() >= entry.expires)
            or (entry.task.done() and entry.task.cancelled())
        ):
            entry = _Entry(loop, loop.create_task(read()))
            self._entries[key] = entry
            entry.task.add_done_callback(lambda _t, e=entry: self._finished(e))
        # A caller that goes away must not cancel the read others wait for.
        return await asyncio.shield(entry.task)

    def _finished(self, entry: _Entry) -> None:
        entry.expires = time.monotonic() + self.ttl_s

    def forget(self, key: Hashable) -> None:
        """Drop `key` so the next `get` reads again."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()
