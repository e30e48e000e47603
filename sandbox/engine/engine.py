"""The exchange engine: accounts, books, matching, ledger, market data.  No I/O.

Usage (the server's side)::

    engine = Engine(markets, assets, clock=lambda: time.time_ns() // 1000)
    engine.listeners.append(forward)           # or: events = engine.drain_events()
    engine.deposit(1, "USDC", Decimal("1000"))
    order = engine.execute_order(1, {"symbol": "SOL_USDC", "side": "Bid",
                                     "orderType": "Limit", "price": "20", "quantity": "1"})
    # order is the spec's OrderType JSON: {"id": "112...", "status": "New", ...}

Commands take wire-shaped input (the JSON body / query values, decimals as strings or
Decimal) and return wire-ready dicts (decimals as plain strings, ids as strings).  A refused
command raises :class:`~sandbox.engine.errors.EngineError` and changes nothing.  Every
change produces :class:`~sandbox.engine.events.Event` objects: they are passed to each
callable in ``engine.listeners`` and also queued for :meth:`Engine.drain_events` (the queue
is only kept while ``engine.keep_events`` is true, the default).

Times: the injected ``clock`` returns microseconds; stream events carry microseconds,
REST shapes milliseconds (or naive ISO datetimes where the spec says so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from .events import Event, Listener
from .markets import Asset, Market

Clock = Callable[[], int]

FEE_SUBACCOUNT_ID = -1
"""The exchange's own account: every fee is credited here (so assets are conserved)."""


