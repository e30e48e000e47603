"""Keep-alive: the server pings, and closes a connection that stops answering."""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect

from tests.sandbox.server.wsclient import collect, request

HANDSHAKE = (
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def _silent_client_opcodes(port: int, within_s: float) -> tuple[list[int], bool]:
    """Open a WebSocket by hand and never answer; the frame opcodes seen, and whether the
    server closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HANDSHAKE.encode())
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101")
    opcodes: list[int] = []
    closed = False
    try:
        async with asyncio.timeout(within_s):
            while True:
                head = await reader.readexactly(2)
                length = head[1] & 0x7F
                await reader.readexactly(length)
                opcodes.append(head[0] & 0x0F)
    except asyncio.IncompleteReadError:
        closed = True
    except TimeoutError:
        closed = False
    finally:
        writer.close()
    return opcodes, closed


async def test_silent_client_is_pinged_then_closed(sandbox_factory) -> None:  # noqa: ANN001
    process = sandbox_factory(ws_ping_interval=0.3, ws_ping_timeout=0.5)
    opcodes, closed = await _silent_client_opcodes(process.port, within_s=5)
    assert 0x9 in opcodes  # a Ping frame
    assert closed


async def test_answering_client_stays_connected(sandbox_factory) -> None:  # noqa: ANN001
    process = sandbox_factory(ws_ping_interval=0.3, ws_ping_timeout=0.5)
    async with connect(process.ws_url) as ws:  # answers pings by itself
        await collect(ws, 1.5)
        ack = await request(ws, {"method": "SUBSCRIBE", "params": ["trade.SOL_USDC"], "id": 1})
        assert ack == {"id": 1, "result": None}
