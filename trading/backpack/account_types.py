"""Typed account data: balances, orders, fills, positions, capital movements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .order_types import (
    Order,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from .wire import (
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
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Balance:
    """Spot balance of one asset."""

    available: Decimal
    locked: Decimal
    staked: Decimal

    @property
    def total(self) -> Decimal:
        """available + locked + staked."""
        return self.available + self.locked + self.staked

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Balance:
        """Parse ``{"available":"10.5","locked":"0","staked":"0"}``."""
        return cls(dec(o, "available"), dec(o, "locked"), dec(o, "staked"))


def parse_balances(payload: Any) -> dict[str, Balance]:
    """Parse ``{"SOL":{"available":"10","locked":"0","staked":"0"},...}``."""
    body = obj_of(payload, "(body)")
    return {asset: Balance.from_wire(obj_of(v, asset)) for asset, v in body.items()}


@dataclass(frozen=True, slots=True)
class CollateralEntry:
    """Collateral held in one asset."""

    symbol: str
    total_quantity: Decimal
    available_quantity: Decimal
    collateral_value: Decimal

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> CollateralEntry:
        """Parse ``{"symbol":"USDC","totalQuantity":"100","availableQuantity":"90",
        "collateralValue":"100",...}``."""
        return cls(
            symbol=text(o, "symbol"),
            total_quantity=dec(o, "totalQuantity"),
            available_quantity=dec(o, "availableQuantity"),
            collateral_value=dec(o, "collateralValue"),
        )


@dataclass(frozen=True, slots=True)
class Collateral:
    """Margin account summary."""

    net_equity: Decimal
    net_equity_available: Decimal
    net_equity_locked: Decimal
    assets_value: Decimal
    liabilities_value: Decimal
    pnl_unrealized: Decimal
    imf: Decimal
    mmf: Decimal
    margin_fraction: Decimal | None
    collateral: tuple[CollateralEntry, ...]

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Collateral:
        """Parse ``{"netEquity":"100","netEquityAvailable":"90","netEquityLocked":"10",
        "assetsValue":"100","liabilitiesValue":"0","pnlUnrealized":"0","imf":"0.02",
        "mmf":"0.01","collateral":[...],...}``."""
        return cls(
            net_equity=dec(o, "netEquity"),
            net_equity_available=dec(o, "netEquityAvailable"),
            net_equity_locked=dec(o, "netEquityLocked"),
            assets_value=dec(o, "assetsValue"),
            liabilities_value=dec(o, "liabilitiesValue"),
            pnl_unrealized=dec(o, "pnlUnrealized"),
            imf=dec(o, "imf"),
            mmf=dec(o, "mmf"),
            margin_fraction=dec_opt(o, "marginFraction"),
            collateral=tuple(
                CollateralEntry.from_wire(obj_of(c, "collateral[]"))
                for c in list_of(o.get("collateral", []), "collateral")
            ),
        )


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """Account-wide settings and fee levels."""

    auto_borrow_settlements: bool
    auto_lend: bool
    auto_realize_pnl: bool
    auto_repay_borrows: bool
    borrow_limit: Decimal
    leverage_limit: Decimal
    position_limit: Decimal
    spot_maker_fee: Decimal
    spot_taker_fee: Decimal
    futures_maker_fee: Decimal
    futures_taker_fee: Decimal
    limit_orders: int
    trigger_orders: int
    liquidating: bool

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> AccountSettings:
        """Parse ``{"autoBorrowSettlements":true,"autoLend":false,...,"spotMakerFee":"2",
        "limitOrders":500,"liquidating":false}``."""
        return cls(
            auto_borrow_settlements=boolean(o, "autoBorrowSettlements"),
            auto_lend=boolean(o, "autoLend"),
            auto_realize_pnl=boolean(o, "autoRealizePnl"),
            auto_repay_borrows=boolean(o, "autoRepayBorrows"),
            borrow_limit=dec(o, "borrowLimit"),
            leverage_limit=dec(o, "leverageLimit"),
            position_limit=dec(o, "positionLimit"),
            spot_maker_fee=dec(o, "spotMakerFee"),
            spot_taker_fee=dec(o, "spotTakerFee"),
            futures_maker_fee=dec(o, "futuresMakerFee"),
            futures_taker_fee=dec(o, "futuresTakerFee"),
            limit_orders=integer(o, "limitOrders"),
            trigger_orders=integer(o, "triggerOrders"),
            liquidating=boolean(o, "liquidating"),
        )


@dataclass(frozen=True, slots=True)
class MaxQuantity:
    """Largest order or withdrawal the account can make now."""

    symbol: str
    max_quantity: Decimal
    side: Side | None = None

    @classmethod
    def order_from_wire(cls, o: dict[str, Any]) -> MaxQuantity:
        """Parse ``{"symbol":"SOL_USDC","side":"Bid","maxOrderQuantity":"12.5"}``."""
        return cls(text(o, "symbol"), dec(o, "maxOrderQuantity"), enum(Side, o, "side"))

    @classmethod
    def withdrawal_from_wire(cls, o: dict[str, Any]) -> MaxQuantity:
        """Parse ``{"symbol":"USDC","maxWithdrawalQuantity":"100"}``."""
        return cls(text(o, "symbol"), dec(o, "maxWithdrawalQuantity"))


@dataclass(frozen=True, slots=True)
class Position:
    """An open futures position."""

    symbol: str
    net_quantity: Decimal
    entry_price: Decimal
    break_even_price: Decimal
    mark_price: Decimal
    est_liquidation_price: Decimal | None
    net_exposure_notional: Decimal
    pnl_realized: Decimal
    pnl_unrealized: Decimal
    position_id: str | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Position:
        """Parse ``{"symbol":"SOL_USDC_PERP","netQuantity":"-2","entryPrice":"95",
        "breakEvenPrice":"95.1","markPrice":"94","estLiquidationPrice":"140",
        "netExposureNotional":"188","pnlRealized":"0","pnlUnrealized":"2","positionId":"9"}``."""
        return cls(
            symbol=text(o, "symbol"),
            net_quantity=dec(o, "netQuantity"),
            entry_price=dec(o, "entryPrice"),
            break_even_price=dec(o, "breakEvenPrice"),
            mark_price=dec(o, "markPrice"),
            est_liquidation_price=dec_opt(o, "estLiquidationPrice"),
            net_exposure_notional=dec(o, "netExposureNotional"),
            pnl_realized=dec(o, "pnlRealized"),
            pnl_unrealized=dec(o, "pnlUnrealized"),
            position_id=text_opt(o, "positionId"),
        )


@dataclass(frozen=True, slots=True)
class Fill:
    """One of the account's fills."""

    order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_symbol: str
    is_maker: bool
    timestamp: datetime
    trade_id: int | None
    client_id: int | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Fill:
        """Parse ``{"orderId":"111","symbol":"SOL_USDC","side":"Bid","price":"95.5",
        "quantity":"0.25","fee":"0.0001","feeSymbol":"SOL","isMaker":true,
        "timestamp":"2025-06-15T12:00:00","tradeId":7,"clientId":"42"}``."""
        return cls(
            order_id=text(o, "orderId"),
            symbol=text(o, "symbol"),
            side=enum(Side, o, "side"),
            price=dec(o, "price"),
            quantity=dec(o, "quantity"),
            fee=dec(o, "fee"),
            fee_symbol=text(o, "feeSymbol"),
            is_maker=boolean(o, "isMaker"),
            timestamp=timestamp(o, "timestamp"),
            trade_id=int_opt(o, "tradeId"),
            client_id=int_opt(o, "clientId"),
        )