class Engine:
    """One exchange: numbered subaccounts, one order book per market, a ledger."""

    def __init__(
        self,
        markets: Iterable[Market],
        assets: Iterable[Asset] = (),
        *,
        clock: Clock | None = None,
        fee_subaccount_id: int = FEE_SUBACCOUNT_ID,
    ) -> None:
        """Markets and assets as data; ``clock`` returns engine time in microseconds."""
        self.listeners: list[Listener] = []
        self.keep_events = True
        raise NotImplementedError

    # ----------------------------------------------------------------- events, time
    def drain_events(self) -> list[Event]:
        """Events produced since the last drain, oldest first."""
        raise NotImplementedError

    def now_us(self) -> int:
        """Engine time in microseconds (the injected clock)."""
        raise NotImplementedError

    # ------------------------------------------------------------ reference data
    def market(self, symbol: str) -> Market:
        """The market called ``symbol``; INVALID_MARKET if none."""
        raise NotImplementedError

    def markets_wire(self, market_type: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/v1/markets``: the spec's ``Market`` objects."""
        raise NotImplementedError

    def assets_wire(self) -> list[dict[str, Any]]:
        """``GET /api/v1/assets``: the spec's ``MarketAsset`` objects."""
        raise NotImplementedError

    # ------------------------------------------------------------------ accounts
    def open_subaccount(self, subaccount_id: int) -> None:
        """Create subaccount ``subaccount_id`` (no-op if it exists)."""
        raise NotImplementedError

    @property
    def subaccount_ids(self) -> list[int]:
        """Ids of the subaccounts, not counting the fee account."""
        raise NotImplementedError

    def deposit(
        self,
        subaccount_id: int,
        symbol: str,
        quantity: Decimal | str,
        *,
        blockchain: str | None = None,
        from_address: str | None = None,
        transaction_hash: str | None = None,
    ) -> dict[str, Any]:
        """Credit ``quantity`` of ``symbol``; returns the spec's ``Deposit`` (confirmed)."""
        raise NotImplementedError

    def request_withdrawal(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        quantity: Decimal | str,
        blockchain: str,
        address: str,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Debit ``quantity`` plus the token's withdrawal fee (fee to the fee account);
        returns the spec's ``Withdrawal`` with status ``pending``."""
        raise NotImplementedError

    def confirm_withdrawal(self, withdrawal_id: int | str) -> dict[str, Any]:
        """Mark a pending withdrawal ``confirmed``; returns the ``Withdrawal``."""
        raise NotImplementedError

    def deposits(
        self,
        subaccount_id: int,
        *,
        limit: int = 100,
        offset: int = 0,
        from_ms: int | None = None,
        to_ms: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/capital/deposits``, newest first."""
        raise NotImplementedError

    def withdrawals(
        self,
        subaccount_id: int,
        *,
        limit: int = 100,
        offset: int = 0,
        from_ms: int | None = None,
        to_ms: int | None = None,
        withdrawal_id: int | str | None = None,
        client_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/capital/withdrawals``, newest first."""
        raise NotImplementedError

    # ------------------------------------------------------------------- trading
    def execute_order(self, subaccount_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/order``: validate, match, rest.  ``payload`` is the spec's
        ``OrderExecutePayload`` (camelCase keys).  Returns the spec's ``OrderType`` object
        (status New / PartiallyFilled / Filled / Expired / TriggerPending)."""
        raise NotImplementedError

    def execute_orders(
        self, subaccount_id: int, payloads: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """``POST /api/v1/orders``: each payload in turn; each result is the order or the
        ``{"code": ..., "message": ...}`` error of that payload."""
        raise NotImplementedError

    def cancel_order(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        order_id: int | str | None = None,
        client_id: int | str | None = None,
    ) -> dict[str, Any]:
        """``DELETE /api/v1/order``: cancel one open (or trigger-pending) order; returns it
        with status Cancelled.  RESOURCE_NOT_FOUND if not open."""
        raise NotImplementedError

    def cancel_open_orders(
        self, subaccount_id: int, *, symbol: str, order_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``DELETE /api/v1/orders``: cancel every open order of the subaccount on
        ``symbol`` (``order_type``: ``RestingLimitOrder`` or ``ConditionalOrder`` to
        restrict)."""
        raise NotImplementedError

    # ------------------------------------------------------------ prices, funding
    def set_mark_price(
        self, symbol: str, mark_price: Decimal | str, index_price: Decimal | str | None = None
    ) -> None:
        """Set a market's mark (and index) price; fires MarkPrice triggers.  Without it the
        mark price follows the last trade."""
        raise NotImplementedError

    def set_funding_rate(self, symbol: str, rate: Decimal | str) -> None:
        """Set the estimated funding rate shown in mark prices for a perpetual."""
        raise NotImplementedError

    def settle_funding(self, symbol: str, rate: Decimal | str | None = None) -> None:
        """End a funding interval: longs pay shorts ``rate * notional`` at mark price
        (negative rate: shorts pay longs); records a funding-rate history row."""
        raise NotImplementedError

    def publish_market_data(self) -> None:
        """Emit the periodic streams (ticker, kline, markPrice, openInterest) for markets
        that changed since the last call; the server calls this about once a second."""
        raise NotImplementedError

    # ------------------------------------------------------------ public queries
    def depth(self, symbol: str, limit: int = 1000) -> dict[str, Any]:
        """``GET /api/v1/depth``: the spec's ``Depth`` with ``lastUpdateId``."""
        raise NotImplementedError

    def ticker(self, symbol: str, interval: str = "1d") -> dict[str, Any]:
        """``GET /api/v1/ticker``: the spec's ``Ticker`` over the rolling interval."""
        raise NotImplementedError

    def tickers(self, interval: str = "1d") -> list[dict[str, Any]]:
        """``GET /api/v1/tickers``."""
        raise NotImplementedError

    def klines(
        self,
        symbol: str,
        interval: str,
        start_time: int,
        end_time: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/klines``: the spec's ``Kline`` list; times in seconds."""
        raise NotImplementedError

    def recent_trades(self, symbol: str, limit: int = 100) -> list[dict[str, Any]]:
        """``GET /api/v1/trades``: newest ``limit`` trades, oldest first."""
        raise NotImplementedError

    def trade_history(self, symbol: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """``GET /api/v1/trades/history``: trades newest first after skipping ``offset``."""
        raise NotImplementedError

    def mark_prices(
        self, symbol: str | None = None, market_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/markPrices``: the spec's ``MarkPrice`` objects."""
        raise NotImplementedError

    def open_interest(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/v1/openInterest``: the spec's ``OpenInterest`` objects (perps)."""
        raise NotImplementedError

    def funding_rates(self, symbol: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """``GET /api/v1/fundingRates``: settled intervals, newest first."""
        raise NotImplementedError

    # ----------------------------------------------------------- private queries
    def open_orders(
        self, subaccount_id: int, symbol: str | None = None, market_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/orders``: open and trigger-pending orders, oldest first."""
        raise NotImplementedError

    def get_order(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        order_id: int | str | None = None,
        client_id: int | str | None = None,
    ) -> dict[str, Any]:
        """``GET /api/v1/order``: an open order by id or clientId; RESOURCE_NOT_FOUND
        otherwise."""
        raise NotImplementedError

    def order_history(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        order_id: int | str | None = None,
        market_type: str | None = None,
        limit: int = 100,
        offset: int = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/orders``: every order ever accepted (the spec's
        ``Order``)."""
        raise NotImplementedError

    def fill_history(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        order_id: int | str | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        market_type: str | None = None,
        limit: int = 100,
        offset: int = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/fills``: the spec's ``OrderFill`` list."""
        raise NotImplementedError

    def positions(self, subaccount_id: int, symbol: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/v1/position``: open positions (``FuturePositionWithMargin``)."""
        raise NotImplementedError

    def balances(self, subaccount_id: int) -> dict[str, dict[str, str]]:
        """``GET /api/v1/capital``: ``{asset: {"available", "locked", "staked"}}``."""
        raise NotImplementedError

    def collateral(self, subaccount_id: int) -> dict[str, Any]:
        """``GET /api/v1/capital/collateral``: the spec's ``MarginAccountSummary``."""
        raise NotImplementedError

    def account(self, subaccount_id: int) -> dict[str, Any]:
        """``GET /api/v1/account``: the spec's ``AccountSummary`` (fees in bps, counts)."""
        raise NotImplementedError

    def max_order_quantity(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        side: str,
        price: Decimal | str | None = None,
        reduce_only: bool = False,
    ) -> dict[str, Any]:
        """``GET /api/v1/account/limits/order``: the spec's ``MaxOrderQuantity``."""
        raise NotImplementedError

    def max_withdrawal_quantity(self, subaccount_id: int, *, symbol: str) -> dict[str, Any]:
        """``GET /api/v1/account/limits/withdrawal``: the spec's ``MaxWithdrawalQuantity``."""
        raise NotImplementedError
