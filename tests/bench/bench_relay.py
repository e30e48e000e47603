"""Relay fan-out: exchange depth updates -> relay -> browsers, against a bare broadcast.

Run: ``.venv/bin/python -m tests.bench.bench_relay``. Starts a sandbox exchange whose market
maker produces about 1,000 depth updates a second over 5 markets, a dashboard (daphne,
embedded relay) and, in this process, N WebSocket clients signed in as one user, spread over
the 5 market pages' streams; for N in 200, 500 and 1,000 (``BENCH_CLIENTS=200,500``). Each
book fragment carries the engine timestamp of the newest depth update it shows
(``<!--E:...-->``); a client's latency is its receive time minus that stamp (one machine, one
clock).

For each N, in the same run, the peer: the same fragments (captured from the dashboard) sent
at the same rate per market to the same number of sockets by a bare ``websockets`` server
(tests/bench/bare_broadcast.py), the floor for Python. The figure that matters is messages
delivered per dashboard core-second divided by the bare broadcast's (goal: at least 0.3).
Then the scaled mode: two dashboard processes on PostgreSQL and Redis with 1,000 browsers
split between them.

Where a message's cost goes comes from the dashboard's own log lines (``relay stats``: time
rendering fragments; ``fan-out stats``: time writing them to sockets, framing included); the
rest of the dashboard's CPU is the exchange streams, the book and Twisted's I/O.

Soak: ``BENCH_SOAK_S=3600 make bench BENCH=relay`` runs 200 browsers for that long and prints
the dashboard's resident memory every minute (``BENCH_SOAK_EVERY_S``) and its spread after a
warm-up of three samples (goal: within 5 %).

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis
import websockets

from sandbox.process import SandboxProcess
from tests.fixtures.dashboard_server import DashboardServer, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
MARKETS = ["SOL_USDC", "BTC_USDC", "ETH_USDC", "SOL_USDC_PERP", "BTC_USDC_PERP"]
UPDATES_PER_MARKET = 200  # x 5 markets = 1,000 depth updates a second
CLIENT_COUNTS = [int(n) for n in os.environ.get("BENCH_CLIENTS", "200,500,1000").split(",")]
SCALED_CLIENTS = int(os.environ.get("BENCH_SCALED_CLIENTS", "1000"))
WARMUP_S = float(os.environ.get("BENCH_WARMUP_S", "8"))
WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "20"))
SOAK_S = float(os.environ.get("BENCH_SOAK_S", "0"))
SOAK_EVERY_S = float(os.environ.get("BENCH_SOAK_EVERY_S", "60"))
COALESCING_WINDOW_MS = 100.0  # the relay's rate: 10 fragments a second per group and kind
SCALED_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
SCALED_REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of the benchmark's own, flushed
STAMP = re.compile(r"<!--E:(\d+)-->")
RELAY_STATS = re.compile(
    r"(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ INFO trading\.relay\.worker: relay stats: "
    r"(?P<rendered>\d+) fragments rendered in (?P<render_s>[\d.]+) s, .* over (?P<over>[\d.]+) s"
)
FANOUT_STATS = re.compile(
    r"(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ INFO trading\.relay\.fanout: fan-out stats: "
    r"(?P<messages>\d+) messages, (?P<writes>\d+) socket writes in (?P<seconds>[\d.]+) s "
    r"of (?P<over>[\d.]+) s"
)
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


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
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.latencies_ms: list[float] = []
        self.received = 0
        self.bytes = 0
        self.last_at = 0.0
        self.samples: list[str] = []
        self.connected = False


async def run_client(ws_url: str, headers: dict[str, str], client: Client, measuring) -> None:
    async with websockets.connect(
        ws_url, additional_headers=headers, max_size=2**22, compression=None, open_timeout=60
    ) as socket:
        client.connected = True
        async for frame in socket:
            now = time.time()
            if not measuring():
                continue
            client.received += 1
            client.bytes += len(frame)
            client.last_at = now
            if len(client.samples) < 20 and frame not in client.samples:
                client.samples.append(frame)
            stamp = STAMP.search(frame)
            if stamp and int(stamp.group(1)):
                client.latencies_ms.append((now - int(stamp.group(1)) / 1e6) * 1000)


async def arrive(
    urls: list[str], cookie: str | None, count: int, measuring
) -> tuple[list[Client], list[asyncio.Task]]:
    """`count` clients over the 5 markets (and over `urls` in turn), arriving in batches of 50,
    each let in before the next knocks (all at once they overflow the listen backlog)."""
    clients = [Client(MARKETS[i % len(MARKETS)]) for i in range(count)]
    tasks = []
    for i, client in enumerate(clients):
        url = urls[i % len(urls)]
        headers = {"Origin": url}
        if cookie:
            headers["Cookie"] = f"sessionid={cookie}"
        ws_url = url.replace("http://", "ws://") + f"/ws/market/{client.symbol}/"
        tasks.append(asyncio.create_task(run_client(ws_url, headers, client, measuring)))
        if i % 50 == 49 or i == count - 1:
            batch = clients[i - i % 50 : i + 1]
            deadline = time.monotonic() + 15
            while not all(c.connected for c in batch) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    return clients, tasks


async def load(
    urls: list[str], cookie: str | None, pids: dict[str, int], count: int
) -> tuple[dict[str, float], list[Client]]:
    """`count` clients over the 5 markets (and over `urls` in turn); figures over the window."""
    state = {"measuring": False}
    clients, tasks = await arrive(urls, cookie, count, lambda: state["measuring"])
    await asyncio.sleep(WARMUP_S)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    own_before = time.process_time()
    started = time.monotonic()
    window_from = time.time()
    state["measuring"] = True
    await asyncio.sleep(WINDOW_S)
    state["measuring"] = False
    wall = time.monotonic() - started
    ended = time.time()
    cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / wall for name, pid in pids.items()}
    generator = (time.process_time() - own_before) / wall
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies = sorted(x for c in clients for x in c.latencies_ms)
    total = sum(c.received for c in clients)
    lag = sorted(ended - c.last_at for c in clients if c.last_at)
    servers = sum(share for name, share in cpu.items() if name.startswith("server"))
    figures = {
        "clients": count,
        "receiving": sum(1 for c in clients if c.received),
        "messages_s": total / wall,
        "bytes_s": sum(c.bytes for c in clients) / wall,
        "server_cores": servers,
        "generator_cores": generator,
        "per_core_s": total / wall / servers if servers else float("nan"),
        "worst_lag_ms": lag[-1] * 1000 if lag else float("nan"),
        "wall": wall,
        "window_from": window_from,
        "window_to": ended,
    }
    if latencies:
        figures["p50_ms"] = statistics.median(latencies)
        figures["p99_ms"] = latencies[int(len(latencies) * 0.99) - 1]
    for name, share in cpu.items():
        figures[f"cpu {name}"] = share
    return figures, clients


def describe(label: str, f: dict[str, float]) -> None:
    print(
        f"  {label}: {f['receiving']}/{f['clients']} receiving, {f['messages_s']:,.0f} messages/s "
        f"({f['bytes_s'] / 1e6:.1f} MB/s), latency p50 {f.get('p50_ms', float('nan')):.1f} ms "
        f"p99 {f.get('p99_ms', float('nan')):.1f} ms, server cores {f['server_cores']:.2f}, "
        f"load generator {f['generator_cores']:.2f} cores, worst client lag at the end "
        f"{f['worst_lag_ms']:.0f} ms",
        flush=True,
    )


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


def _stats_in_window(log: str, since: float, until: float) -> dict[str, float]:
    """Rates from the dashboard's relay and fan-out stats lines logged within [since, until]
    (epoch s): each line covers the seconds it names, so the rates hold whatever the window's
    alignment with the lines."""
    totals = {"rendered": 0.0, "render_s": 0.0, "render_over": 0.0}
    totals.update({"messages": 0.0, "writes": 0.0, "fanout_s": 0.0, "fanout_over": 0.0})

    def inside(at: str) -> bool:
        return since <= time.mktime(time.strptime(at, "%Y-%m-%d %H:%M:%S")) <= until + 1

    for match in RELAY_STATS.finditer(log):
        if inside(match["at"]):
            totals["rendered"] += int(match["rendered"])
            totals["render_s"] += float(match["render_s"])
            totals["render_over"] += float(match["over"])
    for match in FANOUT_STATS.finditer(log):
        if inside(match["at"]):
            totals["messages"] += int(match["messages"])
            totals["writes"] += int(match["writes"])
            totals["fanout_s"] += float(match["seconds"])
            totals["fanout_over"] += float(match["over"])
    return totals


class Desk:
    """A sandbox with its market maker and `processes` dashboards on it."""

    def __init__(self, folder: Path, seed: Path, mode_env: dict[str, str], processes: int = 1):
        self.folder, self.seed, self.mode_env, self.processes = folder, seed, mode_env, processes
        self.servers: list[DashboardServer] = []

    def __enter__(self) -> Desk:
        if self.mode_env.get("REDIS_URL"):
            redis.Redis.from_url(self.mode_env["REDIS_URL"]).flushdb()
        self.sandbox = SandboxProcess(seed=self.seed, maker=True, maker_rate=UPDATES_PER_MARKET)
        self.sandbox.__enter__()
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        secret_key = secrets.token_urlsafe(50)  # one session cookie for every process
        if self.mode_env.get("DATABASE_URL"):  # the first server makes a database of its own
            os.environ["DATABASE_URL"] = self.mode_env["DATABASE_URL"]
        for n in range(self.processes):
            state = self.folder / f"state-{len(list(self.folder.iterdir()))}"
            state.mkdir()
            env = {
                "DASHBOARD_ENCRYPTION_KEYS": key,
                "DJANGO_SECRET_KEY": secret_key,
                "DASHBOARD_LOG_LEVEL": "INFO",  # the relay's and the hub's stats lines
                **self.mode_env,
                "DASHBOARD_RELAY": "embedded",
                "DASHBOARD_MONITORING_FLUSH_S": os.environ.get("BENCH_FLUSH_S", "5"),
            }
            if self.mode_env.get("DATABASE_URL"):
                env.pop("DATABASE_URL")
                if n:  # the others share the first one's
                    env["DATABASE_URL"] = self.servers[0].env["DATABASE_URL"]
            server = DashboardServer(
                state, api_url=self.sandbox.api_url, ws_url=self.sandbox.ws_url, env=env
            )
            server.start()
            self.servers.append(server)
            if n == 0:
                server.create_user("bench", "a long bench password 1")
        self.cookie = sign_in(self.servers[0].url, "bench", "a long bench password 1")
        return self

    def __exit__(self, *exc) -> None:
        for server in self.servers:
            server.stop()
        self.sandbox.__exit__(*exc)
        os.environ.pop("DATABASE_URL", None)

    def pids(self) -> dict[str, int]:
        pids = {f"server {n}": s.pid for n, s in enumerate(self.servers)}
        pids["sandbox exchange"] = self.sandbox.process.pid
        return pids


def desk_run(label: str, desk: Desk, count: int) -> tuple[dict[str, float], list[Client]]:
    rss_before = sum(rss_mib(s.pid) for s in desk.servers)
    figures, clients = asyncio.run(
        load([s.url for s in desk.servers], desk.cookie, desk.pids(), count)
    )
    since, until = figures["window_from"], figures["window_to"]
    time.sleep(0.2)
    figures["rss_mib"] = sum(rss_mib(s.pid) for s in desk.servers)
    figures["rss_growth_mib"] = figures["rss_mib"] - rss_before
    logs = "".join(s.log() for s in desk.servers)
    stats = _stats_in_window(logs, since, until)
    if figures["receiving"] < count:  # say why, from the dashboard's own words
        trouble = [line for line in logs.splitlines() if " WARNING " in line or " ERROR " in line]
        print(f"    {count - figures['receiving']} clients received nothing; the dashboard logged:")
        for line in trouble[-5:]:
            print(f"      {line[:300]}")
    figures.update({f"stats {k}": v for k, v in stats.items()})
    describe(label, figures)
    if stats["writes"] and stats["render_over"]:
        cores = figures["server_cores"]
        processes = len(desk.servers)  # each logs its own lines over the same seconds
        render_wall = stats["render_over"] / processes
        fanout_wall = stats["fanout_over"] / processes
        render_share = stats["render_s"] / render_wall / cores if cores else 0
        fanout_share = stats["fanout_s"] / fanout_wall / cores if cores else 0
        rendered, writes = stats["rendered"] / render_wall, stats["writes"] / fanout_wall
        print(
            f"    where the dashboard's CPU went: rendering {rendered:,.0f} "
            f"fragments/s ({render_share:.0%}), fan-out {writes:,.0f} socket "
            f"writes/s at {stats['fanout_s'] / stats['writes'] * 1e6:.1f} us each, framing "
            f"included ({fanout_share:.0%}); the rest ({1 - render_share - fanout_share:.0%}) "
            "is the exchange streams, the book, Twisted's I/O and the event loop"
        )
    return figures, clients


def peer_plan(clients: list[Client], wall: float, folder: Path) -> Path:
    """Per market: the rate the dashboard sent its fragments at, and the fragments themselves."""
    plan = {}
    for symbol in MARKETS:
        mine = [c for c in clients if c.symbol == symbol]
        received = sum(c.received for c in mine)
        rate = received / wall / max(len(mine), 1)
        frames = [frame for c in mine[:3] for frame in c.samples][:40]
        plan[symbol] = {"rate": rate, "frames": frames}
    path = folder / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def peer_run(count: int, plan: Path) -> dict[str, float]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bare_broadcast", str(port), str(plan)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        figures, _ = asyncio.run(
            load([f"http://127.0.0.1:{port}"], None, {"server": process.pid}, count)
        )
    finally:
        process.terminate()
        process.wait(10)
    describe("bare websockets broadcast", figures)
    return figures


def soak(folder: Path, seed: Path) -> None:
    count = int(os.environ.get("BENCH_SOAK_CLIENTS", "200"))
    print(f"\n--- soak: {count} browsers for {SOAK_S:.0f} s, embedded ---", flush=True)
    with Desk(folder, seed, {"DATABASE_URL": "", "REDIS_URL": ""}) as desk:
        pid = desk.servers[0].pid
        samples: list[tuple[float, float]] = []

        async def run() -> None:
            clients, tasks = await arrive([desk.servers[0].url], desk.cookie, count, lambda: True)
            print(f"  {sum(c.connected for c in clients)} of {count} connected", flush=True)
            started = time.monotonic()
            while time.monotonic() - started < SOAK_S:
                await asyncio.sleep(SOAK_EVERY_S)
                at = time.monotonic() - started
                samples.append((at, rss_mib(pid)))
                received = sum(c.received for c in clients)
                receiving = sum(1 for c in clients if c.received)
                print(
                    f"  {at / 60:6.1f} min: resident {samples[-1][1]:7.1f} MiB, "
                    f"{received:,} messages so far, {receiving} browsers receiving",
                    flush=True,
                )
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(run())
    after_warmup = [rss for _, rss in samples[3:]]
    if len(after_warmup) >= 2:
        low, high = min(after_warmup), max(after_warmup)
        print(
            f"after a warm-up of 3 samples: {low:.1f} to {high:.1f} MiB, spread "
            f"{(high - low) / low:.1%} (goal: within 5 %)"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        seed = five_market_seed(folder)
        if SOAK_S:
            soak(folder, seed)
            return
        print(
            f"sandbox: {len(MARKETS)} markets x {UPDATES_PER_MARKET} depth updates/s; warm-up "
            f"{WARMUP_S:.0f} s, window {WINDOW_S:.0f} s; coalescing window "
            f"{COALESCING_WINDOW_MS:.0f} ms (p99 goal {1.5 * COALESCING_WINDOW_MS:.0f} ms)"
        )
        rows = []
        for count in CLIENT_COUNTS:
            print(f"\n--- {count} browsers, one dashboard process (embedded) ---", flush=True)
            with Desk(folder, seed, {"DATABASE_URL": "", "REDIS_URL": ""}) as desk:
                desk_figures, clients = desk_run("desk", desk, count)
            plan = peer_plan(clients, desk_figures["wall"], folder)
            peer = peer_run(count, plan)
            rows.append((f"embedded, {count}", desk_figures, peer))
        scaled = None
        if not SCALED_CLIENTS:
            print("scaled mode left out: BENCH_SCALED_CLIENTS=0")
        elif _reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379):
            label = f"scaled, 2 processes, {SCALED_CLIENTS}"
            print(f"\n--- {label} browsers (PostgreSQL, Redis) ---", flush=True)
            env = {"REDIS_URL": SCALED_REDIS_URL, "DATABASE_URL": SCALED_POSTGRES_URL}
            with Desk(folder, seed, env, processes=2) as desk:
                scaled, _ = desk_run("desk", desk, SCALED_CLIENTS)
        else:
            print("scaled mode left out: PostgreSQL (5432) or Redis (6379) does not answer")

        print("\nside by side (desk against a bare websockets broadcast of the same fragments):")
        print(
            f"  {'run':28} {'msgs/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cores':>6} "
            f"{'msgs/core-s':>12} {'bare msgs/core-s':>17} {'ratio':>6} {'p99/window':>10}"
        )
        for label, desk_f, peer_f in rows:
            ratio = desk_f["per_core_s"] / peer_f["per_core_s"]
            print(
                f"  {label:28} {desk_f['messages_s']:>8,.0f} {desk_f.get('p50_ms', 0):>7.1f} "
                f"{desk_f.get('p99_ms', 0):>7.1f} {desk_f['server_cores']:>6.2f} "
                f"{desk_f['per_core_s']:>12,.0f} {peer_f['per_core_s']:>17,.0f} {ratio:>6.2f} "
                f"{desk_f.get('p99_ms', 0) / COALESCING_WINDOW_MS:>10.2f}"
            )
        if scaled:
            print(
                f"  {'scaled, 2 processes, ' + str(SCALED_CLIENTS):28} "
                f"{scaled['messages_s']:>8,.0f} {scaled.get('p50_ms', 0):>7.1f} "
                f"{scaled.get('p99_ms', 0):>7.1f} {scaled['server_cores']:>6.2f} "
                f"{scaled['per_core_s']:>12,.0f} {'':>17} {'':>6} "
                f"{scaled.get('p99_ms', 0) / COALESCING_WINDOW_MS:>10.2f}"
            )
        print(
            "goals: messages per dashboard core-second at least 0.3 of the bare broadcast's; "
            "1,000 browsers on one process with p99 within 1.5 windows and under one core"
        )
        for label, desk_f, _ in rows:
            print(
                f"  {label}: resident memory {desk_f['rss_mib']:.0f} MiB after the run "
                f"({desk_f['rss_growth_mib']:+.1f} MiB during it)"
            )


if __name__ == "__main__":
    main()
