"""Reads by key, grouped: concurrent requests for different keys share one query.

The balances page fills itself with one request per subaccount block, all at once. Each
block needs its subaccount's sparklines and low-balance minimums; queried one block at a time,
50 blocks cost 150 queries through Django's one database thread. Here a read starts on the
next turn of the event loop with every key asked for until then, and keys asked for while a
read runs go together in the next one: no added wait, and a burst of blocks costs a couple
of queries. Groups belong to an event loop (tests and management commands run their own).

A read serves many requests, so it borrows none of their threads: its pump runs as a task
in a fresh context (not the first caller's), and its thread-sensitive database work (the ORM's
async methods, ``sync_to_async``) runs on the grouped reads' own database thread. Run in the
first caller's context, a read after that request had ended went to Django's per-request
thread, which had quit with the request: the other callers got "CurrentThreadExecutor already
quit". (An empty context alone is not enough: its database work would go to asgiref's one
sync thread, which an in-process request may be holding while it waits for this read.)

That thread's connection is its own, outside the connection pool of the scaled run
(`trading.read_threads`).
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections

from trading.read_threads import read_thread

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


# The database thread of every grouped read, whichever request asked (`read_threads`).
READ_THREAD = read_thread("grouped-read")


@dataclass
class _Group:
    future: asyncio.Future[Any]
    argument: Any
    keys: dict[Any, None] = field(default_factory=dict)


@dataclass
class _LoopState:
    waiting: _Group | None = None
    pump: asyncio.Task[None] | None = None


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Every caller may have gone away: a failure nobody awaits is not worth a warning.
    if not future.cancelled():
        future.exception()


class GroupedRead(Generic[K, V]):
    """`read(keys, argument)` for the keys of every caller of one group.

    A group's `argument` is its first caller's (callers of one group are within a few
    milliseconds of each other); `read` returns a value per key it found.
    """

    def __init__(self, read: Callable[[list[K], Any], Awaitable[dict[K, V]]]) -> None:
        self._read = read
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, keys: Iterable[K], argument: Any = None) -> dict[K, V]:
        """The values found for `keys` (read together with other callers' keys)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        group = state.waiting
        if group is None:
            group = state.waiting = _Group(loop.create_future(), argument)
            group.future.add_done_callback(_retrieve)
        group.keys.update(dict.fromkeys(wanted))
        if state.pump is None or state.pump.done():
            # A fresh context: nothing of the first caller's request (its sync thread above
            # all) goes with the pump, which outlives that request.
            state.pump = loop.create_task(self._pump(state), context=contextvars.Context())
        # A caller that goes away must not cancel the read others wait for.
        found = await asyncio.shield(group.future)
        return {key: found[key] for key in wanted if key in found}

    async def _pump(self, state: _LoopState) -> None:
        while state.waiting is not None:
            group, state.waiting = state.waiting, None
            try:
                found = await self._read_on_own_thread(list(group.keys), group.argument)
            except asyncio.CancelledError:
                group.future.cancel()
                if state.waiting is not None:
                    state.waiting.future.cancel()
                    state.waiting = None
                raise
            except Exception as exc:  # every caller of the group sees the read's error
                group.future.set_exception(exc)
            else:
                group.future.set_result(found)

    async def _read_on_own_thread(self, keys: list[K], argument: Any) -> dict[K, V]:
        async with ThreadSensitiveContext(executor=READ_THREAD):
            try:
                return await self._read(keys, argument)
            except (InterfaceError, OperationalError):
                # The thread's connection, kept between reads (no request ends here to close
                # it), broke since the last read: as at the start of a request, a broken one is
                # closed, and the read (it changes nothing) runs again.
                await sync_to_async(close_old_connections)()
                return await self._read(keys, argument)
