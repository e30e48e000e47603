"""What the desk adds to a script's order (issue 17): latency and server CPU of /bpx/.

Run: ``.venv/bin/python -m tests.bench.bench_gateway [orders]``

One still sandbox, one desk (daphne, embedded SQLite, relay off so only the proxied path
runs) in front of it, over loopback. The same client (httpx, one keep-alive connection to
each, every request freshly signed with the client's signing code) sends, one after another,
in rounds of one request straight to the sandbox and the same through the desk (side by
side: the machine's swings from minute to minute fall on both alike):

- an order straight to the sandbox with another subaccount's key (the peer), and the same
  order to the desk's /bpx/ with a desk key: limit IOC buys on an empty book (no market
  maker), so nothing fills or rests and every order does the same work; the desk's path
  includes the risk gate (its three exchange reads), the ticket record, the audit record
  and the re-signed forward;
- a balance read both ways (no gate: the proxy alone);
- and, as the floor, a /bpx/ route the desk refuses at once (daphne and Django alone).

Prints p50 / p99 of each, what the desk adds (desk minus direct, per percentile) against the
2 ms / 5 ms targets with the ratio, and the desk process's CPU per proxied request (from
/proc, user + system) beside the sandbox's CPU per request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox.process import SandboxProcess
from tests.fixtures.dashboard_server import DashboardServer
from trading.backpack.signing import Credentials

TARGET_P50_MS = 2.0
TARGET_P99_MS = 5.0
WARMUP = 30

SETUP = """
import json
from decimal import Decimal
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.gateway.keys import script_key_create
from trading.models import RiskLimit
user = get_user_model().objects.create_user("bench")
desk = Subaccount.objects.create(name="Bench", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=user, subaccount=desk, role="trader")
RiskLimit.objects.create(subaccount=desk, max_open_orders=10**9)
issued = script_key_create(actor=user, name="bench", subaccounts=[desk], can_trade=True, days=1)
print(json.dumps([issued.key.public_key, issued.secret]))
"""


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _request(
    http: httpx.AsyncClient, url: str, credentials: Credentials, number: int, order: bool
) -> Any:
    """One freshly signed request (a coroutine), ready to send."""
    now = time.time_ns() // 1_000_000
    if order:
        body = {
            "symbol": "SOL_USDC",
            "side": "Bid",
            "orderType": "Limit",
            "timeInForce": "IOC",
            "price": "145",
            "quantity": "0.01",
            "clientId": 1_000_000 + number,
        }
        headers = credentials.headers("orderExecute", body, now)
        headers["Content-Type"] = "application/json"
        return http.post(url + "/api/v1/order", content=json.dumps(body), headers=headers)
    headers = credentials.headers("balanceQuery", None, now)
    return http.get(url + "/api/v1/capital", headers=headers)


async def timed(
    http: httpx.AsyncClient,
    peers: list[tuple[str, Credentials]],
    count: int,
    order: bool,
) -> list[list[float]]:
    """Latency in ms of `count` rounds (after a warm-up) of one request to each of `peers`
    (url, key) in turn: the peers are measured side by side, minute by minute, so the
    machine's swings fall on both alike."""
    out: list[list[float]] = [[] for _ in peers]
    for i in range(WARMUP + count):
        for (url, credentials), times in zip(peers, out, strict=True):
            sending = _request(http, url, credentials, i, order)
            started = time.perf_counter()
            answer = await sending
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                raise SystemExit(f"{url}: HTTP {answer.status_code} {answer.text[:200]}")
            if i >= WARMUP:
                times.append(elapsed)
    return out


async def floor(http: httpx.AsyncClient, server: DashboardServer, count: int) -> None:
    """daphne and Django's middleware alone: a /bpx/ route the desk refuses at once (404,
    no database, no exchange)."""
    before = cpu_s(server.pid)
    started = time.perf_counter()
    for _ in range(WARMUP + count):
        answer = await http.get(server.url + "/bpx/api/v1/nothing")
        assert answer.status_code == 404, answer.text
    wall = (time.perf_counter() - started) * 1000 / (WARMUP + count)
    cpu = (cpu_s(server.pid) - before) * 1000 / (WARMUP + count)
    print(
        f"floor (daphne + Django, a refused route): {cpu:.2f} ms desk CPU, "
        f"{wall:.2f} ms wall per request"
    )


async def measure(
    sandbox: SandboxProcess, server: DashboardServer, desk_key: Credentials, count: int
) -> None:
    # another subaccount of the sandbox: the peer's requests must not eat the desk's budget
    direct_key = Credentials(sandbox.keys[1]["api_key"], sandbox.keys[1]["api_secret"])
    limits = httpx.Limits(max_connections=2)  # one to the sandbox, one to the desk
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await floor(http, server, count)
        for what, order in (("order (IOC limit)", True), ("balance read", False)):
            exchange_pid = sandbox.process.pid
            exchange_before = cpu_s(exchange_pid)
            desk_before = cpu_s(server.pid)
            direct, proxied = await timed(
                http,
                [(sandbox.api_url, direct_key), (server.url + "/bpx", desk_key)],
                count,
                order,
            )
            desk_cpu = (cpu_s(server.pid) - desk_before) * 1000 / (WARMUP + count)
            # the sandbox served each round twice: the direct request and the forwarded one
            exchange_cpu = (cpu_s(exchange_pid) - exchange_before) * 1000 / (2 * (WARMUP + count))
            added50 = pct(proxied, 0.5) - pct(direct, 0.5)
            added99 = pct(proxied, 0.99) - pct(direct, 0.99)
            print(f"{what}, {count} sequential requests:")
            print(
                f"  direct to the sandbox  p50 {pct(direct, 0.5):7.2f} ms  "
                f"p99 {pct(direct, 0.99):7.2f} ms"
            )
            print(
                f"  through the desk       p50 {pct(proxied, 0.5):7.2f} ms  "
                f"p99 {pct(proxied, 0.99):7.2f} ms"
            )
            print(
                f"  added by the desk      p50 {added50:7.2f} ms ({added50 / TARGET_P50_MS:.1f}x "
                f"the {TARGET_P50_MS:g} ms target)  p99 {added99:7.2f} ms "
                f"({added99 / TARGET_P99_MS:.1f}x the {TARGET_P99_MS:g} ms target)"
            )
            print(
                f"  desk CPU per proxied request {desk_cpu:6.2f} ms (daphne, user+system); "
                f"the sandbox's CPU per request {exchange_cpu:5.2f} ms; "
                f"ratio {desk_cpu / max(exchange_cpu, 1e-9):.1f}x"
            )


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for name in ("DATABASE_URL", "REDIS_URL"):  # embedded: SQLite, in-process budgets
        os.environ.pop(name, None)
    print(f"desk /bpx/ vs the sandbox directly (load {os.getloadavg()[0]:.2f})")
    with tempfile.TemporaryDirectory() as folder, SandboxProcess(maker=False) as sandbox:
        state = Path(folder) / "state"
        state.mkdir(mode=0o700)
        env = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
            "DASHBOARD_RELAY": "off",
        }
        server = DashboardServer(state, env=env, api_url=sandbox.api_url, ws_url=sandbox.ws_url)
        try:
            server.prepare()
            key = sandbox.keys[0]
            output = server.manage(
                "shell", "-c", SETUP.format(api_key=key["api_key"], api_secret=key["api_secret"])
            )
            public, secret = json.loads(output.strip().splitlines()[-1])
            server.start(migrate=False)
            asyncio.run(measure(sandbox, server, Credentials(public, secret), count))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
