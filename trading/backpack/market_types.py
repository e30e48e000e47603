"""Typed public market data (frozen dataclasses with ``Decimal``) and their wire parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .wire import (
    TolerantEnum,
    boolean,
    dec,
    dec_opt,
    enum,
    int_opt,
    integer,
    list_of,
    obj_of,
    text,
    text_opt,
    timestamp,
    timestamp_opt,
    to_decimal,
)


class MarketType(TolerantEnum):
    """Kind of market."""

    SPOT = "SPOT"
    PERP = "PERP"
    IPERP = "IPERP"
    DATED = "DATED"
    PREDICTION = "PREDICTION"
    RFQ = "RFQ"


class OrderBookState(TolerantEnum):
    """Whether the market's book accepts orders."""

    OPEN = "Open"
    CLOSED = "Closed"
    CANCEL_ONLY = "CancelOnly"
    LIMIT_ONLY = "LimitOnly"
    POST_ONLY = "PostOnly"


@dataclass(frozen=True, slots=True)
class Market:
    """A market and its order rules (tick size, step size, bands)."""

    symbol: str
    base_symbol: str
    quote_symbol: str
    market_type: MarketType
    order_book_state: OrderBookState
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal | None
    step_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal | None
    min_multiplier: Decimal | None
    max_multiplier: Decimal | None
    visible: bool
    created_at: datetime | None

    @property
    def is_perp(self) -> bool:
        """True for perpetual futures markets (``PERP`` and ``IPERP``)."""
        return str(self.market_type.value).upper() in ("PERP", "IPERP")

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Market:
        """Parse ``{"symbol":"SOL_USDC","baseSymbol":"SOL","quoteSymbol":"USDC",
        "marketType":"SPOT","filters":{"price":{"minPrice":"0.01","tickSize":"0.01"},
        "quantity":{"minQuantity":"0.01","stepSize":"0.01"}},"orderBookState":"Open",...}``."""
        filters = obj_of(o.get("filters"), "filters")
        price = obj_of(filters.get("price"), "filters.price")
        qty = obj_of(filters.get("quantity"), "filters.quantity")
        return cls(
            symbol=text(o, "symbol"),
            base_symbol=text(o, "baseSymbol"),
            quote_symbol=text(o, "quoteSymbol"),
            market_type=enum(MarketType, o, "marketType"),
            order_book_state=enum(OrderBookState, o, "orderBookState"),
            tick_size=dec(price, "tickSize"),
            min_price=dec(price, "minPrice"),
            max_price=dec_opt(price, "maxPrice"),
            step_size=dec(qty, "stepSize"),
            min_quantity=dec(qty, "minQuantity"),
            max_quantity=dec_opt(qty, "maxQuantity"),
            min_multiplier=dec_opt(price, "minMultiplier"),
            max_multiplier=dec_opt(price, "maxMultiplier"),
            visible=boolean(o, "visible", True),
            created_at=timestamp_opt(o, "createdAt"),
        )


