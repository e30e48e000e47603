"""The one way tests wait: `eventually(condition, timeout)` polls until it holds, or fails.

The condition may be a plain function or a coroutine function (a page to reload, a row to
read); its last value is returned, so a caller can keep what it waited for.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def eventually(
    check: Callable[[], Any], within_s: float = 3.0, what: str = "", every_s: float = 0.02
) -> Any:
    """Wait until ``check()`` is true (polling every ``every_s``), or fail naming ``what``.

    Returns the true value ``check()`` gave.
    """
    deadline = time.monotonic() + within_s
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within_s} s: {what or 'condition'}")
        await asyncio.sleep(every_s)
