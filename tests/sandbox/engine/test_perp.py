"""Perpetuals: positions, PnL, reduceOnly, triggers, take-profit / stop-loss, funding."""

from __future__ import annotations

from decimal import Decimal

from .conftest import available, events_of, limit, market

PERP = "SOL_USDC_PERP"


def open_long(engine, sub=1, counterparty=2, price="100", quantity="2"):
    limit(engine, counterparty, "Ask", price, quantity, symbol=PERP)
    return limit(engine, sub, "Bid", price, quantity, symbol=PERP)


def test_fill_opens_opposite_positions_with_entry_price(engine):
    open_long(engine)

    long = engine.positions(1)[0]
    short = engine.positions(2)[0]
    assert (Decimal(long["netQuantity"]), Decimal(long["entryPrice"])) == (2, 100)
    assert (Decimal(short["netQuantity"]), Decimal(short["entryPrice"])) == (-2, 100)
    assert engine.open_interest(PERP)[0]["openInterest"] == "2"


def test_perp_orders_lock_no_spot_funds_but_pay_fees_in_usdc(engine):
    open_long(engine)

    # taker fee 0.0005 x 200 = 0.1; maker fee 0.0002 x 200 = 0.04
    assert available(engine, 1, "USDC") == Decimal("9999.9")
    assert available(engine, 2, "USDC") == Decimal("9999.96")
    assert engine.balance(1, "USDC")[1] == 0


def test_closing_realizes_pnl_into_usdc(engine):
    open_long(engine)
    limit(engine, 3, "Bid", "110", "2", symbol=PERP)

    limit(engine, 1, "Ask", "110", "2", symbol=PERP)  # close at 110: +20

    assert engine.positions(1) == []
    fees = Decimal("0.1") + Decimal("220") * Decimal("0.0005")
    assert available(engine, 1, "USDC") == Decimal("10000") + 20 - fees
    closing = [f for f in engine.fill_history(1) if f["side"] == "Ask"][0]
    assert closing["price"] == "110"


def test_unrealized_pnl_follows_the_mark_price(engine):
    open_long(engine)

    engine.set_mark_price(PERP, "90")

    position = engine.positions(1)[0]
    assert Decimal(position["pnlUnrealized"]) == Decimal("-20")
    assert position["markPrice"] == "90"
    collateral = engine.collateral(1)
    assert Decimal(collateral["pnlUnrealized"]) == Decimal("-20")
    assert Decimal(collateral["netEquity"]) == Decimal("9999.9") - 20


def test_partial_close_keeps_entry_and_flip_opens_at_fill_price(engine):
    open_long(engine, quantity="2")
    limit(engine, 3, "Bid", "105", "5", symbol=PERP)

    limit(engine, 1, "Ask", "105", "5", symbol=PERP)  # close 2 (+10), open short 3 at 105

    position = engine.positions(1)[0]
    assert Decimal(position["netQuantity"]) == Decimal("-3")
    assert Decimal(position["entryPrice"]) == Decimal("105")


def test_reduce_only_fills_at_most_the_position(engine):
    open_long(engine, quantity="2")
    limit(engine, 3, "Bid", "100", "5", symbol=PERP)

    order = market(engine, 1, "Ask", symbol=PERP, quantity="5", reduceOnly=True)

    assert Decimal(order["executedQuantity"]) == 2
    assert order["status"] == "Expired"
    assert engine.positions(1) == []


def test_resting_reduce_only_expires_once_position_is_gone(engine):
    open_long(engine, quantity="2")
    resting = limit(engine, 1, "Ask", "120", "2", symbol=PERP, reduceOnly=True)
    limit(engine, 3, "Bid", "100", "2", symbol=PERP)
    limit(engine, 1, "Ask", "100", "2", symbol=PERP)  # flat now

    limit(engine, 3, "Bid", "120", "1", symbol=PERP)

    assert engine.order(1, resting["id"])["status"] == "Expired"
    assert engine.order(1, resting["id"])["expiryReason"] == "ReduceOnlyNotReduced"
    assert engine.positions(1) == []


def test_stop_order_by_last_price_waits_then_fires(engine):
    open_long(engine, quantity="2")
    stop = market(engine, 1, "Ask", symbol=PERP, quantity="2", reduceOnly=True, triggerPrice="95")
    assert stop["status"] == "TriggerPending"
    limit(engine, 3, "Bid", "94", "5", symbol=PERP)
    assert engine.order(1, stop["id"])["status"] == "TriggerPending"

    limit(engine, 2, "Bid", "95", "0.1", symbol=PERP)  # a trade at 95: trigger
    limit(engine, 3, "Ask", "95", "0.1", symbol=PERP)

    fired = engine.order(1, stop["id"])
    assert fired["status"] == "Filled"
    assert "triggeredAt" in fired
    assert engine.positions(1) == []


