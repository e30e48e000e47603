"""Benchmark: orders per second through the sandbox engine, in process.

Run: ``.venv/bin/python -m tests.bench.bench_engine``

A realistic mix on one spot and one perpetual market, ten subaccounts: 50 % resting
limit orders, 20 % crossing limit orders, 15 % cancels of a resting order, 15 % market
orders.  Orders go in as wire payloads (``execute_order``, exactly what the server
calls).  Printed for three event modes, the realistic one first (events routed by one
listener, payloads built only when read: what the sandbox server's listener does for
streams nobody subscribed); then every payload built and read; then no events at all.
Each line: orders per CPU second (robust on a shared machine) and per wall second, the
best of three runs interleaved across modes, and the ratio to the 50,000 orders/s
target (the named peer).
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from sandbox.engine import PERP, Asset, Engine, EngineError, Market

TARGET = 50_000
ORDERS = 40_000
REPEATS = 3  # best of: the machine is shared, the fastest run is the engine's own speed
SUBACCOUNTS = 10


def build_engine() -> Engine:
    """An engine with SOL_USDC and SOL_USDC_PERP and funded subaccounts."""
    clock = iter(range(1_700_000_000_000_000, 10**18, 50))
    markets = [
        Market("SOL_USDC", "SOL", "USDC", max_multiplier=None, min_multiplier=None),
        Market(
            "SOL_USDC_PERP",
            "SOL",
            "USDC",
            market_type=PERP,
            imf=Decimal("0.1"),
            max_multiplier=None,
            min_multiplier=None,
        ),
    ]
    assets = [Asset("USDC", collateral_weight=Decimal(1)), Asset("SOL")]
    engine = Engine(markets, assets, clock=lambda: next(clock))
    for sub in range(1, SUBACCOUNTS + 1):
        engine.deposit(sub, "USDC", "100000000")
        engine.deposit(sub, "SOL", "1000000")
    return engine


def build_commands(seed: int = 7) -> list[tuple[str, int, dict]]:
    """The order mix as (kind, subaccount, payload) tuples, generated up front."""
    rng = random.Random(seed)
    commands = []
    for _ in range(ORDERS):
        sub = rng.randint(1, SUBACCOUNTS)
        symbol = "SOL_USDC" if rng.random() < 0.6 else "SOL_USDC_PERP"
        side = rng.choice(("Bid", "Ask"))
        quantity = f"{rng.randint(1, 500) / 100:.2f}"
        roll = rng.random()
        if roll < 0.50:  # resting: away from the 100.00 mid
            offset = rng.randint(5, 200) / 100
            price = 100 - offset if side == "Bid" else 100 + offset
            payload = {"orderType": "Limit", "price": f"{price:.2f}", "quantity": quantity}
            kind = "order"
        elif roll < 0.70:  # crossing limit
            offset = rng.randint(0, 100) / 100
            price = 100 + offset if side == "Bid" else 100 - offset
            payload = {"orderType": "Limit", "price": f"{price:.2f}", "quantity": quantity}
            kind = "order"
        elif roll < 0.85:
            payload = {}
            kind = "cancel"
        else:
            payload = {"orderType": "Market", "quantity": quantity}
            kind = "order"
        payload.update(symbol=symbol, side=side, selfTradePrevention="RejectMaker")
        commands.append((kind, sub, payload))
    return commands


def _listener(mode: str, counts: list[int]):
    """The one listener a mode installs (the server installs exactly one), or None.

    ``routed`` does what the sandbox server's listener does for every event: route it by
    stream, subaccount and symbol without touching ``data`` (payloads are built only for
    streams somebody subscribed); ``built`` also reads every payload.
    """
    if mode == "off":
        return None
    routes: dict[str, int] = {}

    def routed(event) -> None:
        counts[0] += 1
        if event.subaccount_id is not None:
            key = event.stream
        else:
            key = event.symbol or event.stream
        routes[key] = routes.get(key, 0) + 1

    def built(event) -> None:
        routed(event)
        counts[1] += len(event.data)

    return routed if mode == "routed" else built


def run(commands: list[tuple[str, int, dict]], mode: str) -> tuple[float, float, int, int]:
    """Run the mix; returns (CPU seconds, wall seconds, commands, events)."""
    engine = build_engine()
    engine.keep_events = False
    counts = [0, 0]
    listener = _listener(mode, counts)
    if listener is not None:
        engine.listeners.append(listener)
    resting: dict[int, list[tuple[str, str]]] = {sub: [] for sub in range(1, SUBACCOUNTS + 1)}
    cpu_started = time.process_time()
    started = time.perf_counter()
    for kind, sub, payload in commands:
        try:
            if kind == "order":
                result = engine.execute_order(sub, payload)
                if result["status"] in ("New", "PartiallyFilled"):
                    resting[sub].append((payload["symbol"], result["id"]))
            else:
                mine = resting[sub]
                if mine:
                    symbol, order_id = mine.pop()
                    engine.cancel_order(sub, symbol=symbol, order_id=order_id)
        except EngineError:
            pass  # an order cancelled by a fill or STP, or a margin refusal
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return cpu, wall, len(commands), counts[0]


MODES = {
    "routed": "realistic (server): events routed, payloads lazy",
    "built": "every event payload built and read",
    "off": "no listener, no events",
}


def main() -> None:
    """Print orders/s (per CPU second and per wall second) for each event mode."""
    commands = build_commands()
    print(
        f"sandbox engine: {len(commands)} commands, "
        "mix 50% rest / 20% cross / 15% cancel / 15% market, 2 markets, 10 subaccounts"
    )
    print(
        f"target {TARGET:,} orders/s (the named peer); best of {REPEATS} interleaved runs; "
        "CPU time is what the engine used"
    )
    runs: dict[str, list[tuple[float, float, int, int]]] = {mode: [] for mode in MODES}
    for _ in range(REPEATS):  # interleaved: a busy moment on the machine hits every mode
        for mode in MODES:
            runs[mode].append(run(commands, mode))
    for mode, label in MODES.items():
        cpu = min(r[0] for r in runs[mode])
        wall = min(r[1] for r in runs[mode])
        count, events = runs[mode][0][2], runs[mode][0][3]
        print(
            f"  {label:50s}: {count / cpu:9,.0f} orders/s CPU ({count / cpu / TARGET:.2f}x target)"
            f", {count / wall:9,.0f} orders/s wall, {events} events"
        )


if __name__ == "__main__":
    main()
