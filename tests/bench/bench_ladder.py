"""A 50-order ladder from send to all 50 open on the exchange, and the requests it used
(issue 16: target one placing request).

Run: ``.venv/bin/python -m tests.bench.bench_ladder [rounds]``

Against a still sandbox on a temporary SQLite database: each round previews a 50-order bid
ladder on SOL_USDC, sends it with `trading.ladder.services.ladder_place` (role check, the risk
gate for the whole ladder, one batch request, settlement, audit), then reads the open orders
until all 50 are there, and cancels them. Prints the median wall time from send to all open,
and the exchange requests of one send by route (from the session's metrics).

Then the same from a browser (issue 16's own measure): Chromium (Playwright, Debian's binary)
on the ladder page of a real dashboard (daphne, relay on) against its own still sandbox:
each round loads the page, previews the 50-order ladder, and times in the page from the click
on "Send ladder" to all 50 orders shown in the page's open-orders region; the sandbox counts
the requests it received meanwhile (``/_sandbox/requests``): the placing ones, target one.
Run only this part with ``.venv/bin/python -m tests.bench.bench_ladder [rounds] browser``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from sandbox.process import SandboxProcess
from tests.bench.bench_risk import setup_django

COUNT = 50


async def one_round(subaccount, user) -> tuple[float, Counter[str]]:
    from trading import exchange
    from trading.backpack import Side
    from trading.ladder.preview import LadderSpec, ladder_preview
    from trading.ladder.services import ladder_place

    client = exchange.client_for(subaccount)
    market = await client.market("SOL_USDC")
    spec = LadderSpec(
        symbol="SOL_USDC",
        side=Side.BID,
        from_price=Decimal("149"),
        to_price=Decimal("125"),
        count=COUNT,
        total_quantity=Decimal("50"),
    )
    preview = ladder_preview(spec=spec, market=market, fee_bps=Decimal("2"))
    metrics = exchange.exchange_session().metrics
    before = len(metrics.recent)
    started = time.perf_counter()
    result = await ladder_place(actor=user, subaccount=subaccount, preview=preview)
    routes = Counter(record.route for record in list(metrics.recent)[before:])
    assert len(result.placed) == COUNT, result.message
    for _ in range(100):  # the exchange answers a batch once its orders rest: one read
        if len(await client.open_orders("SOL_USDC")) >= COUNT:
            break
    elapsed_ms = (time.perf_counter() - started) * 1000
    await client.cancel_all_orders("SOL_USDC")
    await exchange.close_session()
    return elapsed_ms, routes


BROWSER_SETUP = """
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.models import RiskLimit
user = get_user_model().objects.create_user("bench", password={password!r})
desk = Subaccount.objects.create(name="Bench", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=user, subaccount=desk, role="trader")
RiskLimit.objects.create(subaccount=desk, max_open_orders=10**9)
print(desk.pk)
"""
PASSWORD = "a long bench password 1"
PLACING = ("POST /api/v1/orders", "POST /api/v1/order")

# In the page: the time of the click on send, and of the first moment the open-orders region
# shows every order of the ladder (the region is swapped whole, out of band or by the relay).
WATCH = """([region, count]) => {
  window.__sent = null; window.__shown = null;
  const rows = () => document.querySelectorAll(`#${region} tr[data-order-id]`).length;
  document.querySelector('#ladder-form button.primary').addEventListener('click', () => {
    window.__sent = performance.now();
  }, {capture: true});
  new MutationObserver(() => {
    if (window.__sent !== null && window.__shown === null && rows() >= count) {
      window.__shown = performance.now();
    }
  }).observe(document.body, {subtree: true, childList: true});
}"""


def browser_rounds(rounds: int) -> tuple[list[float], list[dict[str, int]]]:
    """(ms from click to all shown, the sandbox's request counts) of each round."""
    from playwright.sync_api import sync_playwright

    from tests import services
    from tests.fixtures.browser import CHROMIUM_ARGS
    from tests.fixtures.dashboard_server import DashboardServer

    times: list[float] = []
    counts: list[dict[str, int]] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        SandboxProcess(maker=False) as sandbox,
        sync_playwright() as playwright,
    ):
        server = DashboardServer(Path(folder), api_url=sandbox.api_url, ws_url=sandbox.ws_url)
        key = sandbox.keys[0]
        setup = BROWSER_SETUP.format(
            password=PASSWORD, api_key=key["api_key"], api_secret=key["api_secret"]
        )
        browser = playwright.chromium.launch(
            executable_path=str(services.CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS
        )
        try:
            server.start()
            pk = int(server.manage("shell", "-c", setup).strip().splitlines()[-1])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            ladder = f"{server.url}/trading/subaccounts/{pk}/ladder/SOL_USDC/"
            page.goto(f"{server.url}/accounts/login/?next={ladder}")
            page.fill("#id_username", "bench")
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(ladder)
            for _ in range(rounds):
                page.goto(ladder)
                page.select_option("#id_side", "Bid")
                page.fill("#id_from_price", "149")
                page.fill("#id_to_price", "125")
                page.fill("#id_count", str(COUNT))
                page.select_option("#id_distribution", "flat")
                page.fill("#id_total_quantity", "50")
                page.click("text=Preview")
                page.locator(".ladder-table tbody tr").nth(COUNT - 1).wait_for()
                page.evaluate(WATCH, [f"open-orders-{pk}", COUNT])
                sandbox.requests(clear=True)
                page.click("text=Send ladder")
                page.wait_for_function("window.__shown !== null", timeout=60_000)
                times.append(page.evaluate("window.__shown - window.__sent"))
                counts.append(sandbox.requests())
                sandbox.reset()  # the 50 orders gone, for the next round
        finally:
            browser.close()
            server.stop()
    return times, counts


def print_browser(rounds: int) -> None:
    times, counts = browser_rounds(rounds)
    placing = [sum(c.get(route, 0) for route in PLACING) for c in counts]
    print(f"ladder of {COUNT} orders from a browser: click on send to all {COUNT} shown as open")
    print(
        f"  p50 {statistics.median(times):9.1f} ms  (min {min(times):.1f}, max {max(times):.1f},"
        f" {rounds} rounds)"
    )
    print(f"  placing requests per ladder, counted at the sandbox: {placing} (target 1)")
    print(
        "  every request the sandbox received from click to shown (the relay's reads too): "
        + ", ".join(f"{r} {n}" for r, n in sorted(counts[-1].items()))
    )


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if "browser" in sys.argv[2:]:
        print_browser(rounds)
        return 0
    with tempfile.TemporaryDirectory() as folder, SandboxProcess(maker=False) as sandbox:
        setup_django(Path(folder), sandbox, None)
        from django.contrib.auth import get_user_model

        from accounts import crypto
        from accounts.models import Membership, Subaccount
        from trading.models import RiskLimit

        key = sandbox.keys[0]
        user = get_user_model().objects.create_user("bench")
        subaccount = Subaccount.objects.create(
            name="Bench",
            api_public_key=key["api_key"],
            api_secret_sealed=crypto.seal(key["api_secret"]),
        )
        Membership.objects.create(user=user, subaccount=subaccount, role="trader")
        RiskLimit.objects.create(subaccount=subaccount, max_open_orders=10**9)
        results = [asyncio.run(one_round(subaccount, user)) for _ in range(rounds)]
    times = [ms for ms, _ in results]
    routes = results[-1][1]
    placing = routes["place_orders"] + routes["place_order"]
    print(f"ladder of {COUNT} orders, send to all open (median of {rounds} rounds)")
    print(f"  {statistics.median(times):9.1f} ms  (min {min(times):.1f}, max {max(times):.1f})")
    print(f"  placing requests per ladder: {placing} (target 1)")
    print("  every request of one send: " + ", ".join(f"{r} {n}" for r, n in routes.items()))
    print_browser(rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
