"""Settlement and position history: what each perpetual fill and funding interval
settles, and how the history routes filter, page and sort."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.engine import EngineError
from sandbox.engine.orders import us_to_iso

from .conftest import limit

PERP = "SOL_USDC_PERP"


def trade(engine, seller, buyer, price, quantity, *, taker="buyer"):
    """One perp trade between two subaccounts (the taker given by ``taker``)."""
    if taker == "buyer":
        limit(engine, seller, "Ask", price, quantity, symbol=PERP)
        limit(engine, buyer, "Bid", price, quantity, symbol=PERP)
    else:
        limit(engine, buyer, "Bid", price, quantity, symbol=PERP)
        limit(engine, seller, "Ask", price, quantity, symbol=PERP)


def rows(engine, sub, **filters):
    return [
        (row["source"], Decimal(row["quantity"]), row.get("positionId"))
        for row in engine.settlement_history(sub, sort_direction="Asc", **filters)
    ]


def test_opening_fill_settles_only_its_fee(engine):
    trade(engine, 2, 1, "100", "2")

    (position,) = engine.positions(1)
    # taker fee 0.0005 x 200
    assert rows(engine, 1) == [("TradingFees", Decimal("-0.1"), position["positionId"])]


def test_closing_fill_settles_realized_pnl_and_fee_on_the_position(engine):
    trade(engine, 2, 1, "100", "2")
    position_id = engine.positions(1)[0]["positionId"]

    trade(engine, 1, 3, "110", "2")  # sub 1 closes at 110 as maker: +20, fee 0.0002 x 220

    assert rows(engine, 1) == [
        ("TradingFees", Decimal("-0.1"), position_id),
        ("RealizePnl", Decimal("20"), position_id),
        ("TradingFees", Decimal("-0.044"), position_id),
    ]
    sequences = [row["engineSequence"] for row in engine.settlement_history(1)]
    assert sequences == sorted(sequences, reverse=True)


def test_a_reversing_fill_closes_the_position_and_opens_a_new_one(engine):
    trade(engine, 2, 1, "100", "2")
    first_id = engine.positions(1)[0]["positionId"]
    engine.drain_events()

    trade(engine, 1, 3, "105", "5", taker="seller")  # close 2 (+10), open short 3

    (second,) = engine.positions(1)
    assert second["positionId"] != first_id
    assert Decimal(second["netQuantity"]) == Decimal("-3")
    # taker fee 0.0005: 0.105 on the closing 2, 0.1575 on the opening 3
    assert rows(engine, 1)[1:] == [
        ("RealizePnl", Decimal("10"), first_id),
        ("TradingFees", Decimal("-0.105"), first_id),
        ("TradingFees", Decimal("-0.1575"), second["positionId"]),
    ]
    kinds = [
        (e.data["e"], e.data["i"])
        for e in engine.drain_events()
        if e.stream == "account.positionUpdate" and e.subaccount_id == 1
    ]
    assert kinds == [("positionClosed", first_id), ("positionOpened", second["positionId"])]
    (fill,) = [f for f in engine.fill_history(1) if f["side"] == "Ask"]
    assert Decimal(fill["fee"]) == Decimal("0.2625")


def test_position_history_row_of_a_closed_position(engine, clock):
    trade(engine, 2, 1, "100", "1")
    trade(engine, 2, 1, "102", "1")  # entry 101
    engine.set_mark_price(PERP, "104")
    engine.settle_funding(PERP, "0.001")  # long pays 2 x 104 x 0.001
    trade(engine, 1, 3, "106", "2")  # +10 realized

    (row,) = engine.position_history(1)

    assert row["state"] == "Closed"
    assert (row["netQuantity"], row["netCost"], row["unrealizedPnl"]) == ("0", "0", "0")
    assert Decimal(row["entryPrice"]) == Decimal("101")
    assert Decimal(row["closingPrice"]) == Decimal("106")
    assert Decimal(row["cumulativePnlRealized"]) == Decimal("10")
    assert Decimal(row["fundingQuantity"]) == Decimal("-0.208")
    assert Decimal(row["fees"]) == Decimal("0.0005") * 202 + Decimal("0.0002") * 212
    assert Decimal(row["closedVolume"]) == Decimal("2")
    assert row["openedAt"] < row["closedAt"]
    settled = rows(engine, 1)
    assert sum(q for source, q, _ in settled if source == "RealizePnl") == Decimal("10")
    assert [q for source, q, _ in settled if source == "FundingPayment"] == [Decimal("-0.208")]


def test_position_history_shows_open_positions_at_mark_and_filters_by_state(engine):
    trade(engine, 2, 1, "100", "2")
    trade(engine, 1, 3, "100", "2")
    trade(engine, 2, 1, "100", "1")
    engine.set_mark_price(PERP, "90")

    (open_row,) = engine.position_history(1, state="Open")
    (closed_row,) = engine.position_history(1, state="Closed")

    assert Decimal(open_row["unrealizedPnl"]) == Decimal("-10")
    assert open_row["markPrice"] == "90"
    assert "closedAt" not in open_row
    assert int(closed_row["id"]) < int(open_row["id"])
    assert [r["id"] for r in engine.position_history(1)] == [open_row["id"], closed_row["id"]]
    assert engine.position_history(1, market_type="SPOT") == []


def test_history_pages_and_sorts(engine):
    for price in ("100", "101", "102"):
        trade(engine, 2, 1, price, "1")
    ascending = engine.settlement_history(1, sort_direction="Asc")
    descending = engine.settlement_history(1)

    assert ascending == descending[::-1]
    assert engine.settlement_history(1, sort_direction="Asc", limit=2, offset=1) == ascending[1:3]
    assert engine.settlement_history(1, source="FundingPayment") == []
    assert len(engine.settlement_history(1, source="TradingFees")) == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.settlement_history(1, source="Fees"), "Invalid source: expected one of"),
        (lambda e: e.position_history(1, state="Gone"), "Invalid state: expected Open or Closed"),
        (lambda e: e.position_history(1, limit=0), "Limit must be between 1 and 1000"),
        (
            lambda e: e.funding_payments(1, sort_direction="Up"),
            "Invalid sortDirection: expected Asc or Desc",
        ),
    ],
)
def test_history_refuses_bad_filters(engine, call, message):
    with pytest.raises(EngineError) as refused:
        call(engine)

    assert refused.value.message.startswith(message)


def test_funding_payment_rows_match_funding_settlements(engine):
    trade(engine, 2, 1, "100", "2")
    engine.set_mark_price(PERP, "100")

    engine.settle_funding(PERP, "0.001")
    engine.settle_funding(PERP, "-0.0005")

    payments = [Decimal(p["quantity"]) for p in engine.funding_payments(1, sort_direction="Asc")]
    assert payments == [Decimal("-0.2"), Decimal("0.1")]
    assert [q for _, q, _ in rows(engine, 1, source="FundingPayment")] == payments
    assert [q for _, q, _ in rows(engine, 2, source="FundingPayment")] == [
        Decimal("0.2"),
        Decimal("-0.1"),
    ]


def test_funding_settled_early_ends_the_interval_now_and_keeps_the_schedule(engine, clock):
    trade(engine, 2, 1, "100", "1")
    due_ms = engine.mark_prices(PERP)[0]["nextFundingTimestamp"]

    engine.settle_funding(PERP, "0.001")

    (payment,) = engine.funding_payments(1)
    (settlement,) = engine.settlement_history(1, source="FundingPayment")
    assert payment["intervalEndTimestamp"] <= settlement["timestamp"]
    assert engine.mark_prices(PERP)[0]["nextFundingTimestamp"] == due_ms
    clock.now_us = due_ms * 1000
    assert engine.settle_due_funding() == [PERP]
    latest = engine.funding_payments(1)[0]
    assert latest["intervalEndTimestamp"] == us_to_iso(due_ms * 1000)
