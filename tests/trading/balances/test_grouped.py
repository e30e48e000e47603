"""Grouped reads: the page's blocks, arriving together, share their database reads."""

from __future__ import annotations

import asyncio

import pytest

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
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(grouped.get([k], "b")) for k in (2, 3, 4)]
    await asyncio.sleep(0)
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
    await asyncio.sleep(0)
    leaving.cancel()
    read.release.set()

    assert await staying == {2: "t:2"}
    with pytest.raises(asyncio.CancelledError):
        await leaving
