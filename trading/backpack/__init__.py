"""Async client for Backpack Exchange (plain Python, no Django).

Usage::

    from trading.backpack import ExchangeSession, Credentials

    session = ExchangeSession(api_url="http://127.0.0.1:8765", ws_url="ws://127.0.0.1:8765/")
    client = session.client(Credentials(api_key="...", api_secret=lambda: "..."), label="Desk A")
    balances = await client.balances()   # dict[str, Balance]
    await session.aclose()

Errors: see ``trading.backpack.errors`` (one tree, mapped once at the edge).
"""

from __future__ import annotations

import base64

from .account_types import (
    AccountSettings,
    Balance,
    Collateral,
    Deposit,
    DepositAddress,
    Fill,
    MaxQuantity,
    Order,
    OrderStatus,
    OrderType,
    Position,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Withdrawal,
)
from .client import BackpackClient
from .errors import (
    AuthenticationError,
    BackpackError,
    ExchangeUnavailableError,
    MaintenanceError,
    RequestRejectedError,
    ServerError,
)
from .history import HistoryCursor, HistoryPage, read_history, walk_history
from .history_types import (
    FundingPayment,
    PositionHistory,
    PositionState,
    Settlement,
    SettlementSource,
    SettlementSourceFilter,
    SortDirection,
)
from .market_types import Asset, Depth, FundingRate, Kline, Market, MarkPrice, Ticker, Trade
from .metrics import CallRecord, MetricsCollector
from .order_types import TriggerBy
from .ratelimit import Budget
from .retry import RetryPolicy
from .rules import OrderCheck, Problem, validate_order
from .session import ExchangeSession
from .signing import Credentials
from .strategy_types import SlippageToleranceType, Strategy, StrategyStatus, StrategyType


async def verify_credentials(session: ExchangeSession, credentials: Credentials) -> None:
    """Check a key pair before saving it.

    Raises ``AuthenticationError`` when the secret is not a valid seed, does not belong to
    the API key, or the exchange rejects the key; ``ExchangeUnavailableError`` when the
    exchange cannot be reached or fails. Returns ``None`` when the key works.
    """
    key = credentials.signing_key()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    del key
    if public != credentials.api_key.strip():
        raise AuthenticationError(
            "The API secret does not belong to this API key.",
            action="Copy the key and the secret from the same key pair on the exchange.",
        )
    client = session.client(credentials, label="verify")
    try:
        await client.balances()
    except AuthenticationError:
        raise
    except RequestRejectedError as error:
        raise AuthenticationError(
            f"The exchange refused the key: {error.message}", code=error.code, status=error.status
        ) from error
    except (ServerError, MaintenanceError, ExchangeUnavailableError) as error:
        raise ExchangeUnavailableError(
            f"Could not check the key: the exchange did not answer properly ({error.message}).",
            action="Try again in a minute.",
        ) from error


__all__ = [
    "AccountSettings",
    "Asset",
    "BackpackClient",
    "BackpackError",
    "Balance",
    "Budget",
    "CallRecord",
    "Collateral",
    "Credentials",
    "Deposit",
    "DepositAddress",
    "Depth",
    "ExchangeSession",
    "Fill",
    "FundingPayment",
    "FundingRate",
    "HistoryCursor",
    "HistoryPage",
    "Kline",
    "MarkPrice",
    "Market",
    "MaxQuantity",
    "MetricsCollector",
    "Order",
    "OrderCheck",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionHistory",
    "PositionState",
    "Problem",
    "RetryPolicy",
    "SelfTradePrevention",
    "Settlement",
    "SettlementSource",
    "SettlementSourceFilter",
    "Side",
    "SlippageToleranceType",
    "SortDirection",
    "Strategy",
    "StrategyStatus",
    "StrategyType",
    "Ticker",
    "TimeInForce",
    "Trade",
    "TriggerBy",
    "Withdrawal",
    "read_history",
    "validate_order",
    "verify_credentials",
    "walk_history",
]
