"""Under daphne the relay writes each fragment straight to the socket's autobahn protocol.

`trading/relay/sockets.py` relies on the shape of daphne's ASGI send (a partial of
`handle_reply` with the socket's protocol, behind Channels' session wrapper) and on a few of
autobahn's and Twisted's attributes. When an upgrade changes that shape the writer falls back
to the ASGI send: fragments still arrive, but a browser that stops reading is no longer held
to the newest state, and every write costs a task. Only a real daphne shows which path a
process took: it says so once in its log. The same start-up also settles the heap
(`dashboard/heap.py`) so full garbage collections skip what start-up built.
"""

from __future__ import annotations

import asyncio
import base64
import secrets

import websockets

from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually


async def _first_fragment(url: str, cookie: str) -> str:
    headers = {"Cookie": f"sessionid={cookie}", "Origin": url}
    ws_url = url.replace("http://", "ws://") + "/ws/market/SOL_USDC/"
    async with websockets.connect(ws_url, additional_headers=headers, max_size=2**22) as socket:
        async with asyncio.timeout(30):
            return await socket.recv()


def test_daphne_sockets_are_written_directly_and_the_heap_is_settled(tmp_path, sandbox_live):
    server = DashboardServer(
        tmp_path / "state",
        api_url=sandbox_live.api_url,
        ws_url=sandbox_live.ws_url,
        env={
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
            "DASHBOARD_RELAY": "embedded",
            "DASHBOARD_LOG_LEVEL": "INFO",
        },
    )
    server.state_dir.mkdir()
    try:
        server.start()
        server.create_user("wall", "a long wall screen password")
        cookie = server.sign_in("wall", "a long wall screen password")["sessionid"]

        fragment = asyncio.run(_first_fragment(server.url, cookie))

        assert "SOL" in fragment or "hx-swap-oob" in fragment
        eventually(
            lambda: "socket writes:" in server.log(),
            within_s=10,
            what="the dashboard saying how it writes to sockets",
        ).blocking()
        log = server.log()
        assert "socket writes: direct to daphne's protocol" in log, log[-2000:]
        assert "through the ASGI send" not in log
        assert "heap settled:" in log
    finally:
        server.stop()
