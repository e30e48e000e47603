"""The per-subaccount client: one thin typed method per endpoint.

Obtain it from ``ExchangeSession.client(credentials, label=...)``. Read methods are
retried by the session; order methods live in ``orders.OrderMethods`` (reconciliation by
``clientId``, idempotent cancels), stop orders and position exits in
``trigger_orders.TriggerMethods``, strategies (TWAP) in ``strategies.StrategyMethods``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

from . import routes as R
from .account_types import (
    AccountSettings,
    Balance,
    Collateral,
    Deposit,
    DepositAddress,
    Fill,
    MaxQuantity,
    Order,
    Position,
    Side,
    Withdrawal,
    parse_balances,
)
from .client_session import ClientSession
from .decimals import parse_decimal
from .errors import InvalidNumberError
from .history_types import (
    FundingPayment,
    PositionHistory,
    PositionState,
    Settlement,
    SettlementSourceFilter,
    SortDirection,
)
from .market_types import (
    Asset,
    CollateralParameters,
    Depth,
    FundingRate,
    Kline,
    Market,
    MarketType,
    MarkPrice,
    Ticker,
    Trade,
)
from .orders import OrderMethods
from .routes import Route
from .signing import Credentials
from .strategies import StrategyMethods
from .trigger_orders import TriggerMethods
from .wire import parse, parse_list


class BackpackClient(OrderMethods, TriggerMethods, StrategyMethods):
    """Typed access to one subaccount (``credentials``) or to public data only."""

    def __init__(
        self, session: ClientSession, credentials: Credentials | None, *, label: str
    ) -> None:
        self.session = session
        self.credentials = credentials
        self.label = label

    def _call(self, route: Route, params: Any = None, **kw: Any) -> Awaitable[Any]:
        # Returns the session's coroutine itself (one frame less on every request).
        return self.session.call(
            route, params, credentials=self.credentials, label=self.label, **kw
        )

    # -- public market data --------------------------------------------------------------

    async def server_time(self) -> int:
        """``GET /api/v1/time``: the exchange's clock in epoch milliseconds."""
        return await self.session.server_time_ms()

    async def markets(self) -> list[Market]:
        """``GET /api/v1/markets``: every market with its filters."""
        return parse_list(R.MARKETS.label, Market.from_wire, await self._call(R.MARKETS))

    async def market(self, symbol: str) -> Market:
        """``GET /api/v1/market``: one market."""
        payload = await self._call(R.MARKET, {"symbol": symbol})
        return parse(R.MARKET.label, Market.from_wire, payload)

    async def assets(self) -> list[Asset]:
        """``GET /api/v1/assets``: assets and the blockchains they move on."""
        return parse_list(R.ASSETS.label, Asset.from_wire, await self._call(R.ASSETS))

    async def collateral_parameters(self) -> list[CollateralParameters]:
        """``GET /api/v1/collateral``: collateral haircut per asset."""
        payload = await self._call(R.COLLATERAL_PARAMS)
        return parse_list(R.COLLATERAL_PARAMS.label, CollateralParameters.from_wire, payload)

    async def ticker(self, symbol: str, *, interval: str | None = None) -> Ticker:
        """``GET /api/v1/ticker``: rolling statistics of one market."""
        payload = await self._call(R.TICKER, {"symbol": symbol, "interval": interval})
        return parse(R.TICKER.label, Ticker.from_wire, payload)

    async def tickers(self, *, interval: str | None = None) -> list[Ticker]:
        """``GET /api/v1/tickers``: rolling statistics of every market."""
        payload = await self._call(R.TICKERS, {"interval": interval})
        return parse_list(R.TICKERS.label, Ticker.from_wire, payload)

    async def depth(self, symbol: str, *, limit: int | None = None) -> Depth:
        """``GET /api/v1/depth``: order book snapshot with ``last_update_id``."""
        payload = await self._call(
            R.DEPTH, {"symbol": symbol, "limit": str(limit) if limit else None}
        )
        return parse(R.DEPTH.label, lambda o: Depth.from_wire(o, symbol), payload)

    async def klines(
        self, symbol: str, interval: str, start_time: int, *, end_time: int | None = None
    ) -> list[Kline]:
        """``GET /api/v1/klines`` (historical budget): candles from ``start_time`` (s)."""
        params = {
            "symbol": symbol,
            "interval": interval,
            "startTime": start_time,
            "endTime": end_time,
        }
        return parse_list(R.KLINES.label, Kline.from_wire, await self._call(R.KLINES, params))

    async def trades(self, symbol: str, *, limit: int | None = None) -> list[Trade]:
        """``GET /api/v1/trades``: recent public trades."""
        payload = await self._call(R.TRADES, {"symbol": symbol, "limit": limit})
        return parse_list(R.TRADES.label, Trade.from_wire, payload)

    async def trades_history(
        self, symbol: str, *, limit: int | None = None, offset: int | None = None
    ) -> list[Trade]:
        """``GET /api/v1/trades/history`` (historical budget): older public trades."""
        params = {"symbol": symbol, "limit": limit, "offset": offset}
        payload = await self._call(R.TRADES_HISTORY, params)
        return parse_list(R.TRADES_HISTORY.label, Trade.from_wire, payload)

    async def mark_prices(self, symbol: str | None = None) -> list[MarkPrice]:
        """``GET /api/v1/markPrices``: mark/index price and funding estimate."""
        payload = await self._call(R.MARK_PRICES, {"symbol": symbol})
        return parse_list(R.MARK_PRICES.label, MarkPrice.from_wire, payload)

    async def funding_rates(
        self, symbol: str, *, limit: int | None = None, offset: int | None = None
    ) -> list[FundingRate]:
        """``GET /api/v1/fundingRates``: past funding rates of a perp."""
        params = {"symbol": symbol, "limit": limit, "offset": offset}
        payload = await self._call(R.FUNDING_RATES, params)
        return parse_list(R.FUNDING_RATES.label, FundingRate.from_wire, payload)

    # -- account -------------------------------------------------------------------------

    async def balances(self) -> dict[str, Balance]:
        """``GET /api/v1/capital``: spot balances by asset."""
        return parse(R.BALANCES.label, parse_balances, await self._call(R.BALANCES))

    async def collateral(self) -> Collateral:
        """``GET /api/v1/capital/collateral``: margin account summary."""
        return parse(R.COLLATERAL.label, Collateral.from_wire, await self._call(R.COLLATERAL))

    async def account(self) -> AccountSettings:
        """``GET /api/v1/account``: account settings and fees."""
        return parse(R.ACCOUNT.label, AccountSettings.from_wire, await self._call(R.ACCOUNT))

    async def max_order_quantity(
        self,
        symbol: str,
        side: Side | str,
        *,
        price: Decimal | None = None,
        reduce_only: bool | None = None,
    ) -> MaxQuantity:
        """``GET /api/v1/account/limits/order``: largest order possible now."""
        price = parse_decimal(price, field="price", required=False)
        params = {"symbol": symbol, "side": side, "price": price, "reduceOnly": reduce_only}
        payload = await self._call(R.MAX_ORDER, params)
        return parse(R.MAX_ORDER.label, MaxQuantity.order_from_wire, payload)

    async def max_withdrawal_quantity(self, symbol: str) -> MaxQuantity:
        """``GET /api/v1/account/limits/withdrawal``: largest withdrawal possible now."""
        payload = await self._call(R.MAX_WITHDRAWAL, {"symbol": symbol})
        return parse(R.MAX_WITHDRAWAL.label, MaxQuantity.withdrawal_from_wire, payload)

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """``GET /api/v1/position``: open futures positions."""
        payload = await self._call(R.POSITIONS, {"symbol": symbol})
        return parse_list(R.POSITIONS.label, Position.from_wire, payload)

    async def fill_history(
        self,
        *,
        symbol: str | None = None,
        order_id: str | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        market_type: MarketType | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: SortDirection | str | None = None,
    ) -> list[Fill]:
        """``GET /wapi/v1/history/fills`` (historical budget): the account's fills."""
        params = {
            "symbol": symbol,
            "orderId": order_id,
            "from": from_ms,
            "to": to_ms,
            "marketType": market_type,
            "limit": limit,
            "offset": offset,
            "sortDirection": sort_direction,
        }
        payload = await self._call(R.FILL_HISTORY, params)
        return parse_list(R.FILL_HISTORY.label, Fill.from_wire, payload)

    async def order_history(
        self,
        *,
        symbol: str | None = None,
        order_id: str | None = None,
        market_type: MarketType | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: SortDirection | str | None = None,
    ) -> list[Order]:
        """``GET /wapi/v1/history/orders`` (historical budget): past orders."""
        params = {
            "symbol": symbol,
            "orderId": order_id,
            "marketType": market_type,
            "limit": limit,
            "offset": offset,
            "sortDirection": sort_direction,
        }
        payload = await self._call(R.ORDER_HISTORY, params)
        return parse_list(R.ORDER_HISTORY.label, Order.from_wire, payload)

    async def funding_payments(
        self,
        *,
        symbol: str | None = None,
        subaccount_id: int | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: SortDirection | str | None = None,
    ) -> list[FundingPayment]:
        """``GET /wapi/v1/history/funding`` (historical budget): funding paid and received,
        one row per position per funding interval."""
        params = {
            "symbol": symbol,
            "subaccountId": subaccount_id,
            "limit": limit,
            "offset": offset,
            "sortDirection": sort_direction,
        }
        payload = await self._call(R.FUNDING_HISTORY, params)
        return parse_list(R.FUNDING_HISTORY.label, FundingPayment.from_wire, payload)

    async def settlement_history(
        self,
        *,
        source: SettlementSourceFilter | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: SortDirection | str | None = None,
    ) -> list[Settlement]:
        """``GET /wapi/v1/history/settlement`` (historical budget): realized PnL, fees and
        funding the exchange settled, each with its position id."""
        params = {
            "source": source,
            "limit": limit,
            "offset": offset,
            "sortDirection": sort_direction,
        }
        payload = await self._call(R.SETTLEMENT_HISTORY, params)
        return parse_list(R.SETTLEMENT_HISTORY.label, Settlement.from_wire, payload)

    async def position_history(
        self,
        *,
        symbol: str | None = None,
        state: PositionState | str | None = None,
        market_type: MarketType | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: SortDirection | str | None = None,
    ) -> list[PositionHistory]:
        """``GET /wapi/v1/history/position`` (historical budget): every position held, open
        (valued at mark) and closed (with its realized PnL, fees and funding)."""
        params = {
            "symbol": symbol,
            "state": state,
            "marketType": market_type,
            "limit": limit,
            "offset": offset,
            "sortDirection": sort_direction,
        }
        payload = await self._call(R.POSITION_HISTORY, params)
        return parse_list(R.POSITION_HISTORY.label, PositionHistory.from_wire, payload)

    async def deposits(
        self,
        *,
        from_ms: int | None = None,
        to_ms: int | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[Deposit]:
        """``GET /wapi/v1/capital/deposits``: deposits into the account."""
        params = {"from": from_ms, "to": to_ms, "limit": limit, "offset": offset}
        payload = await self._call(R.DEPOSITS, params)
        return parse_list(R.DEPOSITS.label, Deposit.from_wire, payload)

    async def deposit_address(self, blockchain: str) -> DepositAddress:
        """``GET /wapi/v1/capital/deposit/address``: where to send a deposit."""
        payload = await self._call(R.DEPOSIT_ADDRESS, {"blockchain": blockchain})
        return parse(R.DEPOSIT_ADDRESS.label, DepositAddress.from_wire, payload)

    async def withdrawals(
        self,
        *,
        client_id: str | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[Withdrawal]:
        """``GET /wapi/v1/capital/withdrawals``: withdrawals from the account (``client_id``
        finds the one a lost ``request_withdrawal`` answer was about)."""
        params = {
            "clientId": client_id,
            "from": from_ms,
            "to": to_ms,
            "limit": limit,
            "offset": offset,
        }
        payload = await self._call(R.WITHDRAWALS, params)
        return parse_list(R.WITHDRAWALS.label, Withdrawal.from_wire, payload)

    async def request_withdrawal(
        self,
        *,
        symbol: str,
        blockchain: str,
        address: str,
        quantity: Decimal,
        client_id: str | None = None,
        two_factor_token: str | None = None,
    ) -> Withdrawal:
        """``POST /wapi/v1/capital/withdrawals``: request a withdrawal (never retried; after
        a lost answer, look it up with ``withdrawals(client_id=...)``)."""
        quantity = parse_decimal(quantity, field="quantity")
        if not quantity:
            raise InvalidNumberError(
                "quantity must be above zero.", field="quantity", kind="zero", text="0"
            )
        params = {
            "symbol": symbol,
            "blockchain": blockchain,
            "address": address,
            "quantity": quantity,
            "clientId": client_id,
            "twoFactorToken": two_factor_token,
        }
        payload = await self._call(R.WITHDRAW, params)
        return parse(R.WITHDRAW.label, Withdrawal.from_wire, payload)

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        """``GET /api/v1/orders``: the account's open orders."""
        payload = await self._call(R.ORDERS_OPEN, {"symbol": symbol})
        return parse_list(R.ORDERS_OPEN.label, Order.from_wire, payload)

    async def order(
        self, symbol: str, *, order_id: str | None = None, client_id: int | None = None
    ) -> Order:
        """``GET /api/v1/order``: one open order by id or clientId."""
        params = {"symbol": symbol, "orderId": order_id, "clientId": client_id}
        return parse(R.ORDER_GET.label, Order.from_wire, await self._call(R.ORDER_GET, params))
