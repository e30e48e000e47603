"""The pure PnL fold: what it realized plus what it holds at mark is exactly the cash the
fills moved plus the holdings at mark, whatever the fills; reversals close a position and
open another; spot fees taken in the base asset reduce what a buy holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trading.ledger.curve import time_weighted
from trading.ledger.pnl import FillEvent, FundingEvent, PnlFold

T0 = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
PERP = "SOL_USDC_PERP"

fills = st.lists(
    st.tuples(
        st.sampled_from(["Bid", "Ask"]),
        st.integers(1, 500).map(lambda n: D(n) / 100),
        st.integers(10_000, 20_000).map(lambda n: D(n) / 100),
        st.integers(0, 50).map(lambda n: D(n) / 1000),
    ),
    max_size=40,
)


@given(fills=fills, mark=st.integers(10_000, 20_000).map(lambda n: D(n) / 100))
def test_realized_plus_unrealized_is_the_cash_moved_plus_holdings_at_mark(fills, mark) -> None:
    fold = PnlFold(zone=UTC)
    cash = net = fees = D(0)
    for side, quantity, price, fee in fills:
        fold.add(FillEvent(T0, PERP, side, quantity, price, fee, "USDC"))
        signed = quantity if side == "Bid" else -quantity
        cash -= signed * price
        net += signed
        fees += fee

    totals = fold.totals()
    unrealized = sum(fold.unrealized({PERP: mark}).values(), D(0))

    assert totals.realized + unrealized == cash + net * mark
    assert totals.fees == fees
    still_open = sum((h.realized for h in fold.holdings.values()), D(0))
    assert sum(c.realized for c in fold.closed) + still_open == totals.realized
    assert (PERP in fold.holdings) == (net != 0)


def test_a_reversing_fill_closes_one_position_and_opens_the_next() -> None:
    fold = PnlFold(zone=UTC)
    fold.add(FillEvent(T0, PERP, "Bid", D("2"), D("100"), D("0.1"), "USDC", member="alice"))
    fold.add(FillEvent(T0, PERP, "Ask", D("5"), D("110"), D("0.2"), "USDC"))

    (closed,) = fold.closed
    assert closed.realized == D("20")
    assert (fold.holdings[PERP].quantity, fold.holdings[PERP].cost) == (D("-3"), D("-330"))


def test_days_follow_the_team_zone_and_funding_belongs_to_no_member() -> None:
    fold = PnlFold(zone=ZoneInfo("Europe/Berlin"))  # 23:30 UTC is the next day there
    fold.add(FillEvent(T0, PERP, "Bid", D("1"), D("100"), D("0.05"), "USDC", member="alice"))
    fold.add(FundingEvent(T0 - timedelta(hours=3), PERP, D("-0.01")))  # 22:30 there

    assert sorted(fold.rows) == [
        (datetime(2026, 6, 15).date(), PERP, ""),
        (datetime(2026, 6, 16).date(), PERP, "alice"),
    ]


def test_a_spot_buy_holds_what_it_received_after_a_fee_in_the_base_asset() -> None:
    fold = PnlFold(zone=UTC)
    fold.add(FillEvent(T0, "SOL_USDC", "Bid", D("2"), D("150"), D("0.002"), "SOL"))

    holding = fold.holdings["SOL_USDC"]
    assert (holding.quantity, holding.cost) == (D("1.998"), D("299.7"))
    assert fold.totals().fees == D("0.3")
    # equity moved by -300 + 1.998 x mark; the fold explains the same at any mark
    mark = D("151")
    assert fold.unrealized({"SOL_USDC": mark})["SOL_USDC"] - fold.totals().fees == (
        D("-300") + D("1.998") * mark
    )


def test_a_deposit_is_not_profit_on_the_equity_curve() -> None:
    t = [T0 + timedelta(days=n) for n in range(4)]
    points = [(t[0], D("100")), (t[1], D("210")), (t[2], D("105")), (t[3], D("115.5"))]
    flows = [(t[0], D("999")), (t[1], D("100")), (t[2], D("-105"))]  # the first is before

    curve = time_weighted(points, flows)

    assert [p.flows for p in curve] == [0, D("100"), D("-105"), 0]
    assert [p.index for p in curve] == [1, D("1.1"), D("1.1"), D("1.21")]
    assert curve[-1].return_since_start == D("0.21")


def test_a_curve_from_no_equity_starts_at_the_first_deposit() -> None:
    t = [T0 + timedelta(days=n) for n in range(3)]

    curve = time_weighted([(t[0], D(0)), (t[1], D(50)), (t[2], D(45))], [(t[1], D(50))])

    assert [p.index for p in curve] == [1, 1, D("0.9")]