def test_trigger_by_mark_price(engine):
    open_long(engine, quantity="2")
    limit(engine, 3, "Bid", "80", "5", symbol=PERP)
    stop = market(
        engine,
        1,
        "Ask",
        symbol=PERP,
        quantity="2",
        reduceOnly=True,
        triggerPrice="90",
        triggerBy="MarkPrice",
    )

    engine.set_mark_price(PERP, "91")
    assert engine.order(1, stop["id"])["status"] == "TriggerPending"
    engine.set_mark_price(PERP, "90")

    assert engine.order(1, stop["id"])["status"] == "Filled"
    assert engine.positions(1) == []


def test_trigger_that_cannot_execute_fails(engine):
    stop = market(
        engine, 1, "Ask", symbol=PERP, quantity="2", reduceOnly=True, triggerPrice="90"
    )  # no position: reduce only cannot reduce
    engine.drain_events()

    engine.set_mark_price(PERP, "90")  # last price is still unknown: nothing fires
    open_long(engine, sub=2, counterparty=3, price="90", quantity="0.1")

    assert engine.order(1, stop["id"])["status"] == "TriggerFailed"
    assert engine.order(1, stop["id"])["expiryReason"] == "ReduceOnlyNotReduced"
    kinds = [e["e"] for e in events_of(engine, "account.orderUpdate") if e["i"] == stop["id"]]
    assert kinds == ["triggerFailed"]


def test_take_profit_and_stop_loss_are_placed_when_the_order_fills_and_one_cancels_the_other(
    engine,
):
    limit(engine, 2, "Ask", "100", "2", symbol=PERP)

    entry = limit(
        engine,
        1,
        "Bid",
        "100",
        "2",
        symbol=PERP,
        takeProfitTriggerPrice="110",
        stopLossTriggerPrice="95",
    )

    pending = engine.open_orders(1, symbol=PERP)
    assert entry["status"] == "Filled"
    assert sorted((o["triggerPrice"], o["side"], o["reduceOnly"]) for o in pending) == [
        ("110", "Ask", True),
        ("95", "Ask", True),
    ]
    assert {o["relatedOrderId"] for o in pending} == {entry["id"]}

    limit(engine, 3, "Bid", "110", "5", symbol=PERP)
    limit(engine, 2, "Ask", "110", "0.1", symbol=PERP)  # last price 110: take profit

    assert engine.positions(1) == []
    statuses = {o["triggerPrice"]: engine.order(1, o["id"])["status"] for o in pending}
    assert statuses == {"110": "Filled", "95": "Cancelled"}  # one cancels the other
    assert engine.open_orders(1) == []


def test_cancel_a_pending_trigger(engine):
    stop = market(engine, 1, "Bid", symbol=PERP, quantity="1", triggerPrice="120")

    cancelled = engine.cancel_order(1, symbol=PERP, order_id=stop["id"])

    assert cancelled["status"] == "Cancelled"
    assert engine.open_orders(1) == []


def test_funding_moves_usdc_from_longs_to_shorts(engine):
    open_long(engine, quantity="2")
    engine.set_mark_price(PERP, "100")
    long_before = available(engine, 1, "USDC")
    short_before = available(engine, 2, "USDC")

    engine.settle_funding(PERP, "0.001")  # 0.1% of 200 notional

    assert available(engine, 1, "USDC") == long_before - Decimal("0.2")
    assert available(engine, 2, "USDC") == short_before + Decimal("0.2")
    assert Decimal(engine.positions(1)[0]["cumulativeFundingPayment"]) == Decimal("-0.2")
    rates = engine.funding_rates(PERP)
    assert rates[0]["fundingRate"] == "0.001"


def test_collateral_summary_is_consistent_with_positions(engine):
    open_long(engine, quantity="10")
    engine.set_mark_price(PERP, "105")

    summary = engine.collateral(1)

    equity = Decimal(summary["netEquity"])
    locked = Decimal(summary["netEquityLocked"])
    assert equity == Decimal("9999.5") + 50  # USDC after fee + unrealized at 105
    assert Decimal(summary["netEquityAvailable"]) == equity - locked
    assert locked == Decimal("1050") * (Decimal("0.1") + Decimal("0.0005"))
    assert Decimal(summary["marginFraction"]) == (equity / Decimal("1050")).quantize(
        Decimal("1e-8")
    )
    assert Decimal(summary["netExposureFutures"]) == Decimal("1050")


