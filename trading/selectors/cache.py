"""A short in-process cache for exchange reads, keyed per exchange URL.

It keeps the order ticket's as-you-type checks, the candle chart and the team pages' polls
from spending the exchange's rate budget (klines draw on the 30/minute historical budget).
A read in flight is shared: callers arriving while it runs await the same read (one request
per key at a time, however many polls arrive together); a read that failed is not kept.

A shared read serves many requests, so it borrows none of their threads (as the grouped reads,
`trading.balances.grouped`): it runs as a task in a fresh context, and any thread-sensitive
work it does (``sync_to_async``) runs on the cached reads' own thread. Run in the first
caller's context, its database work went to that request's thread, which quits when the
request ends: the other callers got "CurrentThreadExecutor already quit".
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

from trading.read_threads import read_thread

T = TypeVar("T")

_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
_reading: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
# The thread of every shared read's thread-sensitive work, whichever request asked, with a
# database connection of its own (`trading.read_threads`).
READ_THREAD = read_thread("cached-read")


async def _read(full_key: tuple[Any, ...], ttl: float, load: Callable[[], Awaitable[T]]) -> T:
    started = time.monotonic()
    try:
        async with ThreadSensitiveContext(executor=READ_THREAD):
            value = await load()
    finally:
        found = _reading.get(full_key)
        mine = found is not None and found[1] is asyncio.current_task()
        if mine:
            del _reading[full_key]
    if mine:  # a read forgotten meanwhile (`cache_forget`) answers its callers, but is not kept
        _cache[full_key] = (started + ttl, value)
    return value


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # every waiter may have gone: not "never retrieved"


async def cached(key: tuple[Any, ...], ttl: float, load: Callable[[], Awaitable[T]]) -> T:
    """`load()` at most once per `ttl` seconds per key (and per exchange URL), and never
    twice at once: a caller arriving while it runs awaits the same read."""
    full_key = (settings.BACKPACK_API_URL, *key)
    hit = _cache.get(full_key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    loop = asyncio.get_running_loop()
    reading = _reading.get(full_key)
    if reading is None or reading[0] is not loop or reading[1].done():
        # A fresh context: nothing of the first caller's request (its sync thread above all)
        # goes with the read, which may outlive that request.
        task = loop.create_task(_read(full_key, ttl, load), context=contextvars.Context())
        task.add_done_callback(_retrieved)
        reading = _reading[full_key] = (loop, task)
    # a caller that goes away must not cancel the read others wait for
    return await asyncio.shield(reading[1])


def cache_keep(key: tuple[Any, ...], ttl: float, value: Any) -> None:
    """Keep `value` for `key` for `ttl` seconds, as if read (a final state that never
    changes, learnt from another read)."""
    _cache[(settings.BACKPACK_API_URL, *key)] = (time.monotonic() + ttl, value)


def cache_peek(key: tuple[Any, ...]) -> Any:
    """The value kept for `key` and still fresh, else None (nothing is read)."""
    hit = _cache.get((settings.BACKPACK_API_URL, *key))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def cache_forget(key: tuple[Any, ...]) -> None:
    """Forget the read kept for `key` (after a change this process made, so that its next
    read shows it); a read in flight still answers those already waiting for it."""
    full_key = (settings.BACKPACK_API_URL, *key)
    _cache.pop(full_key, None)
    _reading.pop(full_key, None)


def cache_clear() -> None:
    """Forget every cached read (tests; after an order the ticket's prices refresh anyway)."""
    _cache.clear()
    _reading.clear()
