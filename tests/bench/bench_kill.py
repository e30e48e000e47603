"""The team kill switch (issue 15.4): 50 subaccounts with 20 open orders and 5 positions each.

Run: ``.venv/bin/python -m tests.bench.bench_kill [subaccounts]``

A sandbox with 5 perpetual markets (the seed's 3 plus 2 copies of SOL's) and one subaccount
per desk plus a counterparty (resting an ask and a bid in each); each desk buys 1 lot in every
perpetual (5 positions) and rests 20 bids on SOL_USDC. Then one `kill_switch_engage_all` (with
a fresh TOTP code) stops every desk, and the bench reports:

- wall time from the call until every order is cancelled and every position closed (the
  kill switch returns after its reconciliation read; target 3 s);
- requests the desk sent per subaccount (its own client's calls, retries included);
- 429s received (target 0), and whether the sandbox still shows anything open.

Embedded mode (a temporary SQLite database); the figures include the audit writes.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from sandbox.process import SandboxProcess

TARGET_S = 3.0
ORDERS = 20
EXTRA_PERPS = ("JTO", "PYTH")
TOTP_KEY = "3132333435363738393031323334353637383930"
PRICES: dict[str, Decimal] = {}


def bench_seed(folder: Path, desks: int) -> Path:
    """The default seed with 5 perpetuals and `desks` + 1 subaccounts (the last one trades
    against the desks)."""
    seed = json.loads((Path("sandbox") / "default_seed.json").read_text())
    sol_asset = next(a for a in seed["assets"] if a["symbol"] == "SOL")
    sol_perp = next(m for m in seed["markets"] if m["symbol"] == "SOL_USDC_PERP")
    for base in EXTRA_PERPS:
        seed["assets"].append({**copy.deepcopy(sol_asset), "symbol": base, "displayName": base})
        seed["markets"].append({**sol_perp, "symbol": f"{base}_USDC_PERP", "baseSymbol": base})
    template = seed["subaccounts"][0]
    seed["subaccounts"] = [
        {**copy.deepcopy(template), "id": n, "label": f"Desk {n}"} for n in range(desks + 1)
    ]
    seed["subaccounts"][desks]["balances"] = {"USDC": "1000000000", "SOL": "10000000"}
    PRICES.update({m["symbol"]: Decimal(m["initialPrice"]) for m in seed["markets"]})
    path = folder / "seed.json"
    path.write_text(json.dumps(seed))
    return path


def perps() -> list[str]:
    return ["SOL_USDC_PERP", "BTC_USDC_PERP", "ETH_USDC_PERP"] + [
        f"{b}_USDC_PERP" for b in EXTRA_PERPS
    ]


async def arrange(sandbox: SandboxProcess, desks: int) -> None:
    from trading.backpack import Credentials, ExchangeSession

    def client(session, index):
        key = sandbox.keys[index]
        secret = key["api_secret"]
        creds = Credentials(api_key=key["api_key"], api_secret=lambda: secret)
        return session.client(creds, label=f"setup{index}")

    async with ExchangeSession(api_url=sandbox.api_url, ws_url=sandbox.ws_url) as session:
        other = client(session, desks)
        for symbol in perps():
            price = PRICES[symbol]
            quantity = Decimal(desks) * Decimal("0.01")
            await other.place_order(symbol, "Ask", "Limit", price=price, quantity=quantity)
            bid = (price * Decimal("0.99")).quantize(Decimal("0.01"))
            await other.place_order(symbol, "Bid", "Limit", price=bid, quantity=quantity)

        async def one(index: int) -> None:
            desk = client(session, index)
            for symbol in perps():
                await desk.place_order(symbol, "Bid", "Market", quantity=Decimal("0.01"))
            for k in range(ORDERS):
                price = PRICES["SOL_USDC"] * Decimal("0.92") + Decimal(k) / 2
                await desk.place_order("SOL_USDC", "Bid", "Limit", price=price, quantity=Decimal(1))

        await asyncio.gather(*(one(i) for i in range(desks)))


async def left(sandbox: SandboxProcess, desks: int) -> tuple[int, int]:
    from trading.backpack import Credentials, ExchangeSession

    orders = positions = 0
    async with ExchangeSession(api_url=sandbox.api_url, ws_url=sandbox.ws_url) as session:
        for index in range(desks):
            key = sandbox.keys[index]
            secret = key["api_secret"]
            c = session.client(
                Credentials(api_key=key["api_key"], api_secret=lambda s=secret: s), label="check"
            )
            orders += len(await c.open_orders())
            positions += len([p for p in await c.positions() if p.net_quantity != 0])
    return orders, positions


def setup_django(folder: Path, sandbox: SandboxProcess, desks: int):
    os.environ["DASHBOARD_STATE_DIR"] = str(folder / "state")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    os.environ["BACKPACK_API_URL"] = sandbox.api_url
    os.environ["BACKPACK_WS_URL"] = sandbox.ws_url
    os.environ["DASHBOARD_RELAY"] = "off"
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import crypto
    from accounts.models import Membership, Subaccount

    call_command("migrate", verbosity=0)
    admin = get_user_model().objects.create_user("ada", password="a long bench password 1")
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True, key=TOTP_KEY)
    for index in range(desks):
        key = sandbox.keys[index]
        subaccount = Subaccount.objects.create(
            name=f"Desk {index:02d}",
            api_public_key=key["api_key"],
            api_secret_sealed=crypto.seal(key["api_secret"]),
        )
        Membership.objects.create(user=admin, subaccount=subaccount, role="admin")
    return admin


async def pull(admin) -> tuple[float, Counter, Counter, int]:
    from django_otp.oath import TOTP

    from trading import exchange
    from trading.risk.kill import kill_switch_engage_all

    calls: Counter = Counter()
    limited: Counter = Counter()
    retries = 0

    def record(rec) -> None:
        nonlocal retries
        calls[rec.label] += rec.attempts
        retries += rec.attempts - 1
        if rec.status == 429:
            limited[rec.label] += 1

    exchange.on_new_session(lambda session: session.metrics.add_hook(record))
    code = f"{TOTP(bytes.fromhex(TOTP_KEY)).token():06d}"
    started = time.perf_counter()
    results = await kill_switch_engage_all(actor=admin, reason="bench", otp_code=code)
    wall = time.perf_counter() - started
    unclean = [s.name for s, r in results if not r.clean]
    if unclean:
        print(f"  not clean: {', '.join(unclean)}")
        print("  " + next(r for s, r in results if not r.clean).summary())
    await exchange.close_session()
    return wall, calls, limited, retries


def main() -> int:
    desks = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    load = os.getloadavg()[0]
    print(
        f"team kill switch: {desks} subaccounts x {ORDERS} open orders and 5 positions "
        f"(load {load:.2f})"
    )
    with tempfile.TemporaryDirectory() as folder:
        seed = bench_seed(Path(folder), desks)
        with SandboxProcess(seed=seed, maker=False) as sandbox:
            asyncio.run(arrange(sandbox, desks))
            before = asyncio.run(left(sandbox, desks))
            admin = setup_django(Path(folder), sandbox, desks)
            wall, calls, limited, retries = asyncio.run(pull(admin))
            after = asyncio.run(left(sandbox, desks))
    per = sorted(n for label, n in calls.items() if label.isdigit())  # a subaccount's pk
    public = sum(n for label, n in calls.items() if not label.isdigit())
    print(f"  before: {before[0]} open orders, {before[1]} positions on the sandbox")
    print(
        f"  wall time until all cancelled and closed: {wall:.2f} s (target {TARGET_S:.0f} s, "
        f"ratio {wall / TARGET_S:.2f})"
    )
    if per:
        print(
            f"  requests per subaccount: min {per[0]}, median {per[len(per) // 2]}, "
            f"max {per[-1]} (total {sum(per)}; plus {public} public)"
        )
    print(f"  429s received: {sum(limited.values())} (target 0); retried attempts: {retries}")
    print(f"  after: {after[0]} open orders, {after[1]} positions on the sandbox")
    return 0


if __name__ == "__main__":
    sys.exit(main())
