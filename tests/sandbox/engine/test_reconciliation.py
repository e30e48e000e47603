"""Property: the exchange's histories explain its equity exactly.

After random perpetual trades, mark moves, funding intervals, deposits and withdrawals,
for every subaccount, read only through the history queries a desk would page through:

    change in netEquity - net transfers
        == realized PnL + funding - fees (the settlement history)
           + change in unrealized PnL

and the settlement history agrees with the position history (per position), the fill
history (fees) and the funding history (payments).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sandbox.engine import PERP, Asset, Engine, EngineError, Market, Token

from .conftest import FakeClock

SYMBOL = "SOL_USDC_PERP"
SUBS = (1, 2, 3)
MARKET = Market(
    SYMBOL,
    "SOL",
    "USDC",
    market_type=PERP,
    tick_size="0.5",
    step_size="0.1",
    min_quantity="0.1",
    maker_fee="0.0002",
    taker_fee="0.0005",
    imf="0.2",
    mmf="0.1",
)
USDC = Asset(
    "USDC",
    (Token("Solana", withdrawal_fee=Decimal("1"), minimum_withdrawal=Decimal("5")),),
    collateral_weight=Decimal(1),
)

prices = st.integers(180, 220).map(lambda n: Decimal(n) / 2)  # 90.0 .. 110.0
# few sizes, so that positions often come back to exactly zero (and close), or reverse
quantities = st.sampled_from(["0.5", "1", "1.5", "2", "3", "0.3"]).map(Decimal)
command = st.one_of(
    st.tuples(
        st.just("cross"),
        st.sampled_from(SUBS),
        st.tuples(st.sampled_from(SUBS), st.sampled_from(["Bid", "Ask"]), prices, quantities),
    ),
    st.tuples(
        st.just("rest"),
        st.sampled_from(SUBS),
        st.tuples(st.sampled_from(["Bid", "Ask"]), prices, quantities),
    ),
    st.tuples(st.just("take"), st.sampled_from(SUBS), st.tuples(st.booleans(), quantities)),
    st.tuples(st.just("mark"), st.just(0), prices),
    st.tuples(st.just("funding"), st.just(0), st.integers(-30, 30)),
    st.tuples(st.just("deposit"), st.sampled_from(SUBS), st.integers(1, 500)),
    st.tuples(st.just("withdraw"), st.sampled_from(SUBS), st.integers(5, 400)),
)


def every(query, sub: int, **filters) -> list[dict]:
    """All rows of a history query, paged oldest first as a desk would read them."""
    out: list[dict] = []
    while True:
        page = query(sub, limit=7, offset=len(out), **filters)
        out.extend(page)
        if len(page) < 7:
            return out


def transfers(engine: Engine, sub: int) -> Decimal:
    deposits = sum((Decimal(d["quantity"]) for d in every(engine.deposits, sub)), Decimal(0))
    withdrawals = sum(
        (Decimal(w["quantity"]) + Decimal(w["fee"]) for w in every(engine.withdrawals, sub)),
        Decimal(0),
    )
    return deposits - withdrawals


def run(engine: Engine, clock: FakeClock, kind: str, sub: int, arg) -> None:
    if kind == "cross":
        taker, side, price, quantity = arg
        maker = {"symbol": SYMBOL, "side": side, "orderType": "Limit"}
        engine.execute_order(sub, {**maker, "price": str(price), "quantity": str(quantity)})
        opposite = "Ask" if side == "Bid" else "Bid"
        engine.execute_order(
            taker,
            {"symbol": SYMBOL, "side": opposite, "orderType": "Market", "quantity": str(quantity)},
        )
    elif kind == "rest":
        side, price, quantity = arg
        engine.execute_order(
            sub,
            {
                "symbol": SYMBOL,
                "side": side,
                "orderType": "Limit",
                "price": str(price),
                "quantity": str(quantity),
            },
        )
    elif kind == "take":
        buy, quantity = arg
        engine.execute_order(
            sub,
            {
                "symbol": SYMBOL,
                "side": "Bid" if buy else "Ask",
                "orderType": "Market",
                "quantity": str(quantity),
            },
        )
    elif kind == "mark":
        engine.set_mark_price(SYMBOL, arg)
    elif kind == "funding":
        engine.set_funding_rate(SYMBOL, Decimal(arg) / 10000)
        clock.now_us = engine.mark_prices(SYMBOL)[0]["nextFundingTimestamp"] * 1000
        assert engine.settle_due_funding() == [SYMBOL]
    elif kind == "deposit":
        engine.deposit(sub, "USDC", str(arg))
    else:
        engine.request_withdrawal(
            sub, symbol="USDC", quantity=str(arg), blockchain="Solana", address="x"
        )


def check_histories_explain_equity(engine: Engine, start: dict[int, tuple]) -> None:
    for sub in SUBS:
        equity_0, unrealized_0, transfers_0 = start[sub]
        summary = engine.collateral(sub)
        equity = Decimal(summary["netEquity"])
        unrealized = Decimal(summary["pnlUnrealized"])
        settled: dict[str, Decimal] = defaultdict(Decimal)
        per_position: dict[str, Decimal] = defaultdict(Decimal)
        for row in every(engine.settlement_history, sub, sort_direction="Asc"):
            settled[row["source"]] += Decimal(row["quantity"])
            per_position[row["positionId"]] += Decimal(row["quantity"])
        assert set(settled) <= {"RealizePnl", "FundingPayment", "TradingFees"}

        # the reconciliation identity, to the last digit
        assert equity - equity_0 - (transfers(engine, sub) - transfers_0) == (
            settled["RealizePnl"]
            + settled["FundingPayment"]
            + settled["TradingFees"]
            + unrealized
            - unrealized_0
        ), sub

        # each position's history row holds exactly its own settlements
        positions = every(engine.position_history, sub, sort_direction="Asc")
        assert len({p["id"] for p in positions}) == len(positions)
        for position in positions:
            own = (
                Decimal(position["cumulativePnlRealized"])
                + Decimal(position["fundingQuantity"])
                - Decimal(position["fees"])
            )
            assert own == per_position.pop(position["id"], Decimal(0)), position
        assert not any(per_position.values())
        open_rows = [p for p in positions if p["state"] == "Open"]
        assert [p["id"] for p in open_rows] == [p["positionId"] for p in engine.positions(sub)]

        # fees and funding agree with the fill and funding histories
        fees = sum((Decimal(f["fee"]) for f in every(engine.fill_history, sub)), Decimal(0))
        assert -settled["TradingFees"] == fees
        funding = sum(
            (Decimal(p["quantity"]) for p in every(engine.funding_payments, sub)), Decimal(0)
        )
        assert settled["FundingPayment"] == funding


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=10, max_size=40))
def test_histories_explain_every_change_of_equity(commands):
    clock = FakeClock()
    engine = Engine([MARKET], [USDC], clock=clock)
    engine.keep_events = False
    for sub in SUBS:
        engine.deposit(sub, "USDC", "2000")
    engine.set_mark_price(SYMBOL, "100")
    start = {}
    for sub in SUBS:
        summary = engine.collateral(sub)
        start[sub] = (
            Decimal(summary["netEquity"]),
            Decimal(summary["pnlUnrealized"]),
            transfers(engine, sub),
        )
    for kind, sub, arg in commands:
        try:
            run(engine, clock, kind, sub, arg)
            event(f"{kind} ok")
        except EngineError as error:
            event(f"{kind} refused {error.code}")
        check_histories_explain_equity(engine, start)
    closed = sum(len(engine.position_history(sub, state="Closed")) for sub in SUBS)
    event(f"closed positions >= {min(closed, 5)}")
