"""The one way tests wait: `eventually(condition, timeout)` polls until it holds, or fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(check: Callable[[], object], within_s: float = 3.0, what: str = "") -> None:
    """Wait until ``check()`` is true (polling every 20 ms), or fail naming ``what``."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within_s} s: {what or 'condition'}")
        await asyncio.sleep(0.02)
