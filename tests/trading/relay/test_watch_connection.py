"""The relay's connection watcher reports the newest message time of a connected stream, not
only its state changes, so the health page's "last message" age is true."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

from tests.waiting import eventually
from trading.relay import feeds


async def test_a_connected_stream_reports_each_newer_message_time(monkeypatch) -> None:
    reports: list[tuple[str, bool, float | None, str]] = []
    monkeypatch.setattr(feeds, "_report_stream", lambda *args: reports.append(args))
    connected = asyncio.Event()
    connected.set()
    streams = SimpleNamespace(state="connected", connected=connected)
    newest = [100.0]
    watcher = asyncio.create_task(
        feeds.watch_connection("market.SOL_USDC", streams, lambda: newest[0])
    )
    try:
        await eventually(lambda: len(reports) == 1, within_s=3, what="a report")
        newest[0] = 105.0
        await eventually(lambda: len(reports) == 2, within_s=3, what="a report")
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    assert reports == [
        ("market.SOL_USDC", True, 100.0, "connected"),
        ("market.SOL_USDC", True, 105.0, "connected"),
    ]
