"""Stream events and market-data queries: depth sequencing, bookTicker, trades, order
updates, klines, tickers."""

from __future__ import annotations

from decimal import Decimal

from .conftest import events_of, limit, market


def apply_depth(book: dict[str, dict[Decimal, Decimal]], event: dict) -> None:
    for side, key in (("bids", "b"), ("asks", "a")):
        for price, quantity in event[key]:
            if Decimal(quantity) == 0:
                book[side].pop(Decimal(price), None)
            else:
                book[side][Decimal(price)] = Decimal(quantity)


def as_book(snapshot: dict) -> dict[str, dict[Decimal, Decimal]]:
    return {side: {Decimal(p): Decimal(q) for p, q in snapshot[side]} for side in ("bids", "asks")}


def test_depth_deltas_replayed_on_a_snapshot_give_the_live_book(engine):
    limit(engine, 1, "Bid", "19", "1")
    limit(engine, 2, "Ask", "21", "2")
    snapshot = engine.depth("SOL_USDC")
    engine.drain_events()
    limit(engine, 3, "Bid", "19.5", "3")
    limit(engine, 3, "Ask", "20.5", "1")
    market(engine, 1, "Bid", quantity="2")  # takes 20.5 and part of 21
    engine.cancel_order(1, symbol="SOL_USDC", order_id=engine.open_orders(1)[0]["id"])

    deltas = events_of(engine, "depth.SOL_USDC")

    book = as_book(snapshot)
    expected_first = int(snapshot["lastUpdateId"]) + 1
    for delta in deltas:
        assert delta["U"] == expected_first  # no gap, no overlap
        assert delta["u"] >= delta["U"]
        expected_first = delta["u"] + 1
        apply_depth(book, delta)
    assert book == as_book(engine.depth("SOL_USDC"))
    assert str(deltas[-1]["u"]) == engine.depth("SOL_USDC")["lastUpdateId"]


def test_removed_level_is_sent_with_zero_quantity(engine):
    order = limit(engine, 1, "Bid", "19", "1")
    engine.drain_events()

    engine.cancel_order(1, symbol="SOL_USDC", order_id=order["id"])

    (delta,) = events_of(engine, "depth.")
    assert delta["b"] == [["19", "0"]]
    assert delta["a"] == []


def test_depth_payload_read_late_shows_only_its_own_command(engine):
    limit(engine, 1, "Ask", "21", "1")  # a depth event with asks only
    (first,) = (e for e in engine.drain_events() if e.stream == "depth.SOL_USDC")

    limit(engine, 2, "Bid", "19", "2")  # later commands change the bids
    limit(engine, 2, "Ask", "22", "1")
    first_read_late = first.data  # payloads are built when first read

    assert first_read_late["a"] == [["21", "1"]]
    assert first_read_late["b"] == []


def test_book_ticker_only_when_the_top_changes(engine):
    limit(engine, 1, "Bid", "19", "1")
    limit(engine, 1, "Bid", "18", "1")  # not the top
    limit(engine, 2, "Ask", "21", "2")

    tickers = events_of(engine, "bookTicker.")

    assert [(t.get("b"), t.get("B"), t.get("a"), t.get("A")) for t in tickers] == [
        ("19", "1", None, None),
        ("19", "1", "21", "2"),
    ]


def test_trade_stream_and_order_updates_of_a_fill(engine):
    maker = limit(engine, 2, "Ask", "20", "2", clientId=9)
    engine.drain_events()

    taker = limit(engine, 1, "Bid", "20", "1")

    events = engine.drain_events()
    (trade,) = [e.data for e in events if e.stream == "trade.SOL_USDC"]
    assert (trade["p"], trade["q"], trade["b"], trade["a"], trade["m"]) == (
        "20",
        "1",
        taker["id"],
        maker["id"],
        False,
    )
    updates = [(e.subaccount_id, e.data) for e in events if e.stream == "account.orderUpdate"]
    assert [(sub, data["e"], data["X"]) for sub, data in updates] == [
        (1, "orderAccepted", "New"),
        (1, "orderFill", "Filled"),
        (2, "orderFill", "PartiallyFilled"),
    ]
    maker_fill = updates[2][1]
    assert (maker_fill["c"], maker_fill["l"], maker_fill["L"], maker_fill["m"]) == (
        9,
        "1",
        "20",
        True,
    )
    assert (maker_fill["z"], maker_fill["N"], maker_fill["t"]) == ("1", "USDC", trade["t"])
    assert maker_fill["T"] == trade["T"]


