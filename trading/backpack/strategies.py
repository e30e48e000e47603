"""Strategy endpoints (mixed into ``BackpackClient``): the exchange's ``Scheduled``
strategy, a TWAP run by the exchange itself.

A TWAP splits ``quantity`` into ``duration_ms // interval_ms`` slices, one each interval,
each an immediate order (market, or bounded by ``price`` / the slippage tolerance); what a
slice does not fill is carried to the next. Each slice is an order with ``strategy_id``.
Creating is never resent blindly: every strategy carries a ``clientStrategyId``, and a
lost answer is looked up by it among the running strategies, then in the history, before
anything is sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from . import routes as R
from .client_session import ClientSession
from .decimals import parse_decimal
from .errors import BackpackError, InvalidOrderError
from .market_types import MarketType
from .order_types import SelfTradePrevention, Side, TimeInForce
from .orders import UNKNOWN_OUTCOME, new_client_id
from .strategy_types import SlippageToleranceType, Strategy, StrategyType
from .wire import parse, parse_list

MAX_CLIENT_ID = 2**32 - 1


class StrategyMethods:
    """Strategy endpoints; ``_call`` and ``session`` come from ``BackpackClient``."""

    session: ClientSession
    resend_attempts: int
    reconcile_delay_s: float
    _call: Callable[..., Awaitable[Any]]

    async def create_twap(
        self,
        symbol: str,
        side: Side | str,
        *,
        quantity: Decimal | str,
        duration_ms: int,
        interval_ms: int,
        randomized: bool = False,
        reduce_only: bool | None = None,
        price: Decimal | str | None = None,
        slippage_tolerance: Decimal | str | None = None,
        slippage_tolerance_type: SlippageToleranceType | str | None = None,
        time_in_force: TimeInForce | str | None = None,
        self_trade_prevention: SelfTradePrevention | str | None = None,
        client_strategy_id: int | None = None,
    ) -> Strategy:
        """``POST /api/v1/strategy``: start a ``Scheduled`` strategy (TWAP).

        ``quantity`` is read strictly and checked against the market's step first
        (``InvalidOrderError`` naming the field). Started exactly once (see the module)."""
        amount = parse_decimal(quantity, field="quantity")
        if amount is None or amount <= 0:
            raise InvalidOrderError("quantity must be positive.", field="quantity")
        markets = self.session.markets
        market = markets.fresh(symbol) or await markets.get(symbol)
        if amount % market.step_size:
            raise InvalidOrderError(
                f"quantity {amount} is not on the step size {market.step_size}.",
                field="quantity",
            )
        for name, value in (("duration", duration_ms), ("interval", interval_ms)):
            if type(value) is not int or value <= 0:
                raise InvalidOrderError(f"{name} must be a positive whole number of ms.")
        if client_strategy_id is None:
            client_strategy_id = new_client_id()
        elif type(client_strategy_id) is not int or not 0 <= client_strategy_id <= MAX_CLIENT_ID:
            raise InvalidOrderError(
                f"clientStrategyId {client_strategy_id} is not a uint32.",
                field="clientStrategyId",
            )
        body: dict[str, Any] = {
            "strategyType": str(StrategyType.SCHEDULED),
            "symbol": symbol,
            "side": str(side),
            "quantity": amount,
            "duration": duration_ms,
            "interval": interval_ms,
            "randomizedIntervalQuantity": randomized,
            "clientStrategyId": client_strategy_id,
        }
        optional = {
            "reduceOnly": reduce_only,
            "price": parse_decimal(price, field="price", required=False),
            "slippageTolerance": parse_decimal(
                slippage_tolerance, field="slippageTolerance", required=False
            ),
            "slippageToleranceType": slippage_tolerance_type,
            "timeInForce": time_in_force,
            "selfTradePrevention": self_trade_prevention,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return await self._send_strategy(body)

    async def _send_strategy(self, body: dict[str, Any]) -> Strategy:
        last_error: BackpackError | None = None
        for _ in range(self.resend_attempts):
            try:
                payload = await self._call(R.STRATEGY_CREATE, body, retry=False)
            except UNKNOWN_OUTCOME as error:
                last_error = error
                await asyncio.sleep(self.reconcile_delay_s)
                if getattr(error, "maybe_sent", True):
                    found = await self.find_strategy(body["symbol"], body["clientStrategyId"])
                    if found is not None:
                        return found
                continue
            return parse(R.STRATEGY_CREATE.label, Strategy.from_wire, payload)
        assert last_error is not None
        raise last_error

    async def find_strategy(self, symbol: str, client_strategy_id: int) -> Strategy | None:
        """The strategy with ``client_strategy_id``: running, else in the history."""
        for strategy in await self.open_strategies(symbol=symbol):
            if strategy.client_strategy_id == client_strategy_id:
                return strategy
        for strategy in await self.strategy_history(symbol=symbol, limit=1000):
            if strategy.client_strategy_id == client_strategy_id:
                return strategy
        return None

    async def strategy(
        self,
        symbol: str,
        *,
        strategy_id: str | None = None,
        client_strategy_id: int | None = None,
    ) -> Strategy:
        """``GET /api/v1/strategy``: a running strategy (``OrderNotFoundError``-style
        ``RESOURCE_NOT_FOUND`` once it has ended: read the history then)."""
        params = {
            "symbol": symbol,
            "strategyId": strategy_id,
            "clientStrategyId": client_strategy_id,
        }
        payload = await self._call(R.STRATEGY_GET, params)
        return parse(R.STRATEGY_GET.label, Strategy.from_wire, payload)

    async def open_strategies(
        self,
        *,
        symbol: str | None = None,
        market_type: MarketType | str | None = None,
        strategy_type: StrategyType | str | None = None,
    ) -> list[Strategy]:
        """``GET /api/v1/strategies``: running strategies."""
        params = {"symbol": symbol, "marketType": market_type, "strategyType": strategy_type}
        payload = await self._call(R.STRATEGIES_OPEN, params)
        return parse_list(R.STRATEGIES_OPEN.label, Strategy.from_wire, payload)

    async def cancel_strategy(
        self,
        symbol: str,
        *,
        strategy_id: str | None = None,
        client_strategy_id: int | None = None,
    ) -> Strategy:
        """``DELETE /api/v1/strategy``: stop a running strategy; one that has already ended
        returns its final state from the history."""
        if strategy_id is None and client_strategy_id is None:
            raise InvalidOrderError(
                "Give the strategy id or the clientStrategyId to cancel.", field="strategyId"
            )
        params = {
            "symbol": symbol,
            "strategyId": strategy_id,
            "clientStrategyId": client_strategy_id,
        }
        try:
            payload = await self._call(R.STRATEGY_CANCEL, params, retry=True)
        except BackpackError as error:
            if error.code != "RESOURCE_NOT_FOUND":
                raise
            for past in await self.strategy_history(symbol=symbol, limit=1000):
                if past.id == strategy_id or (
                    client_strategy_id is not None and past.client_strategy_id == client_strategy_id
                ):
                    return past
            raise
        return parse(R.STRATEGY_CANCEL.label, Strategy.from_wire, payload)

    async def cancel_all_strategies(
        self, symbol: str, *, strategy_type: StrategyType | str | None = None
    ) -> list[Strategy]:
        """``DELETE /api/v1/strategies``: stop every running strategy of a market."""
        params = {"symbol": symbol, "strategyType": strategy_type}
        payload = await self._call(R.STRATEGIES_CANCEL_ALL, params, retry=True)
        return parse_list(R.STRATEGIES_CANCEL_ALL.label, Strategy.from_wire, payload or [])

    async def strategy_history(
        self,
        *,
        symbol: str | None = None,
        strategy_id: str | None = None,
        market_type: MarketType | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: str | None = None,
    ) -> list[Strategy]:
        """``GET /wapi/v1/history/strategies`` (historical budget): ended strategies."""
        params = {
            "symbol": symbol,
            "strategyId": strategy_id,
            "marketType": market_type,
            "limit": limit,
            "offset": offset,
            "sortDirection": sort_direction,
        }
        payload = await self._call(R.STRATEGY_HISTORY, params)
        return parse_list(R.STRATEGY_HISTORY.label, Strategy.from_wire, payload)
