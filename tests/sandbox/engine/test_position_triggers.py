"""Take-profit / stop-loss on an open position: reduce-only trigger orders whose
``triggerQuantity`` is a percent of the position when they fire; mark versus last price;
expiry once the position is gone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.engine import EngineError

from .conftest import limit, market

PERP = "SOL_USDC_PERP"


def open_long(engine, quantity: str = "2", price: str = "100") -> None:
    limit(engine, 2, "Ask", price, quantity, symbol=PERP)
    market(engine, 1, "Bid", symbol=PERP, quantity=quantity)


def stop(engine, trigger: str, quantity: str = "100%", **extra) -> dict:
    return market(
        engine,
        1,
        "Ask",
        symbol=PERP,
        reduceOnly=True,
        triggerPrice=trigger,
        triggerQuantity=quantity,
        **extra,
    )


def test_half_of_the_position_is_closed_when_the_take_profit_fires(engine):
    open_long(engine, "3")
    take_profit = stop(engine, "110", "50%", triggerBy="MarkPrice")
    assert (take_profit["status"], take_profit["triggerQuantity"]) == ("TriggerPending", "50%")
    limit(engine, 3, "Bid", "109", "5", symbol=PERP)

    engine.set_mark_price(PERP, "109.99")
    assert engine.net_position(1, PERP) == Decimal("3")
    engine.set_mark_price(PERP, "110")
    # 50 % of 3 is 1.5, on the 0.1 step
    assert engine.net_position(1, PERP) == Decimal("1.5")
    fired = engine.order_history(1, order_id=take_profit["id"])[0]
    assert (fired["status"], fired["quantity"]) == ("Filled", "1.5")


def test_mark_price_trigger_ignores_trades_and_last_price_trigger_ignores_the_mark(engine):
    open_long(engine, "2")
    stop(engine, "95", "50%", triggerBy="MarkPrice")
    by_last = stop(engine, "95", "50%", triggerBy="LastPrice")
    limit(engine, 3, "Bid", "96", "1", symbol=PERP)

    engine.set_mark_price(PERP, "94")  # the mark crosses; the trade it makes is at 96
    assert [o["id"] for o in engine.open_orders(1, PERP)] == [by_last["id"]]
    assert engine.net_position(1, PERP) == Decimal("1")

    engine.set_mark_price(PERP, "100")
    limit(engine, 3, "Bid", "95", "0.1", symbol=PERP)
    limit(engine, 3, "Bid", "94", "5", symbol=PERP)
    market(engine, 2, "Ask", symbol=PERP, quantity="0.1")  # a trade at 95
    assert engine.open_orders(1, PERP) == []
    assert engine.net_position(1, PERP) == Decimal("0.5")


def test_position_stops_expire_when_the_position_is_closed(engine):
    open_long(engine, "2")
    take_profit = stop(engine, "120")
    stop_loss = stop(engine, "80")
    limit(engine, 3, "Bid", "100", "2", symbol=PERP)
    market(engine, 1, "Ask", symbol=PERP, quantity="2", reduceOnly=True)  # closed by hand

    assert engine.open_orders(1, PERP) == []
    for order in (take_profit, stop_loss):
        row = engine.order_history(1, order_id=order["id"])[0]
        assert (row["status"], row["expiryReason"]) == ("Expired", "StopWithoutPosition")


def test_whole_position_stop_loss_by_last_price_closes_it_all(engine):
    open_long(engine, "2")
    stop(engine, "90")
    limit(engine, 3, "Bid", "89", "5", symbol=PERP)
    limit(engine, 2, "Ask", "90", "0.1", symbol=PERP)
    market(engine, 3, "Bid", symbol=PERP, quantity="0.1")  # last price 90
    assert engine.net_position(1, PERP) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"triggerQuantity": "150%"}, "Invalid triggerQuantity: a percent must be at most 100"),
        ({"triggerQuantity": "abc%"}, "Invalid triggerQuantity: 'abc' is not a decimal"),
        ({"reduceOnly": False}, "A triggerQuantity in percent requires reduceOnly"),
        ({"quantity": "1"}, "Specify either quantity or a triggerQuantity in percent"),
    ],
)
def test_bad_percent_trigger_quantities_are_refused(engine, extra, message):
    open_long(engine, "2")
    payload = {
        "symbol": PERP,
        "side": "Ask",
        "orderType": "Market",
        "reduceOnly": True,
        "triggerPrice": "90",
        "triggerQuantity": "50%",
    }
    payload.update(extra)
    with pytest.raises(EngineError) as refused:
        engine.execute_order(1, payload)
    assert refused.value.message == message
    assert engine.open_orders(1, PERP) == []
