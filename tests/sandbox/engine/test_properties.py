"""Property tests: random command sequences on two spot markets and a perpetual, three
subaccounts.  After every command: no balance negative, locked funds equal what resting
orders need, every asset conserved (fees sit in the fee account; perpetual PnL is
zero-sum), the book never crossed, and a refused command changed nothing."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sandbox.engine import FEE_SUBACCOUNT_ID, PERP, Asset, Engine, EngineError, Market

from .conftest import FakeClock

SUBS = (1, 2, 3)
ASSETS = ("USDC", "SOL", "ETH")
MARKETS = [
    Market("SOL_USDC", "SOL", "USDC", tick_size="0.5", step_size="0.1", min_quantity="0.1"),
    Market(
        "ETH_SOL",
        "ETH",
        "SOL",
        tick_size="0.5",
        step_size="0.1",
        min_quantity="0.1",
        maker_fee="0",
        taker_fee="0.003",
    ),
    Market(
        "SOL_USDC_PERP",
        "SOL",
        "USDC",
        market_type=PERP,
        tick_size="0.5",
        step_size="0.1",
        min_quantity="0.1",
        imf="0.5",
        mmf="0.25",
    ),
]
DEPOSIT = {"USDC": Decimal("2000"), "SOL": Decimal("200"), "ETH": Decimal("10")}

prices = st.integers(196, 204).map(lambda n: Decimal(n) / 2)  # 98.0 .. 102.0, crossing often
quantities = st.integers(1, 60).map(lambda n: Decimal(n) / 10)

place = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from([m.symbol for m in MARKETS]),
        "side": st.sampled_from(["Bid", "Ask"]),
        "orderType": st.sampled_from(["Limit", "Limit", "Market"]),
        "price": prices.map(str),
        "quantity": quantities.map(str),
    },
    optional={
        "timeInForce": st.sampled_from(["GTC", "IOC", "FOK"]),
        "postOnly": st.booleans(),
        "selfTradePrevention": st.sampled_from(["RejectTaker", "RejectMaker", "RejectBoth"]),
        "reduceOnly": st.booleans(),
        "quoteQuantity": st.integers(50, 600).map(str),
        "triggerPrice": prices.map(str),
    },
)
placing = st.tuples(st.just("place"), st.sampled_from(SUBS), place)
# a resting order and a crossing one from another subaccount: trades for sure
crossing = st.tuples(
    st.just("cross"),
    st.sampled_from(SUBS),
    st.tuples(
        st.sampled_from(SUBS),
        st.sampled_from([m.symbol for m in MARKETS]),
        st.sampled_from(["Bid", "Ask"]),
        prices,
        quantities,
        quantities,
        st.sampled_from(["Limit", "Market"]),
    ),
)
command = st.one_of(
    crossing,
    crossing,
    crossing,
    placing,
    placing,
    placing,
    placing,
    placing,
    st.tuples(st.just("cancel"), st.sampled_from(SUBS), st.integers(0, 5)),
    st.tuples(st.just("mark"), st.just(0), prices),
    st.tuples(st.just("withdraw"), st.sampled_from(SUBS), st.integers(1, 300)),
    st.tuples(st.just("funding"), st.just(0), st.integers(-5, 5)),
)


def fresh_engine() -> Engine:
    assets = [Asset("USDC", collateral_weight=Decimal(1)), Asset("SOL"), Asset("ETH")]
    engine = Engine(MARKETS, assets, clock=FakeClock())
    engine.keep_events = False
    for sub in SUBS:
        for asset, amount in DEPOSIT.items():
            engine.deposit(sub, asset, amount)
    return engine


def clean(payload: dict) -> dict:
    body = dict(payload)
    if body["orderType"] == "Market":
        body.pop("price")
        body.pop("postOnly", None)
        if "quoteQuantity" in body:
            body.pop("quantity")
    else:
        body.pop("quoteQuantity", None)
    if body["symbol"] != "SOL_USDC_PERP":
        body.pop("reduceOnly", None)
        body.pop("triggerPrice", None)
    if body.get("postOnly"):
        body["timeInForce"] = "GTC"
    return body


def state(engine: Engine):
    return (
        {sub: engine.balances(sub) for sub in SUBS},
        {sub: engine.open_orders(sub) for sub in SUBS},
        {sub: engine.positions(sub) for sub in SUBS},
        {m.symbol: engine.depth(m.symbol)["bids"] for m in MARKETS},
        {m.symbol: engine.depth(m.symbol)["asks"] for m in MARKETS},
        {a: engine.balance(FEE_SUBACCOUNT_ID, a) for a in ASSETS},
    )


def check_invariants(engine: Engine, withdrawn: dict[str, Decimal]) -> None:
    owners = (*SUBS, FEE_SUBACCOUNT_ID)
    for sub in owners:
        for asset in ASSETS:
            available, locked, staked = engine.balance(sub, asset)
            assert available >= 0, (sub, asset, available)
            assert locked >= 0, (sub, asset, locked)
    # locked equals what resting spot orders need
    for sub in SUBS:
        need = dict.fromkeys(ASSETS, Decimal(0))
        for order in engine.open_orders(sub):
            market = engine.market(order["symbol"])
            if market.is_perp or order["status"] == "TriggerPending":
                continue
            remaining = Decimal(order["quantity"]) - Decimal(order["executedQuantity"])
            if order["side"] == "Bid":
                need[market.quote_symbol] += remaining * Decimal(order["price"])
            else:
                need[market.base_symbol] += remaining
        for asset in ASSETS:
            assert engine.balance(sub, asset)[1] == need[asset], (sub, asset)
    # conservation: fees are in the fee account; perp PnL is zero-sum (minus net cost)
    net_cost = sum(
        (Decimal(p["netCost"]) for sub in SUBS for p in engine.positions(sub)), Decimal(0)
    )
    net_quantity = sum(
        (Decimal(p["netQuantity"]) for sub in SUBS for p in engine.positions(sub)), Decimal(0)
    )
    assert net_quantity == 0
    for asset in ASSETS:
        total = sum((sum(engine.balance(sub, asset)) for sub in owners), Decimal(0))
        expected = DEPOSIT[asset] * len(SUBS) - withdrawn[asset]
        if asset == "USDC":
            total -= net_cost
        assert total == expected, asset
    # the fast margin path agrees with the collateral summary
    for sub in SUBS:
        summary = engine.collateral(sub)
        assert engine.available_margin(sub) == Decimal(summary["netEquityAvailable"])
    # books never crossed
    for market in MARKETS:
        depth = engine.depth(market.symbol)
        if depth["bids"] and depth["asks"]:
            assert Decimal(depth["bids"][-1][0]) < Decimal(depth["asks"][0][0])
    long_total = sum(
        (max(Decimal(p["netQuantity"]), Decimal(0)) for sub in SUBS for p in engine.positions(sub)),
        Decimal(0),
    )
    assert Decimal(engine.open_interest("SOL_USDC_PERP")[0]["openInterest"]) == long_total


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(command, min_size=10, max_size=50))
def test_random_command_sequences_keep_the_ledger_sound(commands):
    engine = fresh_engine()
    withdrawn = dict.fromkeys(ASSETS, Decimal(0))
    for kind, sub, arg in commands:
        before = state(engine)
        try:
            if kind == "place":
                engine.execute_order(sub, clean(arg))
            elif kind == "cross":
                taker_sub, symbol, side, price, resting, taking, order_type = arg
                maker = {"symbol": symbol, "side": side, "orderType": "Limit"}
                maker.update(price=str(price), quantity=str(resting))
                engine.execute_order(sub, maker)
                taker = {"symbol": symbol, "side": "Ask" if side == "Bid" else "Bid"}
                taker.update(orderType=order_type, quantity=str(taking))
                if order_type == "Limit":
                    taker["price"] = str(price)
                before = state(engine)
                engine.execute_order(taker_sub, taker)
            elif kind == "cancel":
                open_orders = engine.open_orders(sub)
                if open_orders:
                    order = open_orders[arg % len(open_orders)]
                    engine.cancel_order(sub, symbol=order["symbol"], order_id=order["id"])
            elif kind == "mark":
                engine.set_mark_price("SOL_USDC_PERP", arg)
            elif kind == "withdraw":
                engine.request_withdrawal(
                    sub, symbol="USDC", quantity=str(arg), blockchain="Solana", address="x"
                )
                withdrawn["USDC"] += arg
            else:
                engine.settle_funding("SOL_USDC_PERP", Decimal(arg) / 1000)
            event(f"{kind} ok")
        except EngineError as error:
            event(f"{kind} refused {error.code}")
            assert state(engine) == before
        check_invariants(engine, withdrawn)
    trades = sum(len(engine.recent_trades(m.symbol, limit=1000)) for m in MARKETS)
    event(f"trades >= {min(trades, 10)}")


def run_commands(engine: Engine, commands) -> None:
    """Apply a command list, ignoring refusals (their effect is checked above)."""
    for kind, sub, arg in commands:
        try:
            if kind == "place":
                engine.execute_order(sub, clean(arg))
            elif kind == "cross":
                taker_sub, symbol, side, price, resting, taking, order_type = arg
                maker = {"symbol": symbol, "side": side, "orderType": "Limit"}
                maker.update(price=str(price), quantity=str(resting))
                engine.execute_order(sub, maker)
                taker = {"symbol": symbol, "side": "Ask" if side == "Bid" else "Bid"}
                taker.update(orderType=order_type, quantity=str(taking))
                if order_type == "Limit":
                    taker["price"] = str(price)
                engine.execute_order(taker_sub, taker)
            elif kind == "cancel":
                open_orders = engine.open_orders(sub)
                if open_orders:
                    order = open_orders[arg % len(open_orders)]
                    engine.cancel_order(sub, symbol=order["symbol"], order_id=order["id"])
            elif kind == "mark":
                engine.set_mark_price("SOL_USDC_PERP", arg)
        except EngineError:
            pass


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=10, max_size=40))
def test_depth_stream_replayed_from_empty_rebuilds_every_book(commands):
    engine = fresh_engine()
    books = {m.symbol: {"b": {}, "a": {}} for m in MARKETS}
    last_ids = dict.fromkeys(books, 0)
    tops = {}

    def listener(event) -> None:
        if event.stream.startswith("depth."):
            data = event.data
            assert data["U"] == last_ids[data["s"]] + 1  # no gap, no overlap
            last_ids[data["s"]] = data["u"]
            for side in ("b", "a"):
                for price, quantity in data[side]:
                    if Decimal(quantity):
                        books[data["s"]][side][Decimal(price)] = Decimal(quantity)
                    else:  # a level can appear and vanish within one event: pop
                        books[data["s"]][side].pop(Decimal(price), None)
        elif event.stream.startswith("bookTicker."):
            tops[event.symbol] = (event.data.get("b"), event.data.get("a"))

    engine.listeners.append(listener)
    run_commands(engine, commands)
    assert not engine.listener_errors  # the checks inside the listener all passed

    for market in MARKETS:
        depth = engine.depth(market.symbol)
        assert int(depth["lastUpdateId"]) == last_ids[market.symbol]
        for side, key in (("bids", "b"), ("asks", "a")):
            live = {Decimal(p): Decimal(q) for p, q in depth[side]}
            assert books[market.symbol][key] == live
        best_bid = depth["bids"][-1][0] if depth["bids"] else None
        best_ask = depth["asks"][0][0] if depth["asks"] else None
        assert tops.get(market.symbol, (None, None)) == (best_bid, best_ask)