@dataclass(frozen=True, slots=True)
class Token:
    """An asset on one blockchain."""

    blockchain: str
    deposit_enabled: bool
    withdraw_enabled: bool
    minimum_withdrawal: Decimal | None
    withdrawal_fee: Decimal | None
    native_decimals: int | None = None  # the token's decimals on this blockchain

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Token:
        """Parse ``{"blockchain":"Solana","depositEnabled":true,"withdrawEnabled":true,
        "minimumWithdrawal":"1","withdrawalFee":"0.1","nativeDecimals":9,...}``."""
        return cls(
            blockchain=text(o, "blockchain"),
            deposit_enabled=boolean(o, "depositEnabled", False),
            withdraw_enabled=boolean(o, "withdrawEnabled", False),
            minimum_withdrawal=dec_opt(o, "minimumWithdrawal"),
            withdrawal_fee=dec_opt(o, "withdrawalFee"),
            native_decimals=int_opt(o, "nativeDecimals"),
        )


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset and the blockchains it moves on."""

    symbol: str
    display_name: str
    tokens: tuple[Token, ...]

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Asset:
        """Parse ``{"symbol":"SOL","displayName":"Solana","tokens":[{...}]}``."""
        tokens = list_of(o.get("tokens", []), "tokens")
        return cls(
            symbol=text(o, "symbol"),
            display_name=text_opt(o, "displayName") or text(o, "symbol"),
            tokens=tuple(Token.from_wire(obj_of(t, "tokens[]")) for t in tokens),
        )


@dataclass(frozen=True, slots=True)
class CollateralParameters:
    """How much an asset counts as collateral (haircut weight)."""

    symbol: str
    haircut_weight: Decimal | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> CollateralParameters:
        """Parse ``{"symbol":"SOL","haircutFunction":{"weight":"0.9","kind":{...}},...}``."""
        haircut = o.get("haircutFunction")
        weight = dec_opt(haircut, "weight") if isinstance(haircut, dict) else None
        return cls(symbol=text(o, "symbol"), haircut_weight=weight)


@dataclass(frozen=True, slots=True)
class Ticker:
    """24h (or 1w) rolling statistics for one market."""

    symbol: str
    first_price: Decimal
    last_price: Decimal
    price_change: Decimal
    price_change_percent: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Ticker:
        """Parse ``{"symbol":"SOL_USDC","firstPrice":"95","lastPrice":"96","priceChange":"1",
        "priceChangePercent":"0.01","high":"97","low":"94","volume":"10","quoteVolume":"960",
        "trades":"12"}``."""
        return cls(
            symbol=text(o, "symbol"),
            first_price=dec(o, "firstPrice"),
            last_price=dec(o, "lastPrice"),
            price_change=dec(o, "priceChange"),
            price_change_percent=dec(o, "priceChangePercent"),
            high=dec(o, "high"),
            low=dec(o, "low"),
            volume=dec(o, "volume"),
            quote_volume=dec(o, "quoteVolume"),
            trades=integer(o, "trades"),
        )


Level = tuple[Decimal, Decimal]


def _levels(raw: Any, key: str) -> list[Level]:
    out = []
    for level in list_of(raw, key):
        if type(level) is not list or len(level) < 2:
            from .wire import FieldError

            raise FieldError(key, level, "[price, quantity] pairs")
        out.append((to_decimal(level[0], key), to_decimal(level[1], key)))
    return out


@dataclass(frozen=True, slots=True)
class Depth:
    """An order book snapshot; bids and asks as ``(price, quantity)`` pairs."""

    symbol: str
    bids: list[Level]
    asks: list[Level]
    last_update_id: int
    timestamp: int | None

    @classmethod
    def from_wire(cls, o: dict[str, Any], symbol: str = "") -> Depth:
        """Parse ``{"asks":[["96.1","2"]],"bids":[["95.9","1.5"]],"lastUpdateId":"1042",
        "timestamp":1750000000000000}``."""
        return cls(
            symbol=symbol,
            bids=_levels(o.get("bids"), "bids"),
            asks=_levels(o.get("asks"), "asks"),
            last_update_id=integer(o, "lastUpdateId"),
            timestamp=int_opt(o, "timestamp"),
        )


@dataclass(frozen=True, slots=True)
class Kline:
    """One candle."""

    start: datetime
    end: datetime
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal | None
    volume: Decimal
    quote_volume: Decimal
    trades: int

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Kline:
        """Parse ``{"start":"2025-01-01 00:00:00","end":"2025-01-01 00:01:00","open":"95",
        "high":"96","low":"94","close":"95.5","volume":"3","quoteVolume":"286","trades":"4"}``."""
        return cls(
            start=timestamp(o, "start"),
            end=timestamp(o, "end"),
            open=dec_opt(o, "open"),
            high=dec_opt(o, "high"),
            low=dec_opt(o, "low"),
            close=dec_opt(o, "close"),
            volume=dec(o, "volume"),
            quote_volume=dec(o, "quoteVolume"),
            trades=integer(o, "trades"),
        )


@dataclass(frozen=True, slots=True)
class Trade:
    """A public trade."""

    id: int | None
    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    timestamp: int
    is_buyer_maker: bool

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Trade:
        """Parse ``{"id":7,"price":"95.5","quantity":"1","quoteQuantity":"95.5",
        "timestamp":1750000000000,"isBuyerMaker":true}``."""
        return cls(
            id=int_opt(o, "id"),
            price=dec(o, "price"),
            quantity=dec(o, "quantity"),
            quote_quantity=dec(o, "quoteQuantity"),
            timestamp=integer(o, "timestamp"),
            is_buyer_maker=boolean(o, "isBuyerMaker"),
        )


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """Mark and index price of a market, with the funding estimate for perps."""

    symbol: str
    mark_price: Decimal
    index_price: Decimal | None
    funding_rate: Decimal | None
    next_funding_timestamp: int | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> MarkPrice:
        """Parse ``{"symbol":"SOL_USDC_PERP","markPrice":"95.4","indexPrice":"95.3",
        "fundingRate":"0.0001","nextFundingTimestamp":1750003600000}``."""
        return cls(
            symbol=text(o, "symbol"),
            mark_price=dec(o, "markPrice"),
            index_price=dec_opt(o, "indexPrice"),
            funding_rate=dec_opt(o, "fundingRate"),
            next_funding_timestamp=int_opt(o, "nextFundingTimestamp"),
        )


@dataclass(frozen=True, slots=True)
class FundingRate:
    """The funding rate paid for one interval."""

    symbol: str
    interval_end: datetime
    funding_rate: Decimal

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> FundingRate:
        """Parse ``{"symbol":"SOL_USDC_PERP","intervalEndTimestamp":"2025-01-01T08:00:00",
        "fundingRate":"0.0001"}``."""
        return cls(
            symbol=text(o, "symbol"),
            interval_end=timestamp(o, "intervalEndTimestamp"),
            funding_rate=dec(o, "fundingRate"),
        )
