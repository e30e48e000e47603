"""Relay fan-out: exchange depth updates -> relay -> channel layer -> 200 browser sockets.

Run: ``.venv/bin/python -m tests.bench.bench_relay``. Starts a sandbox exchange whose market
maker produces about 1,000 depth updates a second over 5 markets, a dashboard (daphne, embedded
relay) and, in this process, 200 WebSocket clients signed in as one user, 40 on each market
page's stream. It runs once embedded (SQLite, in-memory channel layer) and once scaled
(PostgreSQL, Redis) when both answer on 127.0.0.1, and prints the two side by side. Each book
fragment carries the engine timestamp of the newest depth update it shows (``<!--E:...-->``);
a client's latency is its receive time minus that stamp (one machine, one clock). Prints
p50/p99 latency, messages per second, how far the slowest clients lag, and CPU per process.
Asserts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import socket
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import redis
import websockets

from sandbox.process import SandboxProcess
from tests.fixtures.dashboard_server import DashboardServer

ROOT = Path(__file__).resolve().parent.parent.parent
MARKETS = ["SOL_USDC", "BTC_USDC", "ETH_USDC", "SOL_USDC_PERP", "BTC_USDC_PERP"]
UPDATES_PER_MARKET = 200  # x 5 markets = 1,000 depth updates a second
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "200"))
WARMUP_S = 6.0
WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "20"))
SCALED_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
SCALED_REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of the benchmark's own, flushed
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


async def load(url: str, cookie: str, pids: dict[str, int]) -> dict[str, float]:
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
    cpu[f"load generator ({CLIENTS} clients)"] = (time.process_time() - own_before) / wall
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies = sorted(x for c in clients for x in c.latencies_ms)
    per_client = sorted(c.received / wall for c in clients)
    connected = sum(1 for c in clients if c.received)
    total = sum(c.received for c in clients)
    lag = sorted(ended - c.last_at for c in clients if c.last_at)
    figures = {
        "receiving": connected,
        "messages_s": total / wall,
        "dashboard_cores": cpu["dashboard (daphne)"],
    }
    print(f"clients connected and receiving: {connected}/{CLIENTS}")
    print(
        f"fragments received: {total} in {wall:.1f} s = {total / wall:,.0f} messages/s "
        f"({sum(c.bytes for c in clients) / wall / 1e6:.1f} MB/s)"
    )
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        figures.update(p50_ms=p50, p99_ms=p99)
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
    return figures


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


def _modes() -> list[tuple[str, dict[str, str]]]:
    """Embedded always; scaled (PostgreSQL + Redis) when both answer on this machine."""
    modes = [("embedded (SQLite, in-memory layer)", {"DATABASE_URL": "", "REDIS_URL": ""})]
    if _reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379):
        modes.append(("scaled (PostgreSQL, Redis)", {"REDIS_URL": SCALED_REDIS_URL}))
    else:
        print("scaled mode left out: PostgreSQL (5432) or Redis (6379) does not answer")
    return modes


def run_mode(label: str, mode_env: dict[str, str], seed: Path, folder: Path) -> dict[str, float]:
    print(f"\n--- {label} ---", flush=True)
    if mode_env.get("REDIS_URL"):
        redis.Redis.from_url(mode_env["REDIS_URL"]).flushdb()
        os.environ.setdefault("DATABASE_URL", SCALED_POSTGRES_URL)  # a database of its own
    with SandboxProcess(seed=seed, maker=True, maker_rate=UPDATES_PER_MARKET) as sandbox:
        state = folder / f"state-{len(list(folder.iterdir()))}"
        state.mkdir()
        server = DashboardServer(
            state,
            api_url=sandbox.api_url,
            ws_url=sandbox.ws_url,
            env={
                "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
                **mode_env,
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
            pids = {"dashboard (daphne)": server.pid, "sandbox exchange": sandbox.process.pid}
            figures = asyncio.run(load(server.url, cookie, pids))
            if "MaxConnectionsError" in server.log():
                print("the dashboard's log holds MaxConnectionsError (Redis pool exhausted)")
            return figures
        finally:
            server.stop()


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        seed = five_market_seed(folder)
        for label, mode_env in _modes():
            results.append((label, run_mode(label, mode_env, seed, folder)))
    print(f"\nside by side, {CLIENTS} browsers on one dashboard process:")
    print(f"  {'mode':36} {'receiving':>10} {'msgs/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cores':>6}")
    for label, f in results:
        print(
            f"  {label:36} {f['receiving']:>6}/{CLIENTS:<3} {f['messages_s']:>8,.0f} "
            f"{f.get('p50_ms', float('nan')):>7.1f} {f.get('p99_ms', float('nan')):>7.1f} "
            f"{f['dashboard_cores']:>6.2f}"
        )
    if len(results) == 2 and results[0][1].get("p99_ms") and results[1][1].get("p99_ms"):
        embedded, scaled = results[0][1], results[1][1]
        print(
            f"scaled / embedded: p50 {scaled['p50_ms'] / embedded['p50_ms']:.2f}x, "
            f"p99 {scaled['p99_ms'] / embedded['p99_ms']:.2f}x, dashboard cores "
            f"{scaled['dashboard_cores'] / embedded['dashboard_cores']:.2f}x"
        )


if __name__ == "__main__":
    main()
