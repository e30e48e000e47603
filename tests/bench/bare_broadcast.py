"""The floor for Python: a bare `websockets` server broadcasting the desk's own fragments.

Run by tests/bench/bench_relay.py as a process of its own: ``python -m
tests.bench.bare_broadcast <port> <samples.json>``. Browsers connect to
``/ws/market/<symbol>/`` as they do to the dashboard; for each market the server sends, at the
rate the dashboard sent that market's fragments in the same run, the fragments the dashboard
sent (captured by the benchmark's clients), each stamped with the time it is sent
(``<!--E:...-->``, as the relay stamps the engine's time), with `websockets.broadcast` (framed
once, written to every socket). No rendering, no channel layer, no Django: what is left is
what any Python server pays to put a message on a socket.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

import websockets
from websockets.asyncio.server import broadcast, serve

STAMP = re.compile(r"<!--E:\d+-->")


async def main(port: int, plan: dict) -> None:
    """`plan`: {symbol: {"rate": messages a second, "frames": [fragment, ...]}}."""
    sockets: dict[str, set] = {symbol: set() for symbol in plan}

    async def handler(connection) -> None:
        path = connection.request.path
        symbol = path.strip("/").split("/")[-1]
        if symbol not in sockets:
            await connection.close(4404)
            return
        sockets[symbol].add(connection)
        try:
            await connection.wait_closed()
        finally:
            sockets[symbol].discard(connection)

    async def feed(symbol: str) -> None:
        frames = plan[symbol]["frames"] or ["<div></div>"]
        every = 1.0 / max(plan[symbol]["rate"], 0.1)
        n = 0
        next_at = time.monotonic()
        while True:
            frame = frames[n % len(frames)]
            n += 1
            stamped = STAMP.sub(f"<!--E:{int(time.time() * 1e6)}-->", frame)
            broadcast(sockets[symbol], stamped)
            next_at += every
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async with serve(handler, "127.0.0.1", port, max_size=2**22, compression=None):
        print("ready", flush=True)
        await asyncio.gather(*(feed(symbol) for symbol in plan))


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())))
    except (KeyboardInterrupt, websockets.ConnectionClosed):
        pass
