"""A browser that stops reading does not grow the dashboard's memory (issue 18).

A hundred sockets open the busiest market page's stream and then never read again (a tab frozen by
the browser, a laptop lid closed on a wall screen): their receive buffers are tiny, so the
dashboard's writes to them back up at once. The dashboard keeps only the newest fragment per
region for each of them instead of queueing every fragment, and the kernel holds at most its
capped send buffer per socket (left alone it grows to 4 MiB of stale fragments). Meanwhile a
reading browser on the same market must keep receiving (the dashboard was producing all
along), and the dashboard's resident memory must stay within a few MiB of where it was, where
a writer that queued every fragment grew it by 3.3 MiB in the same time (this one: 0.3 MiB).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import socket
import time
from pathlib import Path

import websockets

from sandbox.process import SandboxProcess
from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually
from trading.relay.sockets import SEND_BUFFER

SYMBOL = "SOL_USDC"
STALLED = 100
WATCH_S = 30.0
STAMP = re.compile(r"<!--E:(\d+)-->")
PAGE = 4096


def send_queues(port: int) -> list[int]:
    """Bytes the kernel holds to send on each established socket of the server's port."""
    queues = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                queues.append(int(fields[4].split(":")[0], 16))
    return queues


def resident_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def stalled_socket(port: int, cookie: str) -> socket.socket:
    """A WebSocket handshake on a socket that then never reads (its buffer is 4 KiB)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    sock.sendall(
        (
            f"GET /ws/market/{SYMBOL}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nCookie: sessionid={cookie}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)  # exactly the headers: nothing of the first frames
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


async def _watch(url: str, cookie: str, seen: list[int]) -> None:
    headers = {"Cookie": f"sessionid={cookie}", "Origin": url}
    ws_url = url.replace("http://", "ws://") + f"/ws/market/{SYMBOL}/"
    async with websockets.connect(ws_url, additional_headers=headers, max_size=2**22) as ws:
        async for frame in ws:
            stamp = STAMP.search(frame)
            if stamp:
                seen.append(int(stamp.group(1)))


def test_browsers_that_stop_reading_do_not_grow_the_dashboards_memory(tmp_path):
    # a busy market: its maker changes the book 200 times a second
    with SandboxProcess(maker=True, maker_seed=7, maker_rate=200) as sandbox:
        _watch_stalled_browsers(tmp_path, sandbox)


def _watch_stalled_browsers(tmp_path: Path, sandbox_live: SandboxProcess) -> None:
    server = DashboardServer(
        tmp_path / "state",
        api_url=sandbox_live.api_url,
        ws_url=sandbox_live.ws_url,
        env={
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
            "DASHBOARD_RELAY": "embedded",
        },
    )
    server.state_dir.mkdir()
    stalled: list[socket.socket] = []
    try:
        server.start()
        server.create_user("wall", "a long wall screen password")
        cookie = server.sign_in("wall", "a long wall screen password")["sessionid"]

        async def run() -> tuple[float, float, int, int]:
            seen: list[int] = []
            reader = asyncio.create_task(_watch(server.url, cookie, seen))
            try:
                await eventually(lambda: len(seen) >= 5, 30, "fragments on the reading socket")
                for _ in range(STALLED):
                    stalled.append(await asyncio.to_thread(stalled_socket, server.port, cookie))
                await asyncio.sleep(5)  # their buffers fill; the dashboard settles
                before = resident_mib(server.pid)
                during = len(seen)
                started = time.monotonic()
                peak = before
                while time.monotonic() - started < WATCH_S:
                    await asyncio.sleep(1)
                    peak = max(peak, resident_mib(server.pid))
                return before, peak, len(seen) - during, max(send_queues(server.port))
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

        before, peak, read_meanwhile, queued = asyncio.run(run())

        print(f"resident {before:.1f} -> peak {peak:.1f} MiB; {read_meanwhile} fragments read")
        print(f"largest kernel send queue: {queued} bytes")
        # the dashboard kept producing: the reading browser got book updates all along
        assert read_meanwhile >= WATCH_S, read_meanwhile
        assert peak - before < 1.5, f"resident memory grew from {before:.1f} to {peak:.1f} MiB"
        assert queued <= 2 * SEND_BUFFER + 16_384, f"{queued} bytes queued for one socket"
    finally:
        for sock in stalled:
            sock.close()
        server.stop()
