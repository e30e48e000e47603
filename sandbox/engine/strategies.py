"""Strategies (mixed into :class:`~sandbox.engine.engine.Engine`): ``Scheduled`` (TWAP).

Commands: ``create_strategy``, ``cancel_strategy``, ``cancel_strategies``,
``run_due_strategies`` (the server calls it often: it runs every slice whose time has
come, by the engine's clock) and ``step_strategies`` (tests: the next slice of each
running strategy now, the rest of its schedule moved as much earlier).  Queries:
``get_strategy``, ``open_strategies``, ``strategy_history``.

Each slice is an order entered through the engine like any other (``strategyId`` on its
REST shape, ``H`` on its order updates).  The strategy ends ``Completed`` when its quantity
is filled, ``Cancelled`` by its owner, or ``Terminated`` by the engine with a
``cancelReason``: a slice refused (``InsufficientMargin``, ``ReduceOnlyNotReduced``, ...),
or quantity left after the last slice (``InsufficientLiquidity``).  Schedule and slice
sizes: :mod:`.strategy_types`.
"""

from __future__ import annotations

from collections import deque
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from .errors import EngineError, bad_request, not_found
from .markets import CONTEXT
from .matching import floor_to_step
from .orders import BID, LIMIT, MARKET, Order
from .parsing import parse_client_id, parse_int_id
from .queries import Page, _direction, _paging
from .strategy_types import (
    CANCELLED,
    COMPLETED,
    RANDOM_HIGH,
    RANDOM_LOW,
    RUNNING,
    SCHEDULED,
    TERMINATED,
    Strategy,
    parse_strategy,
)

FIRST_STRATEGY_ID = 6_000_000_000
STRATEGIES_KEPT = 20_000
"""How many strategies (running and ended) the engine remembers, newest kept."""
STRATEGY_NOT_FOUND = "Strategy not found"

_REASONS = {
    "INSUFFICIENT_FUNDS": "InsufficientFunds",
    "INSUFFICIENT_MARGIN": "InsufficientMargin",
    "INVALID_PRICE": "PriceOutOfBounds",
    "POSITION_LIMIT": "InsufficientMargin",
}


