"""The order ticket's server time per order, beside a direct signed order (issue 13, part 9).

Run: ``.venv/bin/python -m tests.bench.bench_ticket [orders] [--profile]``

Starts a sandbox (no market maker), sets up Django on a temporary SQLite database (or on
DATABASE_URL's PostgreSQL database when it is set) with one subaccount and a trader, and
sends ``orders`` limit buys that rest on the book, alternating two ways, in the same process
and the same run:

- ticket: an htmx POST to ``/trading/market/SOL_USDC/ticket/`` through Django's ASGI handler
  (session, middleware, the ticket's review, the risk gate, the order, the answer), signed
  in as the trader; the wall time of the whole request. As under daphne, each request runs
  its sync steps on a thread of its own (``ThreadSensitiveContext``) and its end closes that
  thread's database connection (Django's ``request_finished``, which the test client skips):
  without a pool every ticket opens a PostgreSQL connection, with the scaled run's pool it
  borrows one;
- direct: ``place_order`` on the exchange client (trading/backpack) with the same
  subaccount's key: signing, HTTP over loopback, parsing.

Open orders are cancelled every few orders, outside the timing. Prints p50 and p99 of each,
the median CPU time of this process per order (the server's work, whatever else the machine
runs), the database statements per ticket (load does not change them), the desk's addition
(ticket minus direct, at p50) against the 10 ms goal, and the ratio.
``--profile`` also prints a pyinstrument profile of the ticket requests (pip install
pyinstrument).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from sandbox.process import SandboxProcess

GOAL_ADDED_MS = 10.0
WARMUP = 20
CANCEL_EVERY = 20
SYMBOL = "SOL_USDC"
PRICE = Decimal("140")  # under the start price, inside the price band: rests
QUANTITY = Decimal("0.01")


STATEMENTS = [0]  # database statements run so far, on every thread's connection


def _count_statement(execute, sql, params, many, context):  # noqa: ANN001, ANN202
    STATEMENTS[0] += 1
    return execute(sql, params, many, context)


def _count_statements_on(sender, connection, **kwargs) -> None:  # noqa: ANN001
    connection.execute_wrappers.append(_count_statement)


def setup_django(folder: Path, sandbox: SandboxProcess) -> None:
    os.environ["DASHBOARD_STATE_DIR"] = str(folder / "state")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    os.environ["BACKPACK_API_URL"] = sandbox.api_url
    os.environ["BACKPACK_WS_URL"] = sandbox.ws_url
    os.environ["DASHBOARD_RELAY"] = "off"  # the ticket alone; the relay is timed elsewhere
    os.environ["DASHBOARD_MONITORING_FLUSH_S"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"  # the host Django's test client sends
    os.environ.pop("REDIS_URL", None)  # DATABASE_URL, when set, is used (PostgreSQL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.backends.signals import connection_created

    connection_created.connect(_count_statements_on)

    call_command("migrate", verbosity=0)


def seed(sandbox: SandboxProcess) -> tuple[object, object]:
    """One subaccount for the sandbox's first key and a trader on it."""
    from django.contrib.auth import get_user_model

    from accounts import crypto
    from accounts.models import Membership, Role, Subaccount

    key = sandbox.keys[0]
    subaccount = Subaccount.objects.create(
        name=f"Bench desk {secrets.token_hex(4)}",
        api_public_key=key["api_key"],
        api_secret_sealed=crypto.seal(key["api_secret"]),
    )
    name = f"trader-{secrets.token_hex(4)}"
    trader = get_user_model().objects.create_user(name, password=secrets.token_hex(8))
    Membership.objects.create(user=trader, subaccount=subaccount, role=Role.TRADER)
    return subaccount, trader


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