@dataclass(frozen=True, slots=True)
class Deposit:
    """A deposit into the account."""

    id: int
    symbol: str
    quantity: Decimal
    status: str
    source: str
    transaction_hash: str | None
    created_at: datetime

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Deposit:
        """Parse ``{"id":3,"symbol":"USDC","quantity":"100","status":"confirmed",
        "source":"solana","transactionHash":"5x..","createdAt":"2025-06-15T12:00:00"}``."""
        return cls(
            id=integer(o, "id"),
            symbol=text(o, "symbol"),
            quantity=dec(o, "quantity"),
            status=text(o, "status"),
            source=text(o, "source"),
            transaction_hash=text_opt(o, "transactionHash"),
            created_at=timestamp(o, "createdAt"),
        )


@dataclass(frozen=True, slots=True)
class DepositAddress:
    """Where to send a deposit."""

    address: str

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> DepositAddress:
        """Parse ``{"address":"9xQeWvG8..."}``."""
        return cls(text(o, "address"))


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A withdrawal from the account."""

    id: int
    symbol: str
    blockchain: str
    quantity: Decimal
    fee: Decimal
    status: str
    to_address: str
    client_id: str | None
    transaction_hash: str | None
    is_internal: bool
    created_at: datetime

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Withdrawal:
        """Parse ``{"id":5,"symbol":"USDC","blockchain":"Solana","quantity":"12.5",
        "fee":"0.1","status":"pending","toAddress":"9xQ...","isInternal":false,
        "createdAt":"2025-06-15T12:00:00"}``."""
        return cls(
            id=integer(o, "id"),
            symbol=text(o, "symbol"),
            blockchain=text(o, "blockchain"),
            quantity=dec(o, "quantity"),
            fee=dec(o, "fee"),
            status=text(o, "status"),
            to_address=text(o, "toAddress"),
            client_id=text_opt(o, "clientId"),
            transaction_hash=text_opt(o, "transactionHash"),
            is_internal=boolean(o, "isInternal", False),
            created_at=timestamp(o, "createdAt"),
        )


def parse_order_or_none(payload: Any) -> Order | None:
    """A cancel may answer 202 with no body; otherwise an order."""
    if payload is None or payload == "":
        return None
    return Order.from_wire(obj_of(payload, "(body)"))


__all__ = [
    "AccountSettings",
    "Balance",
    "Collateral",
    "CollateralEntry",
    "Deposit",
    "DepositAddress",
    "Fill",
    "MaxQuantity",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "Withdrawal",
    "parse_balances",
]
