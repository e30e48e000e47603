"""Relay fan-out: exchange depth updates -> relay -> channel layer -> 200 browser sockets.

Run: ``.venv/bin/python -m tests.bench.bench_relay``. Starts a sandbox exchange whose market
maker produces about 1,000 depth updates a second over 5 markets, a dashboard (daphne, embedded
relay, SQLite, in-memory channel layer) and, in this process, 200 WebSocket clients signed in
as one user, 40 on each market page's stream. Each book fragment carries the engine timestamp
of the newest depth update it shows (``<!--E:...-->``); a client's latency is its receive time
minus that stamp (one machine, one clock). Prints p50/p99 latency, messages per second, how far
the slowest clients lag, and CPU per process. Asserts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websockets

from sandbox.process import SandboxProcess
from tests.fixtures.dashboard_server import DashboardServer

ROOT = Path(__file__).resolve().parent.parent.parent
MARKETS = ["SOL_USDC", "BTC_USDC", "ETH_USDC", "SOL_USDC_PERP", "BTC_USDC_PERP"]
UPDATES_PER_MARKET = 200  # x 5 markets = 1,000 depth updates a second
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "200"))
WARMUP_S = 6.0
WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "20"))
STAMP = re.compile(r"<!--E:(\d+)-->")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def five_market_seed(folder: Path) -> Path:
    seed = json.loads((ROOT / "sandbox" / "default_seed.json").read_text())
    seed["markets"] = [m for m in seed["markets"] if m["symbol"] in MARKETS]
    path = folder / "seed.json"
    path.write_text(json.dumps(seed))
    return path


def sign_in(url: str, username: str, password: str) -> str:
    with httpx.Client(base_url=url) as http:
        page = http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        http.post(
            "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{url}/accounts/login/"},
        )
        return http.cookies["sessionid"]


class Client:
    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.received = 0
        self.bytes = 0
        self.last_at = 0.0


async def run_client(url: str, cookie: str, symbol: str, client: Client, measuring) -> None:
    headers = {"Cookie": f"sessionid={cookie}", "Origin": url}
    ws_url = url.replace("http://", "ws://") + f"/ws/market/{symbol}/"
    async with websockets.connect(ws_url, additional_headers=headers, max_size=2**22) as socket:
        async for frame in socket:
            now = time.time()
            if not measuring():
                continue
            client.received += 1
            client.bytes += len(frame)
            client.last_at = now
            stamp = STAMP.search(frame)
            if stamp and int(stamp.group(1)):
                client.latencies_ms.append((now - int(stamp.group(1)) / 1e6) * 1000)


async def load(url: str, cookie: str, pids: dict[str, int]) -> None:
    clients = [Client() for _ in range(CLIENTS)]
    state = {"measuring": False}
    tasks = [
        asyncio.create_task(
            run_client(url, cookie, MARKETS[i % len(MARKETS)], c, lambda: state["measuring"])
        )
        for i, c in enumerate(clients)
    ]
    await asyncio.sleep(WARMUP_S)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    own_before = time.process_time()
    started = time.monotonic()
    state["measuring"] = True
    await asyncio.sleep(WINDOW_S)
    state["measuring"] = False
    wall = time.monotonic() - started
    ended = time.time()
    cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / wall for name, pid in pids.items()}
    cpu["load generator (200 clients)"] = (time.process_time() - own_before) / wall
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies = sorted(x for c in clients for x in c.latencies_ms)
    per_client = sorted(c.received / wall for c in clients)
    connected = sum(1 for c in clients if c.received)
    total = sum(c.received for c in clients)
    lag = sorted(ended - c.last_at for c in clients if c.last_at)
    print(f"clients connected and receiving: {connected}/{CLIENTS}")
    print(
        f"fragments received: {total} in {wall:.1f} s = {total / wall:,.0f} messages/s "
        f"({sum(c.bytes for c in clients) / wall / 1e6:.1f} MB/s)"
    )
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"engine -> browser latency of book fragments: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"max {latencies[-1]:.1f} ms (target p99 <= 150 ms: {p99 / 150:.2f}x of target)"
        )
    print(
        f"messages/s per client: min {per_client[0]:.1f}, median "
        f"{statistics.median(per_client):.1f}, max {per_client[-1]:.1f} "
        "(book with statistics at most 10/s, trades at most 10/s)"
    )
    if lag:
        print(
            "age of each client's newest message at the end: "
            f"median {statistics.median(lag) * 1000:.0f} ms, worst {lag[-1] * 1000:.0f} ms "
            "(a client that fell behind would show seconds)"
        )
    print("CPU per process (cores busy over the window):")
    for name, share in cpu.items():
        print(f"  {name:32} {share:5.2f}")
    print(f"dashboard process under one core: {'yes' if cpu['dashboard (daphne)'] < 1 else 'NO'}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        seed = five_market_seed(folder)
        with SandboxProcess(seed=seed, maker=True, maker_rate=UPDATES_PER_MARKET) as sandbox:
            state = folder / "state"
            state.mkdir()
            server = DashboardServer(
                state,
                api_url=sandbox.api_url,
                ws_url=sandbox.ws_url,
                env={
                    "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
                    "DATABASE_URL": "",
                    "REDIS_URL": "",
                    "DASHBOARD_RELAY": "embedded",
                    "DASHBOARD_MONITORING_FLUSH_S": os.environ.get("BENCH_FLUSH_S", "5"),
                },
            )
            try:
                server.start()
                server.create_user("bench", "a long bench password 1")
                cookie = sign_in(server.url, "bench", "a long bench password 1")
                print(
                    f"sandbox: {len(MARKETS)} markets x {UPDATES_PER_MARKET} depth updates/s; "
                    f"{CLIENTS} clients; warm-up {WARMUP_S:.0f} s, window {WINDOW_S:.0f} s"
                )
                pids = {
                    "dashboard (daphne)": server._process.pid,
                    "sandbox exchange": sandbox.process.pid,
                }
                asyncio.run(load(server.url, cookie, pids))
            finally:
                server.stop()


if __name__ == "__main__":
    main()
