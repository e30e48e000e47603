"""Reads by key, grouped: concurrent requests for different keys share one query.

The balances page fills itself with one request per subaccount block, all at once. Each
block needs its subaccount's sparklines and low-balance minimums; queried one block at a time,
50 blocks cost 150 queries through Django's one database thread. Here a read starts on the
next turn of the event loop with every key asked for until then, and keys asked for while a
read runs go together in the next one: no added wait, and a burst of blocks costs a couple
of queries. Groups belong to an event loop (tests and management commands run their own).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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
            state.pump = loop.create_task(self._pump(state))
        # A caller that goes away must not cancel the read others wait for.
        try:
            found = await asyncio.shield(group.future)
        except RuntimeError as exc:
            if "CurrentThreadExecutor" not in str(exc):
                raise
            # The read ran in the first caller's context, whose request (and with it Django's
            # thread for its database work) had ended: read this caller's keys itself.
            found = await self._read(wanted, argument)
        return {key: found[key] for key in wanted if key in found}

    async def _pump(self, state: _LoopState) -> None:
        while state.waiting is not None:
            group, state.waiting = state.waiting, None
            try:
                found = await self._read(list(group.keys), group.argument)
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