def test_expired_order_update_carries_the_reason(engine):
    limit(engine, 1, "Ask", "20", "1")
    engine.drain_events()

    limit(engine, 1, "Bid", "20", "1")  # self trade: RejectTaker

    kinds = [(e["e"], e.get("R")) for e in events_of(engine, "account.orderUpdate")]
    assert kinds == [("orderAccepted", None), ("orderExpired", "SelfTradePrevention")]


def test_listener_receives_each_event_after_the_command(engine):
    seen = []
    engine.listeners.append(seen.append)

    limit(engine, 1, "Bid", "19", "1")

    assert [e.stream for e in seen] == [
        "account.orderUpdate",
        "depth.SOL_USDC",
        "bookTicker.SOL_USDC",
    ]
    assert seen[0].symbol == "SOL_USDC"
    assert seen[0].to_wire()["stream"] == "account.orderUpdate"


def test_no_events_are_built_when_nobody_listens(engine):
    engine.keep_events = False

    limit(engine, 1, "Bid", "19", "1")

    engine.keep_events = True
    assert engine.drain_events() == []


def test_klines_aggregate_trades_by_interval(engine, clock):
    for price in ("20", "22", "19"):
        limit(engine, 2, "Ask", price, "1")
        limit(engine, 1, "Bid", price, "1")
        clock.advance(60)

    one_minute = engine.klines("SOL_USDC", "1m", 0)
    five_minutes = engine.klines("SOL_USDC", "5m", 0)

    assert [k["close"] for k in one_minute] == ["20", "22", "19"]
    assert len(five_minutes) <= 2
    total = sum(Decimal(k["volume"]) for k in five_minutes)
    assert total == 3
    day = engine.klines("SOL_USDC", "1d", 0)[0]
    assert (day["open"], day["high"], day["low"], day["close"], day["trades"]) == (
        "20",
        "22",
        "19",
        "19",
        "3",
    )
    assert day["start"] == "2023-11-14 00:00:00"


