from __future__ import annotations

import pytest

from trading.backpack.account_types import Order, OrderStatus, Side, parse_balances
from trading.backpack.errors import (
    AuthenticationError,
    InsufficientFundsError,
    InvalidOrderError,
    MaintenanceError,
    MalformedResponseError,
    OrderNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    error_from_response,
)
from trading.backpack.market_types import Depth
from trading.backpack.wire import parse


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "UNAUTHORIZED", AuthenticationError),
        (400, "INVALID_SIGNATURE", AuthenticationError),
        (429, "TOO_MANY_REQUESTS", RateLimitedError),
        (400, "INSUFFICIENT_FUNDS", InsufficientFundsError),
        (400, "INSUFFICIENT_MARGIN", InsufficientFundsError),
        (400, "INVALID_QUANTITY", InvalidOrderError),
        (404, "RESOURCE_NOT_FOUND", OrderNotFoundError),
        (503, "MAINTENANCE", MaintenanceError),
        (400, "TRADING_PAUSED", MaintenanceError),
        (500, "SERVER_ERROR", ServerError),
        (502, None, ServerError),
        (400, "INVALID_CLIENT_REQUEST", RequestRejectedError),
        (403, "FORBIDDEN", PermissionDeniedError),
    ],
)
def test_code_and_status_pick_the_exception(status: int, code: str | None, kind: type) -> None:
    route = "DELETE /api/v1/order"
    error = error_from_response(status, {"code": code, "message": "m"}, route=route)
    assert type(error) is kind
    assert error.code == code and error.status == status and error.route == route
    assert error.action


def test_not_found_outside_orders_is_a_plain_refusal() -> None:
    error = error_from_response(404, {"code": "RESOURCE_NOT_FOUND", "message": "m"}, route="r")
    assert type(error) is RequestRejectedError


def test_message_text_is_not_used_for_classification() -> None:
    error = error_from_response(
        400, {"code": "INVALID_CLIENT_REQUEST", "message": "Insufficient funds"}, route="r"
    )
    assert type(error) is RequestRejectedError


def test_invalid_quantity_names_the_field() -> None:
    error = error_from_response(
        400,
        {"code": "INVALID_QUANTITY", "message": "Quantity decimal too long"},
        route="POST /api/v1/order",
    )
    assert error.field == "quantity"
    assert str(error) == "The exchange rejected the order: Quantity decimal too long"


def test_malformed_response_names_route_and_field() -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse("POST /api/v1/order", Order.from_wire, {"id": "1", "symbol": "SOL_USDC"})
    assert info.value.field == "side"
    assert str(info.value) == (
        "The exchange's answer to POST /api/v1/order is malformed: field 'side' should be "
        "a string, got None."
    )
    with pytest.raises(MalformedResponseError, match="field 'price' should be a decimal"):
        parse(
            "r",
            Order.from_wire,
            {
                "id": 1,
                "symbol": "S",
                "side": "Bid",
                "orderType": "Limit",
                "status": "New",
                "price": "1,5",
            },
        )


def test_ids_as_int_or_string_and_unknown_enums_are_tolerated() -> None:
    order = Order.from_wire(
        {
            "id": 1111343026172067,
            "clientId": "42",
            "symbol": "SOL_USDC",
            "side": "Bid",
            "orderType": "Limit",
            "status": "SomethingNew",
            "price": "95.50",
            "createdAt": 1750000000003,
        }
    )
    assert order.id == "1111343026172067"
    assert order.client_id == 42
    assert order.side is Side.BID
    assert order.status == "SomethingNew" and not order.status.is_final
    assert OrderStatus("Filled").is_final


@pytest.mark.parametrize(
    ("parser", "payload", "message"),
    [
        (
            parse_balances,
            {"SOL": {"available": "1", "locked": "0"}},
            "field 'staked' should be a decimal, got None.",
        ),
        (parse_balances, ["SOL"], "field '(body)' should be an object, got ['SOL']."),
        (
            lambda o: Depth.from_wire(o, "SOL_USDC"),
            {"bids": [["1", "2"]], "asks": [["1"]], "lastUpdateId": "7"},
            "field 'asks' should be [price, quantity] pairs, got ['1'].",
        ),
        (
            lambda o: Depth.from_wire(o, "SOL_USDC"),
            {"bids": [], "asks": [], "lastUpdateId": "x"},
            "field 'lastUpdateId' should be an integer, got 'x'.",
        ),
    ],
)
def test_shape_problems_name_the_route_and_field(parser, payload, message: str) -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse("GET /api/v1/x", parser, payload)
    assert str(info.value) == f"The exchange's answer to GET /api/v1/x is malformed: {message}"


def test_the_exchange_s_own_words_are_kept_apart_from_the_route():
    error = error_from_response(
        403,
        {"code": "FORBIDDEN", "message": "Withdrawal address is not 2FA exempt "},
        route="POST /wapi/v1/capital/withdrawals",
    )
    silent = error_from_response(502, None, route="GET /api/v1/markets")

    assert error.message == (
        "The exchange does not allow POST /wapi/v1/capital/withdrawals: "
        "Withdrawal address is not 2FA exempt "
    )
    assert error.exchange_message == "Withdrawal address is not 2FA exempt"
    assert silent.exchange_message == ""
