"""Signed strategy routes (the spec's tag ``Strategy``): create, query, cancel, list,
history, served among :data:`sandbox.server.private.SIGNED_ROUTES`.  The engine runs the
slices (:mod:`sandbox.engine.strategies`); the server's strategy loop calls
``run_due_strategies`` (see :mod:`sandbox.server.app`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.engine.queries import Page
from sandbox.server.errors import bad_request
from sandbox.server.params import MAX_UINT32, _check_field
from sandbox.server.public import MARKET_TYPES
from sandbox.server.routing import Call
from sandbox.server.signed import (
    NO_MARKETS,
    SORT_DIRECTIONS,
    known_symbol,
    market_types_filter,
    page_params,
    paged,
    subaccount_of,
)

STRATEGY_TYPES = ("Scheduled",)

STRATEGY_FIELDS: dict[str, str] = {
    "autoLend": "bool",
    "autoLendRedeem": "bool",
    "autoBorrow": "bool",
    "autoBorrowRepay": "bool",
    "brokerId": "uint16",
    "clientStrategyId": "uint32",
    "strategyType": "enum:Scheduled",
    "quantity": "decimal",
    "price": "decimal",
    "postOnly": "bool",
    "reduceOnly": "bool",
    "selfTradePrevention": "enum:RejectTaker,RejectMaker,RejectBoth",
    "side": "enum:Bid,Ask",
    "symbol": "string",
    "timeInForce": "enum:GTC,IOC,FOK",
    "duration": "uint64",
    "interval": "uint64",
    "randomizedIntervalQuantity": "bool",
    "slippageTolerance": "decimal",
    "slippageToleranceType": "enum:TickSize,Percent",
}
STRATEGY_REQUIRED = ("strategyType", "side", "symbol")


def strategy_payload(raw: Any) -> dict[str, Any]:
    """Check a ``StrategyCreatePayload`` against the spec's field types; 400 naming the
    first bad field."""
    if not isinstance(raw, dict):
        raise bad_request("Expected a JSON object body")
    for name in STRATEGY_REQUIRED:
        if raw.get(name) is None:
            raise bad_request(f"Missing required parameter `{name}`")
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        kind = STRATEGY_FIELDS.get(name)
        if kind is None:
            raise bad_request(f"Unknown parameter `{name}`")
        if value is None:
            continue
        if kind == "uint64":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad_request(f"Invalid parameter `{name}`: expected an integer")
            clean[name] = value
            continue
        clean[name] = _check_field(name, kind, value)
    return clean


def _strategy_ref(call: Call) -> tuple[str | None, int | None]:
    strategy_id = call.params.values.get("strategyId")
    client_id = call.params.integer("clientStrategyId", maximum=MAX_UINT32)
    if isinstance(strategy_id, bool) or not isinstance(strategy_id, str | int | None):
        raise bad_request("Invalid parameter `strategyId`: expected a string")
    if strategy_id is None and client_id is None:
        raise bad_request("One of `strategyId` or `clientStrategyId` must be specified")
    return (str(strategy_id) if strategy_id is not None else None), client_id


def create_strategy(call: Call) -> dict:
    """POST /api/v1/strategy (strategyCreate)."""
    payload = strategy_payload(call.body)
    return call.sandbox.engine.create_strategy(subaccount_of(call), payload)


def get_strategy(call: Call) -> dict:
    """GET /api/v1/strategy (strategyQuery)."""
    symbol = known_symbol(call, required=True)
    strategy_id, client_id = _strategy_ref(call)
    return call.sandbox.engine.get_strategy(
        subaccount_of(call), symbol=symbol, strategy_id=strategy_id, client_strategy_id=client_id
    )


def cancel_strategy(call: Call) -> dict:
    """DELETE /api/v1/strategy (strategyCancel)."""
    symbol = known_symbol(call, required=True)
    strategy_id, client_id = _strategy_ref(call)
    return call.sandbox.engine.cancel_strategy(
        subaccount_of(call), symbol=symbol, strategy_id=strategy_id, client_strategy_id=client_id
    )


def open_strategies(call: Call) -> list:
    """GET /api/v1/strategies (strategyQueryAll)."""
    symbol = known_symbol(call, required=False)
    market_type = call.params.choice("marketType", MARKET_TYPES)
    strategy_type = call.params.choice("strategyType", STRATEGY_TYPES)
    return call.sandbox.engine.open_strategies(
        subaccount_of(call), symbol=symbol, market_type=market_type, strategy_type=strategy_type
    )


def cancel_strategies(call: Call) -> list:
    """DELETE /api/v1/strategies (strategyCancelAll)."""
    symbol = known_symbol(call, required=True)
    strategy_type = call.params.choice("strategyType", STRATEGY_TYPES)
    return call.sandbox.engine.cancel_strategies(
        subaccount_of(call), symbol=symbol, strategy_type=strategy_type
    )


def strategy_history(call: Call) -> Response:
    """GET /wapi/v1/history/strategies (strategyHistoryQueryAll)."""
    limit, offset = page_params(call)
    market_type = market_types_filter(call)
    if market_type == NO_MARKETS:
        return paged(Page([], 0, limit, offset))
    page = call.sandbox.engine.strategy_history(
        subaccount_of(call),
        symbol=known_symbol(call, required=False),
        strategy_id=call.params.string("strategyId"),
        market_type=market_type,
        limit=limit,
        offset=offset,
        sort_direction=call.params.choice("sortDirection", SORT_DIRECTIONS) or "Desc",
    )
    return paged(page)


STRATEGY_ROUTES = [  # (path, method, handler, instruction, historical): in SIGNED_ROUTES
    ("/api/v1/strategy", "GET", get_strategy, "strategyQuery", False),
    ("/api/v1/strategy", "POST", create_strategy, "strategyCreate", False),
    ("/api/v1/strategy", "DELETE", cancel_strategy, "strategyCancel", False),
    ("/api/v1/strategies", "GET", open_strategies, "strategyQueryAll", False),
    ("/api/v1/strategies", "DELETE", cancel_strategies, "strategyCancelAll", False),
    ("/wapi/v1/history/strategies", "GET", strategy_history, "strategyHistoryQueryAll", True),
]
