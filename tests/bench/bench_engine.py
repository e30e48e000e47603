"""Benchmark: orders per second through the sandbox engine, in process.

Run: ``.venv/bin/python -m tests.bench.bench_engine``

A realistic mix on one spot and one perpetual market, ten subaccounts: 50 % resting
limit orders, 20 % crossing limit orders, 15 % cancels of a resting order, 15 % market
orders.  Orders go in as wire payloads (``execute_order``, exactly what the server
calls).  Printed: orders/s with events delivered to a listener (what the server does),
with events only queued and drained, and with events off; the ratio to the 50,000
orders/s target is the named peer.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from sandbox.engine import PERP, Asset, Engine, EngineError, Market

TARGET = 50_000
ORDERS = 60_000
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


def run(commands: list[tuple[str, int, dict]], mode: str) -> tuple[float, int, int]:
    """Run the mix; returns (seconds, commands, events)."""
    engine = build_engine()
    delivered = [0]
    if mode == "listener":
        engine.keep_events = False

        def listener(event) -> None:
            delivered[0] += 1

        engine.listeners.append(listener)
    elif mode == "off":
        engine.keep_events = False
    resting: dict[int, list[tuple[str, str]]] = {sub: [] for sub in range(1, SUBACCOUNTS + 1)}
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
        if mode == "drain" and len(engine._events) > 10_000:
            delivered[0] += len(engine.drain_events())
    elapsed = time.perf_counter() - started
    if mode == "drain":
        delivered[0] += len(engine.drain_events())
    return elapsed, len(commands), delivered[0]


def main() -> None:
    """Print orders/s for each event mode and the ratio to the target."""
    commands = build_commands()
    print(
        f"sandbox engine: {len(commands)} commands, "
        "mix 50% rest / 20% cross / 15% cancel / 15% market"
    )
    for mode in ("listener", "drain", "off"):
        elapsed, count, events = run(commands, mode)
        rate = count / elapsed
        print(
            f"  events {mode:8s}: {rate:10,.0f} orders/s  ({elapsed:.2f} s, {events} events)"
            f"  ratio to target {TARGET:,}/s: {rate / TARGET:.2f}x"
        )


if __name__ == "__main__":
    main()