class StrategyMixin:
    """Scheduled strategies and their slices."""

    def _strategy_state(self) -> tuple[dict[int, Strategy], deque[Strategy]]:
        return self._running_strategies, self._strategy_log

    # ------------------------------------------------------------------ commands
    def create_strategy(self, subaccount_id: int, payload: Any) -> dict[str, Any]:
        """``POST /api/v1/strategy``: start a strategy; returns the spec's
        ``StrategyType``."""
        running, log = self._strategy_state()
        with localcontext(CONTEXT):
            self._begin()
            if not isinstance(payload, dict):
                raise bad_request("Invalid strategy payload")
            market = self.market(payload.get("symbol"))
            self._account(subaccount_id)
            state = self._markets[market.symbol].order_book_state
            if state in ("Closed", "CancelOnly"):
                raise EngineError(400, "TRADING_PAUSED", f"Market is {state}: no new orders")
            strategy = parse_strategy(
                self._last_strategy_id + 1, market, subaccount_id, self._now, payload
            )
            self._last_strategy_id = strategy.id
            running[strategy.id] = strategy
            log.append(strategy)
            self._finish()
            return strategy.to_wire()

    def cancel_strategy(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        strategy_id: Any = None,
        client_strategy_id: Any = None,
    ) -> dict[str, Any]:
        """``DELETE /api/v1/strategy``: stop a running strategy (status Cancelled)."""
        strategy = self._find_strategy(subaccount_id, symbol, strategy_id, client_strategy_id)
        strategy.status = CANCELLED
        del self._running_strategies[strategy.id]
        return strategy.to_wire()

    def cancel_strategies(
        self, subaccount_id: int, *, symbol: str, strategy_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``DELETE /api/v1/strategies``: stop every running strategy on ``symbol``."""
        running, _ = self._strategy_state()
        self.market(symbol)
        if strategy_type not in (None, SCHEDULED):
            raise bad_request(f"Invalid strategyType: expected {SCHEDULED}")
        chosen = [
            s for s in running.values() if s.subaccount_id == subaccount_id and s.symbol == symbol
        ]
        for strategy in chosen:
            strategy.status = CANCELLED
            del running[strategy.id]
        return [strategy.to_wire() for strategy in chosen]

    def run_due_strategies(self) -> int:
        """Run every slice due by engine time, oldest first; returns how many ran."""
        running, _ = self._strategy_state()
        if not running:
            return 0
        with localcontext(CONTEXT):
            self._begin()
            ran = 0
            try:
                while True:
                    due = [s for s in running.values() if s.next_due_us <= self._now]
                    if not due:
                        break
                    for strategy in sorted(due, key=lambda s: (s.next_due_us, s.id)):
                        self._run_slice(strategy)
                        ran += 1
            finally:
                self._finish()
            return ran

    def step_strategies(self) -> int:
        """Bring the next slice of every running strategy to now (its later slices move
        as much earlier) and run it; returns how many ran."""
        running, _ = self._strategy_state()
        now = self.now_us()
        for strategy in running.values():
            strategy.start_us -= max(0, strategy.next_due_us - now)
        return self.run_due_strategies()

    # ------------------------------------------------------------------- slices
    def _slice_quantity(self, strategy: Strategy) -> Decimal:
        left = strategy.slices - strategy.slices_done
        remaining = strategy.remaining
        if left <= 1:
            return remaining
        share = remaining / left
        if strategy.randomized:
            span = int((RANDOM_HIGH - RANDOM_LOW) * 1000)
            share *= RANDOM_LOW + Decimal(strategy.rng.randint(0, span)) / 1000
        # normalised: a slice of 2.00 reads "2" on the wire, as a typed-in order would
        return min(floor_to_step(share, strategy.market.step_size), remaining).normalize()

    def _slice_price(self, strategy: Strategy) -> Decimal | None:
        """The slice's limit: the strategy's price, else the slippage bound from the best
        opposite price (None: a plain market order)."""
        if strategy.price is not None:
            return strategy.price
        tolerance = strategy.slippage_tolerance
        if tolerance is None:
            return None
        book = self._books[strategy.symbol]
        bid = strategy.side == BID
        prices = book.ask_prices if bid else book.bid_prices
        if not prices:
            return None
        best = prices[0] if bid else prices[-1]
        tick = strategy.market.tick_size
        if strategy.slippage_type == "TickSize":
            move = tolerance * tick
        else:
            move = best * tolerance / 100
        bound = best + move if bid else best - move
        rounding = ROUND_FLOOR if bid else ROUND_CEILING
        bound = (bound / tick).to_integral_value(rounding=rounding) * tick
        return bound if bound > 0 else tick

    def _run_slice(self, strategy: Strategy) -> None:
        quantity = self._slice_quantity(strategy)
        strategy.slices_done += 1
        if quantity > 0:
            account = self._account(strategy.subaccount_id)
            price = self._slice_price(strategy)
            order = Order(
                strategy.market,
                strategy.subaccount_id,
                strategy.side,
                LIMIT if price is not None else MARKET,
            )
            order.price = price
            order.quantity = quantity
            order.reduce_only = strategy.reduce_only
            order.stp = strategy.stp
            order.time_in_force = strategy.time_in_force
            order.strategy_id = strategy.id
            try:
                self._place(account, order)
            except EngineError as error:
                self._end_strategy(strategy, TERMINATED, _reason(error))
                return
            strategy.executed_quantity += order.executed_quantity
            strategy.executed_quote_quantity += order.executed_quote_quantity
        if strategy.remaining <= 0:
            self._end_strategy(strategy, COMPLETED, None)
        elif strategy.slices_done >= strategy.slices:
            self._end_strategy(strategy, TERMINATED, "InsufficientLiquidity")

    def _end_strategy(self, strategy: Strategy, status: str, reason: str | None) -> None:
        strategy.status = status
        strategy.cancel_reason = reason
        self._running_strategies.pop(strategy.id, None)

    # ------------------------------------------------------------------- queries
    def _find_strategy(
        self, subaccount_id: int, symbol: str, strategy_id: Any, client_strategy_id: Any
    ) -> Strategy:
        running, _ = self._strategy_state()
        self.market(symbol)
        if strategy_id is None and client_strategy_id is None:
            raise bad_request("Specify strategyId or clientStrategyId")
        wanted = parse_int_id(strategy_id, "strategyId") if strategy_id is not None else None
        client = parse_client_id(client_strategy_id) if client_strategy_id is not None else None
        for strategy in running.values():
            if (
                strategy.subaccount_id == subaccount_id
                and strategy.symbol == symbol
                and (wanted is None or strategy.id == wanted)
                and (client is None or strategy.client_strategy_id == client)
            ):
                return strategy
        raise not_found(STRATEGY_NOT_FOUND)

    def get_strategy(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        strategy_id: Any = None,
        client_strategy_id: Any = None,
    ) -> dict[str, Any]:
        """``GET /api/v1/strategy``: a running strategy; RESOURCE_NOT_FOUND otherwise."""
        with localcontext(CONTEXT):
            return self._find_strategy(
                subaccount_id, symbol, strategy_id, client_strategy_id
            ).to_wire()

    def open_strategies(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        market_type: str | None = None,
        strategy_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/strategies``: running strategies, oldest first."""
        running, _ = self._strategy_state()
        if symbol is not None:
            self.market(symbol)
        if strategy_type not in (None, SCHEDULED):
            raise bad_request(f"Invalid strategyType: expected {SCHEDULED}")
        return [
            s.to_wire()
            for s in sorted(running.values(), key=lambda s: s.id)
            if s.subaccount_id == subaccount_id
            and (symbol is None or s.symbol == symbol)
            and (market_type is None or s.market.market_type == market_type)
        ]

    def strategy_history(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        strategy_id: Any = None,
        market_type: str | None = None,
        limit: int | str = 100,
        offset: int | str = 0,
        sort_direction: str = "Desc",
    ) -> Page:
        """``GET /wapi/v1/history/strategies``: finished strategies (the spec's
        ``Strategy``), newest first unless ``sort_direction`` is ``Asc``."""
        _, log = self._strategy_state()
        if symbol is not None:
            self.market(symbol)
        count, skip = _paging(limit, offset)
        wanted = parse_int_id(strategy_id, "strategyId") if strategy_id is not None else None
        chosen = [
            s
            for s in (reversed(log) if _direction(sort_direction) else log)
            if s.subaccount_id == subaccount_id
            and s.status != RUNNING
            and (symbol is None or s.symbol == symbol)
            and (wanted is None or s.id == wanted)
            and (market_type is None or s.market.market_type == market_type)
        ]
        rows = [s.to_history_wire() for s in chosen[skip : skip + count]]
        return Page(rows, len(chosen), count, skip)


def _reason(error: EngineError) -> str:
    if error.message == "Reduce only order not reduced":
        return "ReduceOnlyNotReduced"
    return _REASONS.get(error.code, "Unknown")


__all__ = ["FIRST_STRATEGY_ID", "STRATEGIES_KEPT", "StrategyMixin"]
