"""Grouped reads: the page's blocks, arriving together, share their database reads."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from tests.waiting import eventually
from trading.balances.grouped import GroupedRead


class CountingRead:
    """A read that records each call's keys and can be held open or made to fail."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.error: Exception | None = None

    async def __call__(self, keys: list[int], argument: object) -> dict[int, str]:
        self.calls.append(sorted(keys))
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return {k: f"{argument}:{k}" for k in keys if k != 404}


async def test_blocks_asking_together_share_one_read_and_each_gets_its_own_keys():
    read = CountingRead()
    grouped = GroupedRead(read)

    answers = await asyncio.gather(*(grouped.get([k], "now") for k in range(1, 51)))

    assert read.calls == [list(range(1, 51))]
    assert answers == [{k: f"now:{k}"} for k in range(1, 51)]


async def test_keys_asked_for_during_a_read_go_together_in_the_next_one():
    read = CountingRead()
    grouped = GroupedRead(read)
    read.release.clear()
    first = asyncio.ensure_future(grouped.get([1], "a"))
    await eventually(lambda: read.calls == [[1]], what="the first read running")
    # Their first steps (joining the next group) run before the held read wakes: callbacks
    # run in the order they were scheduled.
    later = [asyncio.ensure_future(grouped.get([k], "b")) for k in (2, 3, 4)]
    read.release.set()

    assert await first == {1: "a:1"}
    assert [await f for f in later] == [{2: "b:2"}, {3: "b:3"}, {4: "b:4"}]
    assert read.calls == [[1], [2, 3, 4]]


async def test_a_key_the_read_did_not_find_is_missing_not_invented():
    grouped = GroupedRead(CountingRead())

    assert await grouped.get([7, 404], "x") == {7: "x:7"}


async def test_a_failed_read_fails_every_block_of_its_group():
    read = CountingRead()
    read.error = RuntimeError("database is down")
    grouped = GroupedRead(read)

    outcomes = await asyncio.gather(grouped.get([1]), grouped.get([2]), return_exceptions=True)

    assert [str(o) for o in outcomes] == ["database is down", "database is down"]


async def test_a_block_whose_request_goes_away_does_not_cancel_the_others_read():
    read = CountingRead()
    read.release.clear()
    grouped = GroupedRead(read)
    leaving = asyncio.ensure_future(grouped.get([1], "t"))
    staying = asyncio.ensure_future(grouped.get([2], "t"))
    await eventually(lambda: read.calls == [[1, 2]], what="one read for both blocks running")
    leaving.cancel()
    read.release.set()

    assert await staying == {2: "t:2"}
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_read_borrows_no_requests_thread_and_outlives_the_first_callers_request():
    # Django runs an async view below sync middleware as here: a worker thread calls on into
    # the event loop (async_to_sync), and the view's sync_to_async work runs on that thread,
    # which quits when the request ends.
    calls: list[list[int]] = []
    gates = [asyncio.Event(), asyncio.Event()]
    read_threads: list[int] = []

    async def read(keys: list[int], argument: object) -> dict[int, int]:
        calls.append(sorted(keys))
        await gates[len(calls) - 1].wait()
        read_threads.append(await sync_to_async(threading.get_ident)())
        return {k: k for k in keys}

    grouped = GroupedRead(read)
    request_threads: list[int] = []

    def request() -> dict[int, int]:
        request_threads.append(threading.get_ident())
        return async_to_sync(grouped.get)([1])

    first = asyncio.ensure_future(sync_to_async(request, thread_sensitive=False)())
    await eventually(lambda: calls == [[1]], what="the first request's read started")
    second = asyncio.ensure_future(grouped.get([2]))  # runs before the gate's waiter wakes
    gates[0].set()
    assert await first == {1: 1}  # the first request has ended, and its thread with it
    gates[1].set()

    assert await second == {2: 2}
    assert calls == [[1], [2]]
    assert request_threads[0] not in read_threads
