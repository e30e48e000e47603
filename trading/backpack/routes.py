"""Every endpoint the client calls, declared as data.

A route carries its method, path, signing instruction (``None`` for public routes), the
rate-limit budget it draws from and whether it may be retried blindly. Signing reads the
instruction from here, so a private route without one cannot be sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STANDARD = "standard"
HISTORICAL = "historical"


@dataclass(frozen=True, slots=True)
class Route:
    """One REST endpoint."""

    name: str
    method: str
    path: str
    instruction: str | None = None
    private: bool = False
    budget: str = STANDARD
    idempotent: bool = True
    label: str = field(default="", compare=False)
    """``METHOD /path`` for messages and metrics (filled in from method and path)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", f"{self.method} {self.path}")


def _public(name: str, path: str, budget: str = STANDARD) -> Route:
    return Route(name, "GET", path, budget=budget)


def _private(
    name: str,
    method: str,
    path: str,
    instruction: str,
    *,
    budget: str = STANDARD,
    idempotent: bool = True,
) -> Route:
    return Route(name, method, path, instruction, True, budget, idempotent)


TIME = _public("time", "/api/v1/time")
MARKETS = _public("markets", "/api/v1/markets")
MARKET = _public("market", "/api/v1/market")
ASSETS = _public("assets", "/api/v1/assets")
COLLATERAL_PARAMS = _public("collateral_parameters", "/api/v1/collateral")
TICKER = _public("ticker", "/api/v1/ticker")
TICKERS = _public("tickers", "/api/v1/tickers")
DEPTH = _public("depth", "/api/v1/depth")
KLINES = _public("klines", "/api/v1/klines", HISTORICAL)
TRADES = _public("trades", "/api/v1/trades")
TRADES_HISTORY = _public("trades_history", "/api/v1/trades/history", HISTORICAL)
MARK_PRICES = _public("mark_prices", "/api/v1/markPrices")
FUNDING_RATES = _public("funding_rates", "/api/v1/fundingRates")

BALANCES = _private("balances", "GET", "/api/v1/capital", "balanceQuery")
COLLATERAL = _private("collateral", "GET", "/api/v1/capital/collateral", "collateralQuery")
ACCOUNT = _private("account", "GET", "/api/v1/account", "accountQuery")
MAX_ORDER = _private(
    "max_order_quantity", "GET", "/api/v1/account/limits/order", "maxOrderQuantity"
)
MAX_WITHDRAWAL = _private(
    "max_withdrawal_quantity", "GET", "/api/v1/account/limits/withdrawal", "maxWithdrawalQuantity"
)
ORDER_GET = _private("order", "GET", "/api/v1/order", "orderQuery")
ORDER_PLACE = _private("place_order", "POST", "/api/v1/order", "orderExecute", idempotent=False)
ORDER_CANCEL = _private("cancel_order", "DELETE", "/api/v1/order", "orderCancel", idempotent=False)
ORDERS_BATCH = _private("place_orders", "POST", "/api/v1/orders", "orderExecute", idempotent=False)
ORDERS_OPEN = _private("open_orders", "GET", "/api/v1/orders", "orderQueryAll")
ORDERS_CANCEL_ALL = _private(
    "cancel_all_orders", "DELETE", "/api/v1/orders", "orderCancelAll", idempotent=False
)
POSITIONS = _private("positions", "GET", "/api/v1/position", "positionQuery")
FILL_HISTORY = _private(
    "fill_history", "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", budget=HISTORICAL
)
ORDER_HISTORY = _private(
    "order_history", "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll", budget=HISTORICAL
)
FUNDING_HISTORY = _private(
    "funding_payments",
    "GET",
    "/wapi/v1/history/funding",
    "fundingHistoryQueryAll",
    budget=HISTORICAL,
)
SETTLEMENT_HISTORY = _private(
    "settlement_history",
    "GET",
    "/wapi/v1/history/settlement",
    "settlementHistoryQueryAll",
    budget=HISTORICAL,
)
POSITION_HISTORY = _private(
    "position_history",
    "GET",
    "/wapi/v1/history/position",
    "positionHistoryQueryAll",
    budget=HISTORICAL,
)
DEPOSITS = _private("deposits", "GET", "/wapi/v1/capital/deposits", "depositQueryAll")
DEPOSIT_ADDRESS = _private(
    "deposit_address", "GET", "/wapi/v1/capital/deposit/address", "depositAddressQuery"
)
WITHDRAWALS = _private("withdrawals", "GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll")
WITHDRAW = _private(
    "request_withdrawal", "POST", "/wapi/v1/capital/withdrawals", "withdraw", idempotent=False
)
STRATEGY_GET = _private("strategy", "GET", "/api/v1/strategy", "strategyQuery")
STRATEGY_CREATE = _private(
    "create_strategy", "POST", "/api/v1/strategy", "strategyCreate", idempotent=False
)
STRATEGY_CANCEL = _private(
    "cancel_strategy", "DELETE", "/api/v1/strategy", "strategyCancel", idempotent=False
)
STRATEGIES_OPEN = _private("open_strategies", "GET", "/api/v1/strategies", "strategyQueryAll")
STRATEGIES_CANCEL_ALL = _private(
    "cancel_all_strategies", "DELETE", "/api/v1/strategies", "strategyCancelAll", idempotent=False
)
STRATEGY_HISTORY = _private(
    "strategy_history",
    "GET",
    "/wapi/v1/history/strategies",
    "strategyHistoryQueryAll",
    budget=HISTORICAL,
)
