from __future__ import annotations

from decimal import Decimal

import pytest

from trading.backpack.errors import MalformedResponseError
from trading.backpack.stream_types import (
    kline_from_stream,
    mark_price_from_stream,
    ticker_from_stream,
    trade_from_stream,
)


def test_a_trade_frame_becomes_the_same_trade_as_over_rest():
    trade = trade_from_stream(
        {"e": "trade", "E": 1694688638091000, "s": "SOL_USDC", "p": "18.68", "q": "0.122",
         "t": 12345, "T": 1694688638089000, "m": True}
    )  # fmt: skip

    assert (trade.price, trade.quantity) == (Decimal("18.68"), Decimal("0.122"))
    assert trade.quote_quantity == Decimal("2.27896")
    assert trade.timestamp == 1694688638089
    assert trade.is_buyer_maker


def test_a_ticker_frame_reports_the_change_as_a_fraction_like_the_rest_ticker():
    ticker = ticker_from_stream(
        {"e": "ticker", "s": "SOL_USDC", "o": "20", "c": "22", "h": "23", "l": "19",
         "v": "10", "V": "210", "n": 7}
    )  # fmt: skip

    assert ticker.price_change == Decimal("2")
    assert ticker.price_change_percent == Decimal("0.100000")
    assert ticker.trades == 7


def test_mark_price_and_candle_frames():
    mark = mark_price_from_stream(
        {"e": "markPrice", "s": "SOL_USDC_PERP", "p": "18.70", "f": "0.0001", "i": "18.69",
         "n": 1694687965941}
    )  # fmt: skip
    kline = kline_from_stream(
        {"e": "kline", "s": "SOL_USDC", "t": "2024-09-11T12:00:00", "T": "2024-09-11T12:01:00",
         "o": "18.75", "c": "19.25", "h": "19.80", "l": "18.50", "v": "32123", "n": 93828,
         "X": False}
    )  # fmt: skip

    assert (mark.mark_price, mark.next_funding_timestamp) == (Decimal("18.70"), 1694687965941)
    assert (kline.open, kline.close, kline.volume) == (
        Decimal("18.75"), Decimal("19.25"), Decimal("32123")
    )  # fmt: skip


@pytest.mark.parametrize(
    ("parse", "frame", "message"),
    [
        (
            trade_from_stream,
            {"p": "18.68", "T": 1},
            "The exchange's answer to trade stream is malformed (KeyError: 'q').",
        ),
        (
            trade_from_stream,
            {"p": "lots", "q": "1", "T": 1},
            "The exchange's answer to trade stream is malformed: field 'p' should be a "
            "decimal, got 'lots'.",
        ),
        (
            trade_from_stream,
            {"p": "1.868e1", "q": "1", "T": 1},
            "The exchange's answer to trade stream is malformed: field 'p' should be a "
            "decimal, got '1.868e1'.",
        ),
        (
            ticker_from_stream,
            {"s": "SOL_USDC", "o": "NaN", "c": "1"},
            "The exchange's answer to ticker stream is malformed: field 'o' should be a "
            "decimal, got 'NaN'.",
        ),
        (
            mark_price_from_stream,
            {"s": "SOL_USDC_PERP", "p": "x"},
            "The exchange's answer to markPrice stream is malformed: field 'markPrice' should "
            "be a decimal, got 'x'.",
        ),
    ],
)
def test_a_broken_frame_raises_a_malformed_response_the_relay_catches(parse, frame, message):
    with pytest.raises(MalformedResponseError) as caught:
        parse(frame)

    assert caught.value.message == message
