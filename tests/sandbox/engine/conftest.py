"""Fixtures for the engine tests: a small exchange with a deterministic clock."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from sandbox.engine import PERP, Asset, Engine, Market, Token

START_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z


class FakeClock:
    """Engine time that only moves when a test moves it (1 ms per reading)."""

    def __init__(self, now_us: int = START_US) -> None:
        self.now_us = now_us

    def __call__(self) -> int:
        self.now_us += 1000
        return self.now_us

    def advance(self, seconds: float) -> None:
        self.now_us += int(seconds * 1_000_000)


SPOT = Market(
    "SOL_USDC",
    "SOL",
    "USDC",
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.01"),
    min_quantity=Decimal("0.01"),
    max_quantity=Decimal("10000"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.002"),
)
PERP_MARKET = Market(
    "SOL_USDC_PERP",
    "SOL",
    "USDC",
    market_type=PERP,
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.1"),
    min_quantity=Decimal("0.1"),
    maker_fee=Decimal("0.0002"),
    taker_fee=Decimal("0.0005"),
    imf=Decimal("0.1"),
    mmf=Decimal("0.05"),
    open_interest_limit=Decimal("1000"),
)
ASSETS = [
    Asset(
        "USDC",
        (Token("Solana", withdrawal_fee=Decimal("1"), minimum_withdrawal=Decimal("5")),),
        collateral_weight=Decimal(1),
    ),
    Asset("SOL", (Token("Solana", withdrawal_fee=Decimal("0.01")),)),
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(clock: FakeClock) -> Engine:
    """SOL_USDC and SOL_USDC_PERP; subaccounts 1-3 hold 10,000 USDC and 100 SOL each."""
    exchange = Engine([SPOT, PERP_MARKET], ASSETS, clock=clock)
    for sub in (1, 2, 3):
        exchange.deposit(sub, "USDC", "10000")
        exchange.deposit(sub, "SOL", "100")
    exchange.drain_events()
    return exchange


def limit(
    engine: Engine, sub: int, side: str, price: str, quantity: str, **extra: Any
) -> dict[str, Any]:
    """Place a limit order (SOL_USDC unless ``symbol`` is given)."""
    payload = {
        "symbol": "SOL_USDC",
        "side": side,
        "orderType": "Limit",
        "price": price,
        "quantity": quantity,
    }
    payload.update(extra)
    return engine.execute_order(sub, payload)


def market(engine: Engine, sub: int, side: str, **extra: Any) -> dict[str, Any]:
    """Place a market order (SOL_USDC unless ``symbol`` is given)."""
    payload = {"symbol": "SOL_USDC", "side": side, "orderType": "Market"}
    payload.update(extra)
    return engine.execute_order(sub, payload)


def available(engine: Engine, sub: int, asset: str) -> Decimal:
    return engine.balance(sub, asset)[0]


def locked(engine: Engine, sub: int, asset: str) -> Decimal:
    return engine.balance(sub, asset)[1]


def events_of(engine: Engine, stream_prefix: str) -> list[dict[str, Any]]:
    """Payloads of drained events whose stream starts with ``stream_prefix``."""
    return [e.data for e in engine.drain_events() if e.stream.startswith(stream_prefix)]


D: Callable[[str], Decimal] = Decimal