def test_a_candle_that_opens_at_end_time_is_included(engine, clock):
    clock.advance(60 - (clock.now_us // 1_000_000) % 60)  # the first second of a minute
    opens_at = clock.now_us // 1_000_000
    limit(engine, 2, "Ask", "20", "1")
    limit(engine, 1, "Bid", "20", "1")

    assert [k["close"] for k in engine.klines("SOL_USDC", "1m", 0, opens_at)] == ["20"]
    assert engine.klines("SOL_USDC", "1m", 0, opens_at - 1) == []


def test_ticker_reports_24h_stats(engine):
    for price in ("20", "22"):
        limit(engine, 2, "Ask", price, "1")
        limit(engine, 1, "Bid", price, "1")

    ticker = engine.ticker("SOL_USDC")

    assert (ticker["firstPrice"], ticker["lastPrice"], ticker["priceChange"]) == ("20", "22", "2")
    assert ticker["priceChangePercent"] == "0.100000"  # a fraction, as the exchange sends
    assert (ticker["volume"], ticker["trades"]) == ("2", "2")
    assert Decimal(ticker["quoteVolume"]) == 42


def test_periodic_publication_of_ticker_klines_and_mark_price(engine, clock):
    limit(engine, 2, "Ask", "20", "1", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Bid", "20", "1", symbol="SOL_USDC_PERP")
    engine.drain_events()

    engine.publish_market_data()
    first = engine.drain_events()
    clock.advance(61)
    engine.publish_market_data()
    second = engine.drain_events()

    streams = {e.stream for e in first}
    assert {"ticker.SOL_USDC_PERP", "kline.1m.SOL_USDC_PERP", "markPrice.SOL_USDC_PERP"} <= streams
    assert "ticker.SOL_USDC" not in streams  # nothing traded there
    closed = [e.data for e in second if e.stream == "kline.1m.SOL_USDC_PERP"]
    assert [k["X"] for k in closed] == [True]
    mark = next(e.data for e in first if e.stream == "markPrice.SOL_USDC_PERP")
    assert (mark["p"], mark["f"]) == ("20", "0")


def test_a_trade_in_a_minutes_last_moment_still_publishes_its_candle(engine, clock):
    engine.publish_market_data()
    engine.drain_events()
    limit(engine, 2, "Ask", "20", "1", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Bid", "20", "1", symbol="SOL_USDC_PERP")
    engine.drain_events()
    clock.advance(60)  # the next tick comes after the minute of the trade has ended

    engine.publish_market_data()

    klines = [e.data for e in engine.drain_events() if e.stream == "kline.1m.SOL_USDC_PERP"]
    assert [(k["c"], k["n"], k["X"]) for k in klines] == [("20", 1, True)]


def test_recent_trades_and_history_paging(engine):
    for price in ("20", "21", "22"):
        limit(engine, 2, "Ask", price, "1")
        limit(engine, 1, "Bid", price, "1")

    assert [t["price"] for t in engine.recent_trades("SOL_USDC", limit=2)] == ["21", "22"]
    assert [t["price"] for t in engine.trade_history("SOL_USDC", limit=2, offset=1)] == [
        "21",
        "20",
    ]
    assert engine.trade_history("SOL_USDC")[0]["isBuyerMaker"] is False


def test_fill_and_order_history_paging(engine):
    for _ in range(3):
        limit(engine, 2, "Ask", "20", "1")
        limit(engine, 1, "Bid", "20", "1")

    newest = engine.order_history(1, limit=1)[0]
    oldest = engine.order_history(1, limit=1, sort_direction="Asc")[0]
    assert int(newest["id"]) > int(oldest["id"])
    assert len(engine.fill_history(1, limit=2, offset=2)) == 1
    assert engine.fill_history(1, symbol="SOL_USDC_PERP") == []


def test_mark_prices_and_open_interest_shapes(engine):
    engine.set_mark_price("SOL_USDC_PERP", "101.5", index_price="101")

    (perp,) = engine.mark_prices(market_type="PERP")
    assert (perp["symbol"], perp["markPrice"], perp["indexPrice"]) == (
        "SOL_USDC_PERP",
        "101.5",
        "101",
    )
    assert perp["nextFundingTimestamp"] % 28_800_000 == 0
    assert engine.open_interest("SOL_USDC_PERP")[0]["openInterest"] == "0"


def test_trigger_order_event_sequence(engine):
    limit(engine, 2, "Ask", "100", "1", symbol="SOL_USDC_PERP")
    limit(engine, 3, "Bid", "100", "1", symbol="SOL_USDC_PERP")  # last price 100
    limit(engine, 2, "Ask", "105", "1", symbol="SOL_USDC_PERP")
    engine.drain_events()
    stop = market(engine, 1, "Bid", symbol="SOL_USDC_PERP", quantity="1", triggerPrice="102")

    limit(engine, 3, "Bid", "102", "0.1", symbol="SOL_USDC_PERP")
    limit(engine, 2, "Ask", "102", "0.1", symbol="SOL_USDC_PERP")  # trade at 102: fires

    mine = [e.data for e in engine.drain_events() if e.subaccount_id == 1]
    updates = [(d["e"], d["X"]) for d in mine if d["i"] == stop["id"]]
    assert updates == [
        ("triggerPlaced", "TriggerPending"),
        ("orderAccepted", "New"),
        ("orderFill", "Filled"),
    ]
    placed = next(d for d in mine if d["e"] == "triggerPlaced")
    assert (placed["P"], placed["B"], placed["Y"]) == ("102", "LastPrice", "1")
    opened = next(d for d in mine if d.get("e") == "positionOpened")
    assert (opened["q"], opened["B"]) == ("1", "105.00000000")


def test_position_snapshot_for_a_new_subscriber(engine):
    limit(engine, 2, "Ask", "100", "1", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Bid", "100", "1", symbol="SOL_USDC_PERP")

    (snapshot,) = engine.position_events(1)

    assert "e" not in snapshot
    assert (snapshot["s"], snapshot["q"], snapshot["M"]) == ("SOL_USDC_PERP", "1", "100")


def test_a_failing_listener_neither_fails_the_order_nor_starves_other_listeners(engine):
    def broken(event):
        raise RuntimeError("socket gone")

    seen = []
    engine.listeners[:] = [broken, seen.append]

    order = limit(engine, 1, "Bid", "19", "1")

    assert order["status"] == "New"
    assert len(seen) == 3
    assert len(engine.listener_errors) == 3
    event, error = engine.listener_errors[0]
    assert (event.stream, str(error)) == ("account.orderUpdate", "socket gone")