def test_max_order_quantity_respects_margin(engine):
    limit_qty = engine.max_order_quantity(1, symbol=PERP, side="Bid", price="100")

    quantity = Decimal(limit_qty["maxOrderQuantity"])
    assert limit(engine, 1, "Bid", "100", format(quantity, "f"), symbol=PERP)["status"] == "New"
    engine.cancel_open_orders(1, symbol=PERP)
    assert quantity > 900
    more = format(quantity + Decimal("0.1"), "f")
    try:
        limit(engine, 1, "Bid", "100", more, symbol=PERP)
        refused = False
    except Exception:  # noqa: BLE001 - the refusal itself is asserted in test_validation
        refused = True
    assert refused


def test_position_events(engine):
    open_long(engine, quantity="2")
    limit(engine, 3, "Bid", "100", "1", symbol=PERP)
    limit(engine, 1, "Ask", "100", "1", symbol=PERP)
    limit(engine, 3, "Bid", "100", "1", symbol=PERP)
    limit(engine, 1, "Ask", "100", "1", symbol=PERP)

    mine = [e for e in engine.drain_events() if e.stream == "account.positionUpdate"]
    sub1 = [(e.data["e"], e.data["q"]) for e in mine if e.subaccount_id == 1]
    assert sub1 == [("positionOpened", "2"), ("positionAdjusted", "1"), ("positionClosed", "0")]


def test_usdc_plus_net_cost_is_conserved_exactly_over_partial_closes(engine):
    def usdc_minus_cost():
        usdc = sum(sum(engine.balance(sub, "USDC")) for sub in (1, 2, 3, -1))
        cost = sum(Decimal(p["netCost"]) for sub in (1, 2, 3) for p in engine.positions(sub))
        return usdc - cost

    before = usdc_minus_cost()
    for price in ("100.01", "100.02", "100.04"):
        open_long(engine, price=price, quantity="0.1")
    for price in ("101.03", "99.97", "100.11"):  # close a third at a time: 1/3 of the cost
        limit(engine, 3, "Bid", price, "0.1", symbol=PERP)
        limit(engine, 1, "Ask", price, "0.1", symbol=PERP)

    assert engine.positions(1) == []
    assert usdc_minus_cost() == before


def test_estimated_liquidation_price_is_where_equity_meets_maintenance(engine):
    open_long(engine, quantity="50")  # 5,000 notional on 10,000 USDC

    position = engine.positions(1)[0]

    # 9,997.5 USDC after the taker fee; long 50 at cost 5,000; mmf 0.05
    # 9,997.5 + 50p - 5,000 = 50p x 0.05  ->  p = -4,997.5 / 47.5 < 0: cannot be liquidated
    assert position["estLiquidationPrice"] == "0.00"
    short = engine.positions(2)[0]
    # 9,999 + 5,000 - 50p = 2.5p  ->  p = 14,999 / 52.5
    expected = (Decimal("14999") / Decimal("52.5")).quantize(Decimal("0.01"))
    assert Decimal(short["estLiquidationPrice"]) == expected


def test_funding_is_settled_when_the_interval_ends(engine, clock):
    open_long(engine, quantity="2")
    engine.set_funding_rate(PERP, "-0.001")  # shorts pay longs
    next_ms = engine.mark_prices(PERP)[0]["nextFundingTimestamp"]

    assert engine.settle_due_funding() == []
    clock.now_us = next_ms * 1000
    assert engine.settle_due_funding() == [PERP]

    (payment,) = engine.funding_payments(1)
    assert (payment["symbol"], Decimal(payment["quantity"])) == (PERP, Decimal("0.2"))
    assert Decimal(engine.funding_payments(2)[0]["quantity"]) == Decimal("-0.2")
    assert engine.mark_prices(PERP)[0]["nextFundingTimestamp"] == next_ms + 28_800_000
    assert engine.settle_due_funding() == []


def test_resting_reduce_only_orders_are_cut_down_when_the_position_shrinks(engine):
    open_long(engine, quantity="2")
    first = limit(engine, 1, "Ask", "120", "2", symbol=PERP, reduceOnly=True)
    second = limit(engine, 1, "Ask", "124", "1", symbol=PERP, reduceOnly=True)
    limit(engine, 3, "Bid", "100", "1.5", symbol=PERP)
    engine.drain_events()

    limit(engine, 1, "Ask", "100", "1.5", symbol=PERP)  # position 2 -> 0.5

    assert engine.order(1, first["id"])["quantity"] == "0.5"
    assert engine.order(1, first["id"])["status"] == "New"
    assert engine.order(1, second["id"])["status"] == "Expired"
    assert engine.depth(PERP)["asks"] == [["120", "0.5"]]
    updates = [
        (e.data["e"], e.data["i"], e.data["q"])
        for e in engine.drain_events()
        if e.stream == "account.orderUpdate" and e.data["i"] in (first["id"], second["id"])
    ]
    assert updates == [
        ("orderModified", first["id"], "0.5"),
        ("orderExpired", second["id"], "1"),
    ]
