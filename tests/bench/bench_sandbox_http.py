"""Signed ``POST /api/v1/order`` throughput of the sandbox over loopback.

Run: ``.venv/bin/python -m tests.bench.bench_sandbox_http [orders] [in_flight]``

Starts the sandbox (no maker, rate limits off) in a subprocess, pre-signs resting limit
orders (ED25519, X-Window 60000) so the client's signing cost is not in the timed part,
then sends them with a plain aiohttp client keeping many requests in flight. Prints
orders/s against the target of 2,000/s, and against unsigned GET /api/v1/ping as a
peer (the server's floor cost per request).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time

import aiohttp
from nacl.signing import SigningKey

from sandbox.process import SandboxProcess

TARGET_PER_S = 2000


def signed_orders(key: dict, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Pre-signed (body, headers) pairs for ``count`` resting bids."""
    signer = SigningKey(base64.b64decode(key["api_secret"]))
    now = int(time.time() * 1000)
    requests = []
    for i in range(count):
        price = f"{120 + (i % 2000) / 100:.2f}"
        order = {
            "clientId": i,
            "orderType": "Limit",
            "price": price,
            "quantity": "0.01",
            "side": "Bid",
            "symbol": "SOL_USDC",
        }
        text = "&".join(f"{k}={order[k]}" for k in sorted(order))
        message = f"instruction=orderExecute&{text}&timestamp={now}&window=60000".encode()
        signature = base64.b64encode(signer.sign(message).signature).decode()
        headers = {
            "X-API-Key": key["api_key"],
            "X-Signature": signature,
            "X-Timestamp": str(now),
            "X-Window": "60000",
            "Content-Type": "application/json",
        }
        requests.append((json.dumps(order).encode(), headers))
    return requests


async def drive(url: str, jobs: list, in_flight: int, method: str = "POST") -> tuple[float, int]:
    """Send every job with ``in_flight`` workers; returns (seconds, non-200 count)."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    failures = 0
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                body, headers = queue.get_nowait()
                async with session.request(method, url, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status != 200:
                        failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return time.perf_counter() - started, failures


async def main(count: int, in_flight: int) -> None:
    """Run the benchmark and print the figures."""
    async with SandboxProcess(maker=False, rate_standard=0, rate_historical=0) as sandbox:
        key = sandbox.keys[1]
        warmup = signed_orders(key, 500)
        await drive(sandbox.api_url + "/api/v1/order", warmup, in_flight)
        jobs = signed_orders(key, count)
        seconds, failures = await drive(sandbox.api_url + "/api/v1/order", jobs, in_flight)
        orders_per_s = count / seconds
        pings = [(None, {}) for _ in range(count)]
        ping_s, _ = await drive(sandbox.api_url + "/api/v1/ping", pings, in_flight, "GET")
        pings_per_s = count / ping_s
    print(f"signed POST /api/v1/order: {count} orders, {in_flight} in flight")
    print(
        f"  {orders_per_s:,.0f} orders/s ({seconds * 1e6 / count:,.0f} us each), {failures} non-200"
    )
    print(f"  target {TARGET_PER_S:,}/s: ratio {orders_per_s / TARGET_PER_S:.2f}")
    print(f"peer: unsigned GET /api/v1/ping: {pings_per_s:,.0f} requests/s")
    print(f"  signed order / ping throughput ratio: {orders_per_s / pings_per_s:.2f}")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    in_flight = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    asyncio.run(main(count, in_flight))
