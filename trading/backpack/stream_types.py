"""Public stream frames as the client's typed market data.

The streams name their fields with one letter (``p``, ``q``, ``T``...), the REST routes in words;
each parser maps a frame onto the REST shape and reuses its ``from_wire``, so a stream and a
REST answer give the same object. A frame missing a field, or with a field that is not a plain
number, raises ``MalformedResponseError`` naming the stream (and the field when known), like a
malformed REST answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .market_types import Kline, MarkPrice, Ticker, Trade
from .wire import parse, to_decimal, to_int


def trade_from_stream(data: dict[str, Any]) -> Trade:
    """A ``trade`` frame as a ``Trade`` (see ``_trade``)."""
    return parse("trade stream", _trade, data)


def ticker_from_stream(data: dict[str, Any]) -> Ticker:
    """A ``ticker`` frame as a ``Ticker`` (see ``_ticker``)."""
    return parse("ticker stream", _ticker, data)


def mark_price_from_stream(data: dict[str, Any]) -> MarkPrice:
    """A ``markPrice`` frame as a ``MarkPrice`` (see ``_mark_price``)."""
    return parse("markPrice stream", _mark_price, data)


def kline_from_stream(data: dict[str, Any]) -> Kline:
    """A ``kline`` frame as a ``Kline`` (see ``_kline``)."""
    return parse("kline stream", _kline, data)


def _trade(data: dict[str, Any]) -> Trade:
    """``{"e":"trade","E":1694687692980000,"s":"SOL_USDC","p":"18.68","q":"0.122","b":"111063114377265150",
    "a":"111063114585735170","t":12345,"T":1694687692980000,"m":true}``"""
    return Trade.from_wire(
        {
            "id": data.get("t"),
            "price": data["p"],
            "quantity": data["q"],
            "quoteQuantity": format(to_decimal(data["p"], "p") * to_decimal(data["q"], "q"), "f"),
            "timestamp": to_int(data["T"], "T") // 1000,
            "isBuyerMaker": bool(data.get("m")),
        }
    )


def _ticker(data: dict[str, Any]) -> Ticker:
    """``{"e":"ticker","E":1694687692980000,"s":"SOL_USD","o":"18.75","c":"19.24","h":"19.80",
    "l":"18.50","v":"32123","V":"928190","n":93828}``"""
    open_, close = to_decimal(data["o"], "o"), to_decimal(data["c"], "c")
    change = close - open_
    fraction = (change / open_) if open_ else Decimal(0)  # the exchange sends a fraction
    return Ticker.from_wire(
        {
            "symbol": data["s"],
            "firstPrice": data["o"],
            "lastPrice": data["c"],
            "high": data["h"],
            "low": data["l"],
            "volume": data["v"],
            "quoteVolume": data["V"],
            "trades": str(data.get("n", 0)),
            "priceChange": format(change, "f"),
            "priceChangePercent": format(fraction.quantize(Decimal("0.000001")), "f"),
        }
    )


def _mark_price(data: dict[str, Any]) -> MarkPrice:
    """``{"e":"markPrice","E":1694687965941000,"s":"SOL_USDC_PERP","p":"18.70","f":"1.70",
    "i":"19.70","n":1694687965941}`` (next funding in milliseconds)"""
    return MarkPrice.from_wire(
        {
            "symbol": data["s"],
            "markPrice": data["p"],
            "fundingRate": data.get("f"),
            "indexPrice": data.get("i"),
            "nextFundingTimestamp": to_int(data["n"], "n") if data.get("n") else None,
        }
    )


def _kline(data: dict[str, Any]) -> Kline:
    """``{"e":"kline","E":1694687692980000,"s":"SOL_USD","t":"2024-09-11T12:00:00","T":
    "2024-09-11T12:01:00","o":"18.75","c":"19.25","h":"19.80","l":"18.50","v":"32123","n":93828,
    "X":false}``"""
    return Kline.from_wire(
        {
            "start": data["t"],
            "end": data.get("T"),
            "open": data.get("o"),
            "high": data.get("h"),
            "low": data.get("l"),
            "close": data.get("c"),
            "volume": data.get("v", "0"),
            "quoteVolume": data.get("V", "0"),
            "trades": str(data.get("n", 0)),
        }
    )
