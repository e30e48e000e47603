"""The owner of a local order book: drives a depth stream plus REST snapshots.

``BookKeeper`` subscribes ``depth.<symbol>`` on a ``StreamClient``, buffers deltas while it
fetches a snapshot (``GET /api/v1/depth``), replays the buffered deltas on top, and starts
over whenever the book reports a gap (``BookGap``) - including the gap a reconnect leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .book import BookGap, OrderBook
from .errors import BackpackError

if TYPE_CHECKING:
    from .client import BackpackClient
    from .streams import StreamClient

logger = logging.getLogger("trading.backpack.book")


class BookKeeper:
    """Keeps ``self.book`` equal to the exchange's book for ``symbol``."""

    def __init__(
        self,
        client: BackpackClient,
        streams: StreamClient,
        symbol: str,
        *,
        on_update: Callable[[OrderBook], None] | None = None,
        resync_backoff_s: float = 0.2,
        stream_name: str | None = None,
    ) -> None:
        self.client = client
        self.streams = streams
        self.symbol = symbol
        self.stream_name = stream_name or f"depth.{symbol}"
        self.on_update = on_update
        self.resync_backoff_s = resync_backoff_s
        self.book = OrderBook(symbol)
        self.resyncs = 0
        self.gaps = 0
        self.synced = asyncio.Event()
        self._buffer: list[dict[str, Any]] | None = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe the depth stream and take the first snapshot."""
        await self.streams.subscribe(self.stream_name, self._on_delta)
        self._resync_soon()

    async def wait_synced(self, within_s: float = 5.0) -> OrderBook:
        """Wait until the book is consistent with the exchange, then return it."""
        async with asyncio.timeout(within_s):
            await self.synced.wait()
        return self.book

    async def aclose(self) -> None:
        """Stop the keeper (the stream client is the caller's to close)."""
        await self.streams.unsubscribe(self.stream_name, self._on_delta)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_delta(self, data: dict[str, Any]) -> None:
        """Handle ``{"e":"depth","s":"SOL_USDC","a":[["18.70","0.000"]],"b":[["18.67","0.832"]],
        "U":94978271,"u":94978271,"T":1694687965940999}``."""
        if self._buffer is not None:
            self._buffer.append(data)
            return
        try:
            changed = self.book.apply_message(data)
        except BookGap as gap:
            logger.info("%s", gap)
            self.gaps += 1
            self._buffer = [data]
            self._resync_soon()
            return
        except (KeyError, TypeError, ValueError, ArithmeticError):
            logger.warning("unreadable depth frame on %s: %r", self.symbol, data)
            return
        if changed and self.on_update is not None:
            self.on_update(self.book)

    def _resync_soon(self) -> None:
        self.synced.clear()
        if self._buffer is None:
            self._buffer = []
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._resync(), name=f"book {self.symbol}")

    async def _resync(self) -> None:
        delay = self.resync_backoff_s
        while True:
            try:
                snapshot = await self.client.depth(self.symbol)
            except BackpackError as error:
                logger.info("depth snapshot for %s failed: %s", self.symbol, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.resyncs += 1
            self.book.load_snapshot(snapshot.bids, snapshot.asks, snapshot.last_update_id)
            buffered, self._buffer = self._buffer or [], None
            try:
                for data in buffered:
                    try:
                        self.book.apply_message(data)
                    except (KeyError, TypeError, ValueError, ArithmeticError):
                        logger.warning("unreadable depth frame on %s: %r", self.symbol, data)
            except BookGap:
                # The snapshot is older than the buffered deltas: take another one.
                self._buffer = buffered
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.synced.set()
            if self.on_update is not None:
                self.on_update(self.book)
            return
