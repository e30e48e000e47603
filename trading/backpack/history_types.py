"""Typed account history: funding payments, settlements and positions (open and closed).

The three answer the team overview's questions with the exchange's own numbers: what each
position made (``PositionHistory.pnl_realized``), what funding and fees cost, and every USDC
movement the exchange settled (``Settlement``), each tied to its position by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .wire import (
    TolerantEnum,
    dec,
    dec_opt,
    enum,
    int_opt,
    text,
    text_opt,
    timestamp,
    timestamp_opt,
)


class SortDirection(TolerantEnum):
    """Order of a history's rows: ``Asc`` oldest first, ``Desc`` newest first."""

    ASC = "Asc"
    DESC = "Desc"


class SettlementSource(TolerantEnum):
    """Why the exchange settled an amount (the spec's ``SettlementSource``)."""

    TRADING_FEES = "TradingFees"
    TRADING_FEES_SYSTEM = "TradingFeesSystem"
    FUNDING_PAYMENT = "FundingPayment"
    CULLED_BORROW_INTEREST = "CulledBorrowInterest"
    CULLED_REALIZE_PNL_AUTO = "CulledRealizePnlAuto"
    CULLED_REALIZE_PNL_BOOK_UTILISATION = "CulledRealizePnlBookUtilisation"
    CULLED_REALIZE_PNL_ACCOUNT_THRESHOLD = "CulledRealizePnlAccountThreshold"
    CULLED_REALIZE_PNL_SYSTEM_THRESHOLD = "CulledRealizePnlSystemThreshold"
    REALIZE_PNL = "RealizePnl"
    BACKSTOP_PROVIDER_LIQUIDATION = "BackstopProviderLiquidation"
    BACKSTOP_ADL_LIQUIDATION = "BackstopAdlLiquidation"
    BACKSTOP_LIQUIDITY_FUND_PROCEEDS = "BackstopLiquidityFundProceeds"
    SYSTEM_LIABILITY_TRANSFER = "SystemLiabilityTransfer"


class SettlementSourceFilter(TolerantEnum):
    """The ``source`` filter of the settlement history (some select several sources)."""

    BACKSTOP_LIQUIDATION = "BackstopLiquidation"
    CULLED_BORROW_INTEREST = "CulledBorrowInterest"
    CULLED_REALIZE_PNL = "CulledRealizePnl"
    CULLED_REALIZE_PNL_BOOK_UTILIZATION = "CulledRealizePnlBookUtilization"
    FUNDING_PAYMENT = "FundingPayment"
    REALIZE_PNL = "RealizePnl"
    TRADING_FEES = "TradingFees"
    TRADING_FEES_SYSTEM = "TradingFeesSystem"


class PositionState(TolerantEnum):
    """Whether a position in the history is still open."""

    OPEN = "Open"
    CLOSED = "Closed"


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding interval's payment on one position (positive received, negative paid).

    (``symbol``, ``interval_end``) identifies it within a subaccount."""

    symbol: str
    quantity: Decimal
    funding_rate: Decimal
    interval_end: datetime
    subaccount_id: int | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> FundingPayment:
        """Parse ``{"userId":1,"subaccountId":2,"symbol":"SOL_USDC_PERP","quantity":"-0.06",
        "intervalEndTimestamp":"2025-06-15T08:00:00","fundingRate":"0.0001"}``."""
        return cls(
            symbol=text(o, "symbol"),
            quantity=dec(o, "quantity"),
            funding_rate=dec(o, "fundingRate"),
            interval_end=timestamp(o, "intervalEndTimestamp"),
            subaccount_id=int_opt(o, "subaccountId"),
        )


@dataclass(frozen=True, slots=True)
class Settlement:
    """One USDC amount the exchange settled on the account (positive credited).

    ``engine_sequence`` is unique per settlement (the key for an idempotent sync);
    ``position_id`` ties realized PnL, perpetual fees and funding to their position."""

    source: SettlementSource
    quantity: Decimal
    timestamp: datetime
    position_id: str | None
    engine_sequence: int | None
    subaccount_id: int | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> Settlement:
        """Parse ``{"quantity":"-0.3","source":"TradingFees","subaccountId":2,
        "timestamp":"2025-06-15T12:00:00.123","userId":1,"positionId":"7",
        "engineSequence":41}``."""
        return cls(
            source=enum(SettlementSource, o, "source"),
            quantity=dec(o, "quantity"),
            timestamp=timestamp(o, "timestamp"),
            position_id=text_opt(o, "positionId"),
            engine_sequence=int_opt(o, "engineSequence"),
            subaccount_id=int_opt(o, "subaccountId"),
        )


@dataclass(frozen=True, slots=True)
class PositionHistory:
    """A position the account holds or held: its whole life from opening fill to close.

    ``pnl_realized`` is the price PnL of its closing fills; ``fees`` and ``funding`` are
    what it paid (fees positive when paid) and received (funding positive when received).
    """

    id: str
    symbol: str
    state: PositionState
    net_quantity: Decimal
    net_cost: Decimal
    entry_price: Decimal
    mark_price: Decimal
    closing_price: Decimal | None
    pnl_realized: Decimal
    pnl_unrealized: Decimal
    funding: Decimal
    fees: Decimal
    interest: Decimal
    liquidation_fees: Decimal
    closed_volume: Decimal
    opened_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def from_wire(cls, o: dict[str, Any]) -> PositionHistory:
        """Parse ``{"id":"7","symbol":"SOL_USDC_PERP","state":"Closed","netQuantity":"0",
        "netCost":"0","entryPrice":"150","markPrice":"152","closingPrice":"152",
        "cumulativePnlRealized":"8","unrealizedPnl":"0","fundingQuantity":"-0.06",
        "fees":"0.6","interest":"0","liquidationFees":"0","closedVolume":"4",
        "openedAt":"2025-06-15T12:00:00","closedAt":"2025-06-15T16:00:00",...}``."""
        return cls(
            id=text(o, "id"),
            symbol=text(o, "symbol"),
            state=enum(PositionState, o, "state"),
            net_quantity=dec(o, "netQuantity"),
            net_cost=dec(o, "netCost"),
            entry_price=dec(o, "entryPrice"),
            mark_price=dec(o, "markPrice"),
            closing_price=dec_opt(o, "closingPrice"),
            pnl_realized=dec(o, "cumulativePnlRealized"),
            pnl_unrealized=dec(o, "unrealizedPnl"),
            funding=dec(o, "fundingQuantity"),
            fees=dec(o, "fees"),
            interest=dec(o, "interest"),
            liquidation_fees=dec(o, "liquidationFees"),
            closed_volume=dec(o, "closedVolume"),
            opened_at=timestamp_opt(o, "openedAt"),
            closed_at=timestamp_opt(o, "closedAt"),
        )


__all__ = [
    "FundingPayment",
    "PositionHistory",
    "PositionState",
    "Settlement",
    "SettlementSource",
    "SettlementSourceFilter",
    "SortDirection",
]
