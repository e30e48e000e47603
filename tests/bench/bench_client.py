"""Client CPU per signed order: this client vs ccxt vs a bare aiohttp request (the floor).

Run: ``.venv/bin/python -m tests.bench.bench_client``. Starts one sandbox exchange (no market
maker, high rate limits) and sends, with each client in turn, immediate-or-cancel limit bids
on SOL_USDC: first one at a time, then with 32 in flight. Measures client-process CPU time
(``time.process_time`` around the loop: sign, send, parse), orders/s and p50/p99 latency.
The three clients run in interleaved rounds against a freshly reset exchange; the table shows
the median round. Prints the ratios (targets: CPU per order <= 0.6x ccxt, <= 1.3x the floor).
"this client" sends through its ``httpx.AsyncClient`` over the default transport
(``transport="pool"``, the lean HTTP/1.1 pool); "on httpx_aiohttp" is the same client over
the other transport (the one a proxy switches to), and "httpx request()" is a plain
``httpx.AsyncClient.request`` with ``BackpackAuth`` over the same pool (how a script would
use httpx): the evidence behind the transport and the way requests are built.
Asserts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import aiohttp
import httpx
from nacl.signing import SigningKey

from sandbox.process import SandboxProcess
from trading.backpack import Budget, Credentials, ExchangeSession
from trading.backpack.http1 import Http1Pool
from trading.backpack.signing import BackpackAuth
from trading.backpack.transport import PoolTransport

SEQUENTIAL = 500
CONCURRENT = 1000
ROUNDS = 7
IN_FLIGHT = 32
SYMBOL = "SOL_USDC"

Send = Callable[[int], Awaitable[None]]
_JSON = {"Content-Type": "application/json"}


async def measure(send: Send, count: int, in_flight: int, first_id: int) -> dict[str, float]:
    """Run ``count`` orders, ``in_flight`` at a time; CPU us/order, orders/s, p50, p99 ms."""
    latencies: list[float] = []

    async def timed(i: int) -> None:
        started = time.perf_counter()
        await send(first_id + i)
        latencies.append((time.perf_counter() - started) * 1000.0)

    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if in_flight == 1:
        for i in range(count):
            await timed(i)
    else:
        queue = iter(range(count))

        async def worker() -> None:
            for i in queue:
                await timed(i)

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    latencies.sort()
    return {
        "cpu_us": cpu / count * 1e6,
        "rate": count / wall,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
    }


async def ours(
    api_url: str, key: dict, transport: str = "pool"
) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """This project's client (validation on, rate budget kept, clientId reconciliation)."""
    session = ExchangeSession(
        api_url=api_url,
        budgets={"standard": Budget(10**9), "historical": Budget(10**9)},
        transport=transport,
    )
    client = session.client(Credentials(key["api_key"], key["api_secret"]), label="bench")
    await session.markets.load()
    await session.sync_clock()
    quantity, price = Decimal("0.01"), Decimal("140")

    async def send(i: int) -> None:
        await client.place_order(
            SYMBOL, "Bid", "Limit", quantity=quantity, price=price, time_in_force="IOC"
        )

    return send, session.aclose


async def with_ccxt(api_url: str, key: dict) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """ccxt's async backpack client pointed at the sandbox, rate limiting off."""
    import ccxt.async_support as ccxt

    exchange = ccxt.backpack(
        {"apiKey": key["api_key"], "secret": key["api_secret"], "enableRateLimit": False}
    )
    exchange.urls["api"] = {"public": api_url, "private": api_url}
    await exchange.load_markets()

    async def send(i: int) -> None:
        await exchange.create_order(
            "SOL/USDC", "limit", "buy", 0.01, 140, {"timeInForce": "IOC", "clientOrderId": i}
        )

    return send, exchange.close


def _order(client_id: int) -> dict[str, object]:
    """The order every bare contender sends, keys sorted as the signature wants them."""
    return {
        "clientId": client_id,
        "orderType": "Limit",
        "price": "140",
        "quantity": "0.01",
        "side": "Bid",
        "symbol": SYMBOL,
        "timeInForce": "IOC",
    }


