"""The ladder preview: prices on the tick (never more aggressive than asked), sizes on the
step adding up to the total, distributions, notional and fee; clear refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading.backpack import Market, Side
from trading.ladder.preview import Distribution, LadderError, LadderSpec, ladder_preview

D = Decimal
SOL = Market.from_wire(
    {
        "symbol": "SOL_USDC",
        "baseSymbol": "SOL",
        "quoteSymbol": "USDC",
        "marketType": "SPOT",
        "orderBookState": "Open",
        "filters": {
            "price": {"minPrice": "0.01", "tickSize": "0.05"},
            "quantity": {"minQuantity": "0.1", "stepSize": "0.1", "maxQuantity": "100"},
        },
    }
)


def spec(**changes) -> LadderSpec:
    values = {
        "symbol": "SOL_USDC",
        "side": Side.BID,
        "from_price": D("150"),
        "to_price": D("140"),
        "count": 5,
        "total_quantity": D("10"),
    }
    values.update(changes)
    return LadderSpec(**values)


def test_flat_ladder_prices_sizes_notional_and_fee() -> None:
    preview = ladder_preview(spec=spec(), market=SOL, fee_bps=D("2"))
    assert [r.price for r in preview.rows] == [D("150"), D("147.5"), D("145"), D("142.5"), D("140")]
    assert [r.quantity for r in preview.rows] == [D("2")] * 5
    assert preview.total_quantity == D("10")
    assert preview.total_notional == D("1450")
    assert preview.total_fee == D("0.29")
    assert preview.average_price == D("145")


def test_prices_round_away_from_the_book() -> None:
    bids = ladder_preview(
        spec=spec(from_price=D("150.02"), to_price=D("149.03"), count=2), market=SOL, fee_bps=D(0)
    )
    asks = ladder_preview(
        spec=spec(side=Side.ASK, from_price=D("150.02"), to_price=D("151.03"), count=2),
        market=SOL,
        fee_bps=D(0),
    )
    assert [r.price for r in bids.rows] == [D("150"), D("149")]
    assert [r.price for r in asks.rows] == [D("150.05"), D("151.05")]


@pytest.mark.parametrize(
    ("distribution", "sizes"),
    [
        (Distribution.INCREASING, ["0.6", "1.3", "2", "2.6", "3.5"]),
        (Distribution.DECREASING, ["3.5", "2.6", "2", "1.3", "0.6"]),
    ],
)
def test_weighted_sizes_are_on_the_step_and_add_up(distribution, sizes) -> None:
    preview = ladder_preview(spec=spec(distribution=distribution), market=SOL, fee_bps=D(0))
    assert [r.quantity for r in preview.rows] == [D(s) for s in sizes]
    assert sum(r.quantity for r in preview.rows) == D("10")
    assert all(r.quantity % D("0.1") == 0 for r in preview.rows)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": 1}, "A ladder has 2 to 50 orders."),
        ({"count": 51}, "A ladder has 2 to 50 orders."),
        ({"to_price": D("150")}, "Give two different positive prices for the ends of the ladder."),
        ({"total_quantity": D("10.05")}, "The total size must be positive and on the step of 0.1."),
        (
            {"to_price": D("149.9"), "count": 5},
            "5 orders do not fit between 150 and 149.9 on a tick of 0.05: use fewer orders or a "
            "wider range.",
        ),
        (
            {"total_quantity": D("0.4")},
            "Each order must be at least 0.1 SOL: the smallest would be 0.0; use fewer orders "
            "or a larger total size.",
        ),
    ],
)
def test_bad_ladders_say_what_to_change(changes, message) -> None:
    with pytest.raises(LadderError) as refused:
        ladder_preview(spec=spec(**changes), market=SOL, fee_bps=D(0))
    assert str(refused.value) == message
