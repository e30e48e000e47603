"""A pausable TCP proxy (real sockets) to make a connection go silent without closing."""

from __future__ import annotations

import asyncio
import contextlib


class PausableProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``pause()`` stops forwarding both ways on the
    connections open now (they stay open but silent), new connections work normally."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._frozen: list[asyncio.Event] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> PausableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def pause(self) -> None:
        """Silence every connection open now."""
        for running in self._frozen:
            running.clear()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        running = asyncio.Event()
        running.set()
        self._frozen.append(running)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst, running))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(
        src: asyncio.StreamReader, dst: asyncio.StreamWriter, running: asyncio.Event
    ) -> None:
        try:
            while True:
                data = await src.read(65536)
                if not data:
                    break
                await running.wait()
                dst.write(data)
                await dst.drain()
        finally:
            dst.close()
