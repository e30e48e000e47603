"""Signed REST routes: balances, account, orders, positions, history, capital."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from sandbox.engine.queries import POSITION_STATES, SETTLEMENT_FILTERS, Page
from sandbox.server.errors import ApiError, bad_request, error_response
from sandbox.server.params import MAX_UINT32, order_payload
from sandbox.server.public import MARKET_TYPES
from sandbox.server.routing import Call, exchange_route, json_response
from sandbox.server.signed import NO_MARKETS as _NO_MARKETS
from sandbox.server.signed import SORT_DIRECTIONS
from sandbox.server.signed import known_symbol as _known_symbol
from sandbox.server.signed import market_types_filter as _market_types
from sandbox.server.signed import page_params as _page
from sandbox.server.signed import paged as _paged
from sandbox.server.signed import subaccount_of as _subaccount
from sandbox.server.state import Sandbox
from sandbox.server.strategies import STRATEGY_ROUTES

MAX_BATCH = 50


class LostResponse(Response):
    """An answer that never arrives: connection closed without a byte, a 504, or silence."""

    def __init__(self, mode: str) -> None:
        super().__init__(b"", status_code=200)
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mode == "504":
            await error_response(504, "TIMEOUT", "Gateway timeout")(scope, receive, send)
            return
        if self.mode == "hang":
            await asyncio.sleep(30)
        cycle = getattr(scope.get("sandbox.raw_send"), "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is not None and hasattr(cycle, "disconnected"):
            # uvicorn's request cycle: close the socket before any byte of the answer, and
            # mark the cycle disconnected so the server does not answer 500 for us.
            transport.close()
            cycle.disconnected = True
            return
        # Other servers: promise a body and end without it, which makes them cut the line.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _order_ref(call: Call) -> tuple[str | None, int | None]:
    order_id = call.params.values.get("orderId")
    client_id = call.params.integer("clientId", maximum=MAX_UINT32)
    if isinstance(order_id, bool) or not isinstance(order_id, str | int | None):
        raise bad_request("Invalid parameter `orderId`: expected a string")
    if order_id is not None and client_id is not None:
        raise bad_request("Specify only one of `orderId` or `clientId`")
    if order_id is None and client_id is None:
        raise bad_request("One of `orderId` or `clientId` must be specified")
    return (str(order_id) if order_id is not None else None), client_id


def balances(call: Call) -> dict:
    """GET /api/v1/capital (balanceQuery)."""
    return call.sandbox.engine.balances(_subaccount(call))


def collateral(call: Call) -> dict:
    """GET /api/v1/capital/collateral (collateralQuery)."""
    return call.sandbox.engine.collateral(_subaccount(call))


def account(call: Call) -> dict:
    """GET /api/v1/account (accountQuery)."""
    return call.sandbox.engine.account(_subaccount(call))


def get_order(call: Call) -> dict:
    """GET /api/v1/order (orderQuery)."""
    symbol = _known_symbol(call, required=True)
    order_id, client_id = _order_ref(call)
    return call.sandbox.engine.get_order(
        _subaccount(call), symbol=symbol, order_id=order_id, client_id=client_id
    )


def place_order(call: Call) -> Any:
    """POST /api/v1/order (orderExecute)."""
    if not isinstance(call.body, dict):
        raise bad_request("Expected a JSON object body")
    payload = order_payload(call.body)
    order = call.sandbox.engine.execute_order(_subaccount(call), payload)
    faults = call.sandbox.faults
    if faults.lose_order_responses and faults.take_lost_response():
        return LostResponse(faults.lost_response)
    return order


def place_orders(call: Call) -> Any:
    """POST /api/v1/orders (orderExecute per order, batch signing)."""
    if not isinstance(call.body, list):
        raise bad_request("Expected a JSON array of orders")
    if not call.body or len(call.body) > MAX_BATCH:
        raise bad_request(f"A batch holds 1 to {MAX_BATCH} orders")
    payloads = [order_payload(item) for item in call.body]
    results = call.sandbox.engine.execute_orders(_subaccount(call), payloads)
    for result in results:
        if "operation" not in result:
            result["operation"] = "Err" if "code" in result and "id" not in result else "Ok"
    faults = call.sandbox.faults
    if faults.lose_order_responses and faults.take_lost_response():
        return LostResponse(faults.lost_response)
    return results


def cancel_order(call: Call) -> dict:
    """DELETE /api/v1/order (orderCancel)."""
    symbol = _known_symbol(call, required=True)
    order_id, client_id = _order_ref(call)
    return call.sandbox.engine.cancel_order(
        _subaccount(call), symbol=symbol, order_id=order_id, client_id=client_id
    )


def open_orders(call: Call) -> list:
    """GET /api/v1/orders (orderQueryAll)."""
    symbol = _known_symbol(call, required=False)
    market_type = call.params.choice("marketType", MARKET_TYPES)
    return call.sandbox.engine.open_orders(_subaccount(call), symbol, market_type)


def cancel_open_orders(call: Call) -> list:
    """DELETE /api/v1/orders (orderCancelAll)."""
    symbol = _known_symbol(call, required=True)
    order_type = call.params.choice("orderType", ("RestingLimitOrder", "ConditionalOrder"))
    return call.sandbox.engine.cancel_open_orders(
        _subaccount(call), symbol=symbol, order_type=order_type
    )


def positions(call: Call) -> list:
    """GET /api/v1/position (positionQuery)."""
    symbol = _known_symbol(call, required=False)
    call.params.choice("marketType", MARKET_TYPES)
    return call.sandbox.engine.positions(_subaccount(call), symbol)


def fill_history(call: Call) -> Response:
    """GET /wapi/v1/history/fills (fillHistoryQueryAll)."""
    limit, offset = _page(call)
    market_type = _market_types(call)
    if market_type == _NO_MARKETS:
        return _paged(Page([], 0, limit, offset))
    page = call.sandbox.engine.fill_history(
        _subaccount(call),
        symbol=_known_symbol(call, required=False),
        order_id=call.params.string("orderId"),
        from_ms=call.params.integer("from"),
        to_ms=call.params.integer("to"),
        market_type=market_type,
        limit=limit,
        offset=offset,
        sort_direction=call.params.choice("sortDirection", SORT_DIRECTIONS) or "Desc",
    )
    return _paged(page)


def order_history(call: Call) -> Response:
    """GET /wapi/v1/history/orders (orderHistoryQueryAll)."""
    limit, offset = _page(call)
    market_type = _market_types(call)
    if market_type == _NO_MARKETS:
        return _paged(Page([], 0, limit, offset))
    page = call.sandbox.engine.order_history(
        _subaccount(call),
        symbol=_known_symbol(call, required=False),
        order_id=call.params.string("orderId"),
        market_type=market_type,
        limit=limit,
        offset=offset,
        sort_direction=call.params.choice("sortDirection", SORT_DIRECTIONS) or "Desc",
    )
    return _paged(page)


def funding_history(call: Call) -> Response:
    """GET /wapi/v1/history/funding (fundingHistoryQueryAll): funding payments.

    ``subaccountId`` filters: a key sees only its own subaccount, so another id finds
    nothing."""
    limit, offset = _page(call)
    subaccount = _subaccount(call)
    wanted = call.params.integer("subaccountId", maximum=65535)
    symbol = _known_symbol(call, required=False)
    direction = call.params.choice("sortDirection", SORT_DIRECTIONS) or "Desc"
    if wanted is not None and wanted != subaccount:
        return _paged(Page([], 0, limit, offset))
    page = call.sandbox.engine.funding_payments(
        subaccount, symbol=symbol, limit=limit, offset=offset, sort_direction=direction
    )
    return _paged(page)


def settlement_history(call: Call) -> Response:
    """GET /wapi/v1/history/settlement (settlementHistoryQueryAll): realized PnL, fees and
    funding settled in USDC."""
    limit, offset = _page(call)
    page = call.sandbox.engine.settlement_history(
        _subaccount(call),
        source=call.params.choice("source", SETTLEMENT_FILTERS),
        limit=limit,
        offset=offset,
        sort_direction=call.params.choice("sortDirection", SORT_DIRECTIONS) or "Desc",
    )
    return _paged(page)


def position_history(call: Call) -> Response:
    """GET /wapi/v1/history/position (positionHistoryQueryAll): open and closed positions."""
    limit, offset = _page(call)
    market_type = _market_types(call)
    symbol = _known_symbol(call, required=False)
    state = call.params.choice("state", POSITION_STATES)
    direction = call.params.choice("sortDirection", SORT_DIRECTIONS) or "Desc"
    rows: list = []
    if market_type != _NO_MARKETS:
        rows = call.sandbox.engine.position_history(
            _subaccount(call),
            symbol=symbol,
            state=state,
            market_type=market_type,
            limit=limit,
            offset=offset,
            sort_direction=direction,
        )
    response = json_response(rows)
    response.headers["Cache-Control"] = "no-store"
    return response


def deposits(call: Call) -> list:
    """GET /wapi/v1/capital/deposits (depositQueryAll)."""
    limit, offset = _page(call)
    return call.sandbox.engine.deposits(
        _subaccount(call),
        limit=limit,
        offset=offset,
        from_ms=call.params.integer("from"),
        to_ms=call.params.integer("to"),
    )


def deposit_address(call: Call) -> dict:
    """GET /wapi/v1/capital/deposit/address (depositAddressQuery)."""
    blockchain = call.params.string("blockchain", required=True)
    if blockchain not in call.sandbox.blockchains():
        raise bad_request(f"Invalid parameter `blockchain`: {blockchain!r} is not supported")
    return {"address": call.sandbox.deposit_address(_subaccount(call), blockchain)}


def withdrawals(call: Call) -> list:
    """GET /wapi/v1/capital/withdrawals (withdrawalQueryAll)."""
    limit, offset = _page(call)
    return call.sandbox.engine.withdrawals(
        _subaccount(call),
        limit=limit,
        offset=offset,
        from_ms=call.params.integer("from"),
        to_ms=call.params.integer("to"),
        withdrawal_id=call.params.integer("id", maximum=2**31 - 1),
        client_id=call.params.string("clientId", max_length=255),
    )


def request_withdrawal(call: Call) -> dict:
    """POST /wapi/v1/capital/withdrawals (withdraw): only to 2FA-exempt addresses."""
    if not isinstance(call.body, dict):
        raise bad_request("Expected a JSON object body")
    params = call.params
    address = params.string("address", required=True, max_length=128)
    blockchain = params.string("blockchain", required=True)
    symbol = params.string("symbol", required=True)
    quantity = params.decimal("quantity", required=True)
    client_id = params.string("clientId", max_length=255)
    if quantity is None or blockchain is None or quantity <= 0:
        raise ApiError(400, "INVALID_QUANTITY", "Quantity must be positive")
    subaccount = call.sandbox.subaccounts[_subaccount(call)]
    exempt = subaccount.withdrawal_addresses.get(blockchain, ())
    if address not in exempt:
        if params.values.get("twoFactorToken"):
            raise ApiError(400, "INVALID_TWO_FACTOR_CODE", "Invalid two factor code")
        raise ApiError(
            403,
            "FORBIDDEN",
            "Withdrawal address is not 2FA exempt: add it to the address book with two-factor"
            " authentication disabled",
        )
    withdrawal = call.sandbox.engine.request_withdrawal(
        subaccount.id,
        symbol=symbol,
        quantity=quantity,
        blockchain=blockchain,
        address=address,
        client_id=client_id,
    )
    call.sandbox.schedule_confirmation(str(withdrawal["id"]))
    return withdrawal


def max_order_quantity(call: Call) -> dict:
    """GET /api/v1/account/limits/order (maxOrderQuantity)."""
    symbol = _known_symbol(call, required=True)
    side = call.params.choice("side", ("Bid", "Ask"), required=True)
    return call.sandbox.engine.max_order_quantity(
        _subaccount(call),
        symbol=symbol,
        side=side,
        price=call.params.decimal("price"),
        reduce_only=call.params.boolean("reduceOnly"),
    )


def max_withdrawal_quantity(call: Call) -> dict:
    """GET /api/v1/account/limits/withdrawal (maxWithdrawalQuantity)."""
    symbol = call.params.string("symbol", required=True)
    return call.sandbox.engine.max_withdrawal_quantity(_subaccount(call), symbol=symbol)


SIGNED_ROUTES = [  # (path, method, handler, instruction, historical budget)
    ("/api/v1/order", "POST", place_order, "orderExecute", False),
    ("/api/v1/order", "DELETE", cancel_order, "orderCancel", False),
    ("/api/v1/order", "GET", get_order, "orderQuery", False),
    ("/api/v1/capital", "GET", balances, "balanceQuery", False),
    ("/api/v1/capital/collateral", "GET", collateral, "collateralQuery", False),
    ("/api/v1/account", "GET", account, "accountQuery", False),
    ("/api/v1/orders", "GET", open_orders, "orderQueryAll", False),
    ("/api/v1/orders", "POST", place_orders, "orderExecute", False),
    ("/api/v1/orders", "DELETE", cancel_open_orders, "orderCancelAll", False),
    ("/api/v1/position", "GET", positions, "positionQuery", False),
    ("/api/v1/account/limits/order", "GET", max_order_quantity, "maxOrderQuantity", False),
    (
        "/api/v1/account/limits/withdrawal",
        "GET",
        max_withdrawal_quantity,
        "maxWithdrawalQuantity",
        False,
    ),
    ("/wapi/v1/history/fills", "GET", fill_history, "fillHistoryQueryAll", True),
    ("/wapi/v1/history/orders", "GET", order_history, "orderHistoryQueryAll", True),
    ("/wapi/v1/history/funding", "GET", funding_history, "fundingHistoryQueryAll", True),
    (
        "/wapi/v1/history/settlement",
        "GET",
        settlement_history,
        "settlementHistoryQueryAll",
        True,
    ),
    ("/wapi/v1/history/position", "GET", position_history, "positionHistoryQueryAll", True),
    ("/wapi/v1/capital/deposits", "GET", deposits, "depositQueryAll", False),
    ("/wapi/v1/capital/deposit/address", "GET", deposit_address, "depositAddressQuery", False),
    ("/wapi/v1/capital/withdrawals", "GET", withdrawals, "withdrawalQueryAll", False),
    ("/wapi/v1/capital/withdrawals", "POST", request_withdrawal, "withdraw", False),
    *STRATEGY_ROUTES,
]


def private_routes(sandbox: Sandbox) -> list[Route]:
    """Every signed REST route of :data:`SIGNED_ROUTES`."""
    return [
        exchange_route(
            sandbox,
            path,
            method,
            handler,
            instruction=instruction,
            historical=historical,
            batch=handler is place_orders,
        )
        for path, method, handler, instruction, historical in SIGNED_ROUTES
    ]