async def plain_httpx(api_url: str, key: dict) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """``httpx.AsyncClient.request`` + ``BackpackAuth`` over the same lean pool."""
    credentials = Credentials(key["api_key"], key["api_secret"])
    pool = Http1Pool(api_url, timeout_s=10.0, connect_timeout_s=5.0, max_connections=64)
    http = httpx.AsyncClient(base_url=api_url, transport=PoolTransport(pool))

    async def send(i: int) -> None:
        params = _order(i)
        auth = BackpackAuth(credentials, "orderExecute", params)
        response = await http.post(
            "/api/v1/order", content=json.dumps(params), headers=_JSON, auth=auth
        )
        if response.status_code != 200:
            raise RuntimeError(f"httpx order refused: {response.text}")
        response.json()

    return send, http.aclose


async def floor(api_url: str, key: dict) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """A bare aiohttp request carrying the same signature: the least any client can do."""
    signing_key = SigningKey(base64.b64decode(key["api_secret"]))
    api_key = key["api_key"]
    http = aiohttp.ClientSession()
    url = api_url + "/api/v1/order"

    async def send(i: int) -> None:
        params = _order(i)
        ts = time.time_ns() // 1_000_000
        text = "instruction=orderExecute&" + "&".join(f"{k}={v}" for k, v in params.items())
        text += f"&timestamp={ts}&window=5000"
        signature = base64.b64encode(signing_key.sign(text.encode()).signature).decode()
        headers = {
            "X-API-Key": api_key,
            "X-Signature": signature,
            "X-Timestamp": str(ts),
            "X-Window": "5000",
            "Content-Type": "application/json",
        }
        async with http.post(url, data=json.dumps(params), headers=headers) as response:
            body = json.loads(await response.read())
            if response.status != 200:
                raise RuntimeError(f"floor order refused: {body}")

    return send, http.close


async def run(sandbox: SandboxProcess) -> dict[str, dict[str, dict[str, float]]]:
    """Measure every client in interleaved rounds (the exchange reset before each run, so
    all meet the same server state); keep the median round per client and mode."""
    contenders = [
        ("this client", ours),
        ("ccxt", with_ccxt),
        ("bare aiohttp", floor),
        ("on httpx_aiohttp", lambda url, key: ours(url, key, "aiohttp")),
        ("httpx request()", plain_httpx),
    ]
    rounds: dict[str, dict[str, list[dict[str, float]]]] = {}
    for _ in range(ROUNDS):
        for name, factory in contenders:
            await asyncio.to_thread(sandbox.reset)
            send, close = await factory(sandbox.api_url, sandbox.keys[0])
            try:
                for i in range(30):  # warm up: connections, caches
                    await send(10_000_000 + i)
                modes = rounds.setdefault(name, {})
                seq = await measure(send, SEQUENTIAL, 1, 1)
                modes.setdefault("sequential", []).append(seq)
                conc = await measure(send, CONCURRENT, IN_FLIGHT, 100_000)
                modes.setdefault(f"{IN_FLIGHT} in flight", []).append(conc)
            finally:
                await close()
    return {
        name: {mode: _median(runs) for mode, runs in modes.items()}
        for name, modes in rounds.items()
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def report(results: dict[str, dict[str, dict[str, float]]]) -> None:
    """Print the table and the ratios."""
    print(
        f"{'client':<18}{'mode':<14}{'CPU us/order':>13}{'orders/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
    )
    for name, modes in results.items():
        for mode, r in modes.items():
            print(
                f"{name:<18}{mode:<14}{r['cpu_us']:>13.0f}{r['rate']:>10.0f}"
                f"{r['p50']:>8.2f}{r['p99']:>8.2f}"
            )
    print()
    for name in ("this client", "on httpx_aiohttp", "httpx request()"):
        mine = results[name]
        for mode in mine:
            vs_ccxt = mine[mode]["cpu_us"] / results["ccxt"][mode]["cpu_us"]
            vs_floor = mine[mode]["cpu_us"] / results["bare aiohttp"][mode]["cpu_us"]
            print(
                f"{name:<18}{mode:<14} CPU/order: {vs_ccxt:.2f}x ccxt (target <= 0.6), "
                f"{vs_floor:.2f}x the floor (target <= 1.3)"
            )


def main() -> None:
    """Start the sandbox, measure, print."""
    with SandboxProcess(maker=False, rate_standard=10**7, rate_historical=10**7) as sandbox:
        print(f"sandbox {sandbox.api_url}; python {sys.version.split()[0]}")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        report(asyncio.run(run(sandbox)))


if __name__ == "__main__":
    main()
