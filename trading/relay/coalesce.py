"""Coalescing publisher: browsers get at most `rate` updates a second per group, always the
state at the end of a window.

The relay offers a new state for (group, kind) as often as the exchange produces one. The
first offer to a quiet group opens a window of `1 / rate` seconds; only the newest offer per
kind survives until the window closes, and only then is it built and sent. So a burst that
fits in one window (levels removed and put back, a snapshot replayed) reaches browsers as the
state after its last update, never as one from its middle, and a slow consumer never grows a
queue. The channel layer's own per-channel capacity drops what a dead browser does not read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[str, dict[str, Any]], Awaitable[None]]
Message = dict[str, Any] | Callable[[], dict[str, Any] | None]


class Coalescer:
    """Hold the latest message per (group, kind); send it when the group's window closes."""

    def __init__(self, send: Send, *, rate: float = 10.0) -> None:
        self._send = send
        self.window_s = 1.0 / rate
        self._pending: dict[str, dict[str, Message]] = {}
        self._closes_at: dict[str, float] = {}  # insertion order is closing order
        self._wake = asyncio.Event()
        self.sent = 0
        self.coalesced = 0

    def offer(self, group: str, kind: str, message: Message) -> None:
        """Replace whatever was waiting for (group, kind) with `message`.

        `message` may be a zero-argument callable that builds the message: it runs only when
        the window closes, so a state offered a thousand times a second is rendered ten times,
        and what it renders is the state at the window's end."""
        kinds = self._pending.get(group)
        if kinds is None:
            kinds = self._pending[group] = {}
            self._closes_at[group] = time.monotonic() + self.window_s
            self._wake.set()
        elif kind in kinds:
            self.coalesced += 1
        kinds[kind] = message

    async def run(self) -> None:
        """Flush forever; cancel the task to stop."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._closes_at:
                # every window is as long as the others: the oldest one closes first
                delay = next(iter(self._closes_at.values())) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._flush_closed()

    async def _flush_closed(self) -> None:
        now = time.monotonic()
        for group, closes_at in list(self._closes_at.items()):
            if closes_at > now:
                break
            del self._closes_at[group]
            kinds = self._pending.pop(group)
            for message in kinds.values():
                built = message() if callable(message) else message
                if built is None:
                    continue
                await self._send(group, built)
                self.sent += 1
