from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trading.backpack.market_types import Trade
from trading.backpack.recent_trades import RecentTrades, newest_first


def trade(trade_id: int) -> Trade:
    return Trade(
        id=trade_id,
        price=Decimal("150.01"),
        quantity=Decimal(1),
        quote_quantity=Decimal("150.01"),
        timestamp=1_750_000_000_000 + trade_id,
        is_buyer_maker=trade_id % 2 == 0,
    )


def ids(trades: list[Trade]) -> list[int | None]:
    return [t.id for t in trades]


def test_the_rest_list_oldest_first_is_shown_newest_first() -> None:
    assert ids(newest_first([trade(1), trade(2), trade(3)])) == [3, 2, 1]


def test_a_stream_trade_also_in_the_rest_list_is_kept_once() -> None:
    recent = RecentTrades(keep=5)
    recent.merge([trade(7), trade(8)])

    assert recent.add(trade(9)) is True
    assert recent.add(trade(8)) is False
    assert recent.merge([trade(8), trade(9)]) is False
    assert ids(recent.newest_first()) == [9, 8, 7]


def test_a_backfill_after_a_reconnect_fills_the_hole_the_stream_left() -> None:
    recent = RecentTrades(keep=4)
    recent.merge([trade(1), trade(2)])
    recent.add(trade(5))  # 3 and 4 were traded while the stream was down

    assert ids(recent.newest_first()) == [5, 2, 1]  # the sentinel: a hole
    assert recent.merge([trade(2), trade(3), trade(4), trade(5)]) is True
    assert ids(recent.newest_first()) == [5, 4, 3, 2]


@given(
    rest=st.lists(st.integers(1, 200), max_size=60),
    stream=st.lists(st.integers(1, 200), max_size=60),
    keep=st.integers(1, 50),
)
def test_any_mix_is_strictly_newest_first_and_keeps_the_newest(rest, stream, keep) -> None:
    recent = RecentTrades(keep=keep)
    recent.merge(trade(i) for i in sorted(rest))
    for i in stream:
        recent.add(trade(i))

    assert ids(recent.newest_first()) == sorted(set(rest) | set(stream), reverse=True)[:keep]
