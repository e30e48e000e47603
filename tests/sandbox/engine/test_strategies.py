"""Scheduled strategies (TWAP): schedule by the engine's clock, slice sizes, randomisation
bounds, slippage, reduce-only, completion, cancellation, history; shapes as the spec's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sandbox.engine import Engine, EngineError
from sandbox.engine.strategy_types import RANDOM_HIGH, RANDOM_LOW
from tests.spec_files import SPEC_PATH

from .conftest import ASSETS, SPOT, FakeClock, limit, market

PERP = "SOL_USDC_PERP"


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def check(spec: dict, schema_name: str, value: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    jsonschema.validate(value, schema)


def twap(engine, sub: int = 1, **extra: Any) -> dict[str, Any]:
    payload = {
        "strategyType": "Scheduled",
        "symbol": "SOL_USDC",
        "side": "Bid",
        "quantity": "10",
        "duration": 5000,
        "interval": 1000,
    }
    payload.update(extra)
    return engine.create_strategy(sub, payload)


def slices_of(engine, strategy_id: str, sub: int = 1) -> list[dict[str, Any]]:
    return [
        o
        for o in engine.order_history(sub, sort_direction="Asc")
        if o.get("strategyId") == strategy_id
    ]


def test_twap_runs_one_slice_per_interval_and_completes(engine, clock, spec):
    limit(engine, 2, "Ask", "20", "50")
    created = twap(engine)
    check(spec, "StrategyType", created)
    assert (created["status"], created["executedQuantity"]) == ("Running", "0")

    assert engine.run_due_strategies() == 0  # nothing before the first interval ends
    clock.advance(1)
    assert engine.run_due_strategies() == 1
    assert (
        engine.get_strategy(1, symbol="SOL_USDC", strategy_id=created["id"])["executedQuantity"]
        == "2"
    )
    clock.advance(2.5)  # two more intervals ended: both slices run, no more
    assert engine.run_due_strategies() == 2
    assert engine.run_due_strategies() == 0
    clock.advance(1.5)
    assert engine.run_due_strategies() == 2

    assert engine.open_strategies(1) == []
    (done,) = engine.strategy_history(1)
    check(spec, "Strategy", done)
    assert (done["status"], Decimal(done["executedQuantity"])) == ("Completed", Decimal("10"))
    assert Decimal(done["executedQuoteQuantity"]) == Decimal("200")
    slices = slices_of(engine, created["id"])
    assert [Decimal(o["executedQuantity"]) for o in slices] == [Decimal("2")] * 5
    times = [int(o["id"]) for o in slices]
    assert times == sorted(times)


def test_slice_order_updates_carry_the_strategy_id(engine, clock):
    limit(engine, 2, "Ask", "20", "50")
    created = twap(engine, duration=1000)
    engine.drain_events()
    clock.advance(1)
    engine.run_due_strategies()
    updates = [e.data for e in engine.drain_events() if e.stream == "account.orderUpdate"]
    mine = [u for u in updates if u.get("H") == int(created["id"])]
    assert [u["e"] for u in mine] == ["orderAccepted", "orderFill"]


def test_randomised_slices_stay_within_the_documented_bounds(engine, clock):
    limit(engine, 2, "Ask", "20", "100")
    created = twap(engine, quantity="100", duration=20_000, randomizedIntervalQuantity=True)
    for _ in range(20):
        clock.advance(1)
        engine.run_due_strategies()
    sizes = [Decimal(o["executedQuantity"]) for o in slices_of(engine, created["id"])]
    assert len(sizes) == 20 and sum(sizes) == Decimal("100")
    left = Decimal("100")
    for index, size in enumerate(sizes[:-1]):
        even = left / (20 - index)
        assert RANDOM_LOW * even - Decimal("0.01") <= size <= RANDOM_HIGH * even, index
        left -= size
    assert len(set(sizes)) > 3  # really randomised, not an even split


def test_cancel_stops_the_schedule(engine, clock, spec):
    limit(engine, 2, "Ask", "20", "50")
    created = twap(engine)
    clock.advance(2)
    engine.run_due_strategies()
    cancelled = engine.cancel_strategy(1, symbol="SOL_USDC", strategy_id=created["id"])
    check(spec, "StrategyType", cancelled)
    assert (cancelled["status"], cancelled["executedQuantity"]) == ("Cancelled", "4")
    clock.advance(10)
    assert engine.run_due_strategies() == 0
    assert len(slices_of(engine, created["id"])) == 2
    with pytest.raises(EngineError) as gone:
        engine.get_strategy(1, symbol="SOL_USDC", strategy_id=created["id"])
    assert (gone.value.code, gone.value.message) == ("RESOURCE_NOT_FOUND", "Strategy not found")
    assert [s["status"] for s in engine.strategy_history(1)] == ["Cancelled"]


def test_cancel_all_on_a_market_and_client_strategy_id(engine):
    first = twap(engine, clientStrategyId=7)
    twap(engine, symbol=PERP)
    found = engine.get_strategy(1, symbol="SOL_USDC", client_strategy_id=7)
    assert found["id"] == first["id"] and found["clientStrategyId"] == 7
    cancelled = engine.cancel_strategies(1, symbol="SOL_USDC")
    assert [s["id"] for s in cancelled] == [first["id"]]
    assert [s["symbol"] for s in engine.open_strategies(1)] == [PERP]
    assert engine.open_strategies(2) == []  # another subaccount sees none of them


def test_step_brings_the_next_slice_to_now(engine, clock):
    limit(engine, 2, "Ask", "20", "50")
    created = twap(engine, duration=600_000, interval=60_000, quantity="10")
    assert engine.step_strategies() == 1
    assert engine.run_due_strategies() == 0
    clock.advance(60)
    assert engine.run_due_strategies() == 1  # the rest of the schedule moved with it
    assert [o["executedQuantity"] for o in slices_of(engine, created["id"])] == ["1", "1"]


def test_unfilled_slices_carry_over_and_end_terminated_when_liquidity_is_short(engine, clock):
    limit(engine, 2, "Ask", "20", "3")
    created = twap(engine, quantity="4", duration=2000)
    clock.advance(1)
    engine.run_due_strategies()  # 2 filled
    clock.advance(1)
    engine.run_due_strategies()  # the last slice wants 2, only 1 left on the book
    (done,) = engine.strategy_history(1)
    assert (done["id"], done["status"], done["cancelReason"]) == (
        created["id"],
        "Terminated",
        "InsufficientLiquidity",
    )
    assert done["executedQuantity"] == "3"


def test_slippage_tolerance_bounds_each_slice(engine, clock):
    limit(engine, 2, "Ask", "20", "1")
    limit(engine, 2, "Ask", "21", "10")
    created = twap(
        engine, quantity="2", duration=1000, slippageTolerance="1", slippageToleranceType="Percent"
    )
    clock.advance(1)
    engine.run_due_strategies()
    (child,) = slices_of(engine, created["id"])
    assert (child["orderType"], child["price"], child["executedQuantity"]) == (
        "Limit",
        "20.2",
        "1",
    )
    assert engine.strategy_history(1)[0]["slippageToleranceType"] == "Percent"


def test_reduce_only_strategy_stops_when_the_position_is_gone(engine, clock):
    limit(engine, 2, "Ask", "100", "1", symbol=PERP)
    market(engine, 1, "Bid", symbol=PERP, quantity="1")  # long 1
    limit(engine, 3, "Bid", "99", "10", symbol=PERP)
    created = twap(engine, symbol=PERP, side="Ask", quantity="2", duration=2000, reduceOnly=True)
    clock.advance(1)
    engine.run_due_strategies()
    assert engine.net_position(1, PERP) == 0
    clock.advance(1)
    engine.run_due_strategies()
    (done,) = engine.strategy_history(1)
    assert (done["id"], done["status"], done["cancelReason"], done["executedQuantity"]) == (
        created["id"],
        "Terminated",
        "ReduceOnlyNotReduced",
        "1",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": None}, "Scheduled strategies must specify a quantity"),
        ({"interval": 500}, "Interval must be at least 1000 ms"),
        ({"duration": 500}, "Duration must be at least one interval"),
        ({"duration": "5000"}, "Invalid duration: expected a positive number of milliseconds"),
        ({"quantity": "0.04"}, "Quantity per interval is below the minimum allowed value"),
        ({"quantity": "1.001"}, "Quantity decimal too long"),
        ({"timeInForce": "GTC"}, "Invalid timeInForce: a strategy's orders are IOC or FOK"),
        ({"postOnly": True}, "Scheduled strategies cannot be post only"),
        ({"reduceOnly": True}, "Reduce only orders are only supported on perpetual markets"),
        ({"strategyType": "Grid"}, "Invalid strategyType: expected Scheduled"),
        (
            {"slippageToleranceType": "Percent"},
            "slippageToleranceType requires a slippageTolerance",
        ),
    ],
)
def test_bad_strategies_are_refused_with_a_clear_message(engine, changes, message):
    payload = {
        "strategyType": "Scheduled",
        "symbol": "SOL_USDC",
        "side": "Bid",
        "quantity": "10",
        "duration": 5000,
        "interval": 1000,
    }
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not None}
    with pytest.raises(EngineError) as refused:
        engine.create_strategy(1, payload)
    assert refused.value.message == message
    assert engine.open_strategies(1) == []


@settings(max_examples=40, deadline=None)
@given(
    steps=st.integers(min_value=100, max_value=100_000),
    slices=st.integers(min_value=1, max_value=30),
    randomized=st.booleans(),
)
def test_any_twap_fills_exactly_its_quantity_in_its_slices_within_bounds(
    steps: int, slices: int, randomized: bool
) -> None:
    clock = FakeClock()
    engine = Engine([SPOT], ASSETS, clock=clock)
    engine.deposit(1, "USDC", "100000")
    engine.deposit(2, "SOL", "1000")
    limit(engine, 2, "Ask", "20", "1000")
    quantity = Decimal(steps) / 100
    assume(quantity / slices >= SPOT.min_quantity)
    created = twap(
        engine,
        quantity=format(quantity, "f"),
        duration=slices * 1000,
        randomizedIntervalQuantity=randomized,
    )
    for _ in range(slices):
        clock.advance(1)
        engine.run_due_strategies()
    (done,) = engine.strategy_history(1)
    assert (done["status"], Decimal(done["executedQuantity"])) == ("Completed", quantity)
    sizes = [Decimal(o["executedQuantity"]) for o in slices_of(engine, created["id"])]
    left = quantity
    for index, size in enumerate(sizes[:-1]):
        even = left / (slices - index)
        low, high = (RANDOM_LOW, RANDOM_HIGH) if randomized else (Decimal(1), Decimal(1))
        assert low * even - SPOT.step_size <= size <= high * even
        left -= size
