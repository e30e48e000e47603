"""Coalescing publisher: browsers get at most `rate` updates a second per group, always the
latest state.

The relay offers a new state for (group, kind) as often as the exchange produces one; only the
newest survives until the next flush. A slow consumer therefore never grows a queue: between
two flushes any number of offers collapse into one message per kind. The channel layer's own
per-channel capacity drops what a dead browser does not read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[str, dict[str, Any]], Awaitable[None]]
Message = dict[str, Any] | Callable[[], dict[str, Any] | None]


class Coalescer:
    """Hold the latest message per (group, kind); flush each group at most `rate` times a second."""

    def __init__(self, send: Send, *, rate: float = 10.0) -> None:
        self._send = send
        self._interval = 1.0 / rate
        self._pending: dict[str, dict[str, Message]] = {}
        self._last_flush: dict[str, float] = {}
        self._wake = asyncio.Event()
        self.sent = 0
        self.coalesced = 0

    def offer(self, group: str, kind: str, message: Message) -> None:
        """Replace whatever was waiting for (group, kind) with `message`.

        `message` may be a zero-argument callable that builds the message: it runs only at
        flush time, so a state offered a thousand times a second is rendered ten times."""
        kinds = self._pending.setdefault(group, {})
        if kind in kinds:
            self.coalesced += 1
        kinds[kind] = message
        self._wake.set()

    async def run(self) -> None:
        """Flush forever; cancel the task to stop."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            delay = await self._flush_due()
            if delay is not None:
                await asyncio.sleep(delay)
                self._wake.set()

    async def _flush_due(self) -> float | None:
        now = time.monotonic()
        next_due: float | None = None
        for group in list(self._pending):
            wait = self._last_flush.get(group, 0.0) + self._interval - now
            if wait > 0:
                next_due = wait if next_due is None else min(next_due, wait)
                continue
            kinds = self._pending.pop(group)
            self._last_flush[group] = now
            for message in kinds.values():
                built = message() if callable(message) else message
                if built is None:
                    continue
                await self._send(group, built)
                self.sent += 1
        return next_due
