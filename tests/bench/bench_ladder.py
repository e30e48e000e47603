"""A 50-order ladder from send to all 50 open on the exchange, and the requests it used
(issue 16: target one placing request).

Run: ``.venv/bin/python -m tests.bench.bench_ladder [rounds]``

Against a still sandbox on a temporary SQLite database: each round previews a 50-order bid
ladder on SOL_USDC, sends it with `trading.ladder.services.ladder_place` (role check, the risk
gate for the whole ladder, one batch request, settlement, audit), then reads the open orders
until all 50 are there, and cancels them. Prints the median wall time from send to all open,
and the exchange requests of one send by route (from the session's metrics). There is no page
yet: the time is the service's, not a browser's.
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


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
