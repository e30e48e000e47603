"""The one way tests wait: `eventually(condition, timeout)` polls until it holds, or fails.

    await eventually(lambda: feed.orders, what="the order arrived")    # in async tests
    eventually(page_shows_it, within_s=15, every_s=0.5).blocking()     # in sync tests

The condition may be a plain function or, awaited, a coroutine function (a page to reload, a
row to read). The true value it gave is returned, so a caller can keep what it waited for.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Generator
from typing import Any


class Waiting:
    """One wait for a condition; ``await`` it, or call ``blocking()`` outside an event loop."""

    def __init__(self, check: Callable[[], Any], within_s: float, what: str, every_s: float):
        self.check, self.within_s, self.what, self.every_s = check, within_s, what, every_s

    def _failed(self) -> AssertionError:
        return AssertionError(f"not within {self.within_s} s: {self.what or 'condition'}")

    async def _poll(self) -> Any:
        deadline = time.monotonic() + self.within_s
        while True:
            value = self.check()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if time.monotonic() >= deadline:
                raise self._failed()
            await asyncio.sleep(self.every_s)

    def __await__(self) -> Generator[Any, None, Any]:
        return self._poll().__await__()

    def blocking(self) -> Any:
        """Wait in this thread (sync tests, Playwright's sync API, server start-up)."""
        deadline = time.monotonic() + self.within_s
        while True:
            value = self.check()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise self._failed()
            time.sleep(self.every_s)


def eventually(
    check: Callable[[], Any], within_s: float = 3.0, what: str = "", every_s: float = 0.02
) -> Waiting:
    """Wait until ``check()`` is true (polling every ``every_s``), or fail naming ``what``.

    Await the result in async code; call its ``blocking()`` in sync code. Either returns the
    true value ``check()`` gave.
    """
    return Waiting(check, within_s, what, every_s)