async def measure(subaccount: object, trader: object, orders: int, profiler: object) -> dict:
    from asgiref.sync import ThreadSensitiveContext, sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    from trading.exchange import client_for, close_session
    from trading.risk.exposure import risk_exposure_forget

    browser = AsyncClient()
    await browser.aforce_login(trader)
    client = client_for(subaccount)
    url = f"/trading/market/{SYMBOL}/ticket/"
    times: dict[str, list[float]] = {
        "ticket": [], "direct": [], "ticket_cpu": [], "direct_cpu": [], "statements": []
    }  # fmt: skip

    async def ticket() -> tuple[float, float]:
        data = {
            "subaccount": str(subaccount.pk),
            "side": "Bid",
            "order_type": "Limit",
            "time_in_force": "GTC",
            "price": str(PRICE),
            "quantity": str(QUANTITY),
            "token": secrets.token_urlsafe(18),
        }
        started, cpu = time.perf_counter(), time.process_time()
        async with ThreadSensitiveContext():  # a thread of its own, as daphne gives a request
            response = await browser.post(  # as htmx sends a form: urlencoded, not multipart
                url,
                urlencode(data),
                content_type="application/x-www-form-urlencoded",
                headers={"HX-Request": "true"},
            )
            await sync_to_async(connections.close_all)()  # the request's end, on its thread
        spent, cpu_spent = time.perf_counter() - started, time.process_time() - cpu
        body = response.content.decode()
        if 'data-result="ok"' not in body:
            raise SystemExit(f"the ticket did not place the order:\n{body[:2000]}")
        return spent, cpu_spent

    async def direct() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        await client.place_order(SYMBOL, "Bid", "Limit", quantity=QUANTITY, price=PRICE)
        return time.perf_counter() - started, time.process_time() - cpu

    for i in range(WARMUP + orders):
        if i % CANCEL_EVERY == 0:
            await client.cancel_all_orders(SYMBOL)
            # Cancelled behind the desk's back: its kept exposure read (which still counts
            # those orders against the open-order limit) is dropped, as the desk's own
            # cancel does.
            risk_exposure_forget(subaccount_id=subaccount.pk)
        timed = i >= WARMUP
        if timed and profiler is not None:
            profiler.start()
        statements = STATEMENTS[0]
        ticket_s, ticket_cpu = await ticket()
        statements = STATEMENTS[0] - statements
        if timed and profiler is not None:
            profiler.stop()
        direct_s, direct_cpu = await direct()
        if timed:
            times["ticket"].append(ticket_s * 1000)
            times["direct"].append(direct_s * 1000)
            times["ticket_cpu"].append(ticket_cpu * 1000)
            times["direct_cpu"].append(direct_cpu * 1000)
            times["statements"].append(statements)
    await client.cancel_all_orders(SYMBOL)
    await close_session()
    return times


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    orders = int(args[0]) if args else 200
    profiler = None
    if "--profile" in sys.argv:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
    load = os.getloadavg()[0]
    print(f"order ticket, server time per order over loopback ({orders} orders; load {load:.2f})")
    with tempfile.TemporaryDirectory() as folder, SandboxProcess(maker=False) as sandbox:
        setup_django(Path(folder), sandbox)
        subaccount, trader = seed(sandbox)
        times = asyncio.run(measure(subaccount, trader, orders, profiler))
    rows = {}
    for name, label in (("ticket", "ticket (htmx POST)"), ("direct", "direct (client)")):
        p50, p99 = percentile(times[name], 50), percentile(times[name], 99)
        rows[name] = p50
        mean = statistics.fmean(times[name])
        print(f"  {label:20s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   mean {mean:7.2f} ms")
    cpu = {name: statistics.median(times[f"{name}_cpu"]) for name in ("ticket", "direct")}
    print(
        f"  CPU of this process per order (median): ticket {cpu['ticket']:.2f} ms, "
        f"direct {cpu['direct']:.2f} ms (less sensitive to other load than wall time)"
    )
    print(
        f"  database statements per ticket (median): {statistics.median(times['statements']):.0f}"
        f" (commits not counted)"
    )
    added = rows["ticket"] - rows["direct"]
    ratio = rows["ticket"] / rows["direct"] if rows["direct"] else float("inf")
    print(
        f"  the desk adds {added:.2f} ms at p50 (goal: at most {GOAL_ADDED_MS:.0f} ms; "
        f"{added / GOAL_ADDED_MS:.2f} of it); ticket / direct = {ratio:.1f}x"
    )
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
