"""The selectors' read cache (`trading.selectors.cache`): a read in flight is shared by every
caller arriving while it runs (one exchange request per key at a time), a caller that goes
away does not cancel it for the others, and a read that failed is not kept."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from tests.waiting import eventually
from trading.selectors.cache import cache_clear, cache_forget, cached


@pytest.fixture(autouse=True)
def _empty() -> None:
    cache_clear()


class Reads:
    """A load that counts its calls and waits until released."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.release = asyncio.Event()

    async def load(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise ValueError(f"read {self.calls} failed")
        return f"read {self.calls}"


async def test_callers_arriving_while_a_read_runs_share_it() -> None:
    reads = Reads()
    callers = [asyncio.create_task(cached(("k",), 2.0, reads.load)) for _ in range(5)]
    await asyncio.sleep(0.01)

    reads.release.set()
    found = await asyncio.gather(*callers)

    assert (reads.calls, found) == (1, ["read 1"] * 5)
    assert await cached(("k",), 2.0, reads.load) == "read 1"  # then kept for the ttl
    assert reads.calls == 1


async def test_a_caller_that_goes_away_leaves_the_read_to_the_others() -> None:
    reads = Reads()
    first = asyncio.create_task(cached(("k",), 2.0, reads.load))
    second = asyncio.create_task(cached(("k",), 2.0, reads.load))
    await asyncio.sleep(0.01)

    first.cancel()
    reads.release.set()

    assert await second == "read 1"
    assert first.cancelled() and reads.calls == 1


async def test_a_failed_read_reaches_every_waiter_and_is_not_kept() -> None:
    reads = Reads(fail=True)
    callers = [asyncio.create_task(cached(("k",), 2.0, reads.load)) for _ in range(3)]
    await asyncio.sleep(0.01)

    reads.release.set()
    found = await asyncio.gather(*callers, return_exceptions=True)

    assert [str(e) for e in found] == ["read 1 failed"] * 3
    reads.fail = False
    assert await cached(("k",), 2.0, reads.load) == "read 2"  # read again, not the failure


async def test_other_keys_and_expired_reads_read_again() -> None:
    reads = Reads()
    reads.release.set()

    assert await cached(("a",), 2.0, reads.load) == "read 1"
    assert await cached(("b",), 2.0, reads.load) == "read 2"
    assert await cached(("a",), 2.0, reads.load) == "read 1"
    assert await cached(("c",), 0.0, reads.load) == "read 3"  # ttl 0: kept for nobody
    assert await cached(("c",), 0.0, reads.load) == "read 4"


async def test_a_shared_read_outlives_the_request_that_started_it() -> None:
    # Django runs an async view below sync middleware as here: a worker thread calls on into
    # the event loop (async_to_sync), and the view's sync_to_async work runs on that thread,
    # which quits when the request ends. The first request leaves before its read is done.
    calls: list[str] = []
    gate = asyncio.Event()
    read_threads: list[int] = []

    async def load() -> str:
        calls.append("read")
        await gate.wait()
        read_threads.append(await sync_to_async(threading.get_ident)())
        return "read 1"

    request_threads: list[int] = []

    def request() -> str:
        request_threads.append(threading.get_ident())

        async def leave_early() -> str:
            try:
                return await asyncio.wait_for(cached(("k",), 2.0, load), 0.05)
            except TimeoutError:
                return "left"

        return async_to_sync(leave_early)()

    first = asyncio.ensure_future(sync_to_async(request, thread_sensitive=False)())
    await eventually(lambda: calls == ["read"], what="the first request's read started")
    second = asyncio.ensure_future(cached(("k",), 2.0, load))
    assert await first == "left"  # the first request has ended, and its thread with it
    gate.set()

    assert await second == "read 1"
    assert calls == ["read"]  # one exchange read, not a second one by the caller left waiting
    assert request_threads[0] not in read_threads


async def test_a_read_forgotten_while_it_runs_answers_but_is_not_kept() -> None:
    reads = Reads()
    caller = asyncio.create_task(cached(("k",), 2.0, reads.load))
    await eventually(lambda: reads.calls == 1, what="the read started")

    cache_forget(("k",))  # something changed what the read may already have seen
    reads.release.set()

    assert await caller == "read 1"
    assert await cached(("k",), 2.0, reads.load) == "read 2"  # read afresh, not the old one
