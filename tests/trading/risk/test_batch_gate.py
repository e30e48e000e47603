"""The gate for a set of orders (a ladder) checks the whole set: children that each fit
alone but not together are refused, naming the first that breaks a limit."""

from __future__ import annotations

from decimal import Decimal

from trading.risk.batch import risk_gate_check_all
from trading.risk.gate import Exposure, GateOrder, Limits, risk_gate_check

D = Decimal
PERP = "SOL_USDC_PERP"


def bids(count: int, notional: str) -> list[GateOrder]:
    return [GateOrder(symbol=PERP, buy=True, notional=D(notional)) for _ in range(count)]


def test_children_that_fit_alone_are_refused_together_at_the_first_that_breaks() -> None:
    limits = Limits(max_position_notional_market=D("1000"))
    exposure = Exposure(markets={}, open_orders=0, net_equity=D("10000"))
    ladder = bids(5, "300")
    assert all(risk_gate_check(limits=limits, exposure=exposure, order=o).allowed for o in ladder)

    result, index = risk_gate_check_all(limits=limits, exposure=exposure, orders=ladder)

    assert (result.allowed, result.limit, index) == (False, "max_position_notional_market", 3)
    assert result.message == (
        "Order refused: max 100.00 USDC more in SOL_USDC_PERP (position limit per market "
        "1,000.00 USDC)."
    )


def test_open_orders_count_every_child() -> None:
    limits = Limits(max_open_orders=10)
    exposure = Exposure(markets={}, open_orders=7, net_equity=D("10000"))
    result, index = risk_gate_check_all(limits=limits, exposure=exposure, orders=bids(4, "10"))
    assert (result.limit, index) == ("max_open_orders", 3)
    passed, none = risk_gate_check_all(limits=limits, exposure=exposure, orders=bids(3, "10"))
    assert (passed.allowed, none) == (True, None)


def test_reduce_only_children_always_pass_and_add_nothing() -> None:
    limits = Limits(max_open_orders=0, reduce_only=True)
    exposure = Exposure(markets={}, open_orders=3, net_equity=D("10000"))
    closing = [GateOrder(symbol=PERP, buy=False, notional=D("500"), reduce_only=True)] * 3
    result, index = risk_gate_check_all(limits=limits, exposure=exposure, orders=closing)
    assert (result.allowed, index) == (True, None)
