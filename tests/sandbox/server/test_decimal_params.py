"""Decimal parameters: every REST field the spec types as a decimal string is read strictly.

Plain decimal text is taken exactly as typed; anything else (a JSON number, exponents,
underscores, commas, non-ASCII digits, NaN, huge or over-precise values, empty text) is
refused with INVALID_CLIENT_REQUEST and a message naming the parameter, and changes nothing.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sandbox.process import SandboxProcess
from sandbox.server.errors import ApiError
from sandbox.server.params import ORDER_FIELDS, Params, order_payload
from tests.sandbox.server.api import Api, sign
from tests.sandbox.server.spec_schema import spec

GOOD = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "price": "140", "quantity": "1"}


def _refused(text: str) -> dict[str, str]:
    return {"code": "INVALID_CLIENT_REQUEST", "message": text}


def _order_schema_fields() -> dict[str, dict[str, Any]]:
    schemas = spec()["components"]["schemas"]
    fields = {}
    for name, field in schemas["OrderExecutePayload"]["properties"].items():
        while "allOf" in field or "$ref" in field:
            field = field["allOf"][0] if "allOf" in field else field
            if "$ref" in field:
                field = schemas[field["$ref"].rsplit("/", 1)[1]]
        fields[name] = field
    return fields


def test_every_decimal_field_of_the_order_payload_is_read_as_a_decimal() -> None:
    fields = _order_schema_fields()
    decimals = {name for name, f in fields.items() if f.get("format") == "decimal"}
    # the spec types trigger prices and quantities as plain strings; they carry decimals too
    decimals |= {"triggerPrice", "triggerQuantity", "stopLossTriggerPrice"}
    decimals |= {"takeProfitTriggerPrice"}
    assert {name for name, kind in ORDER_FIELDS.items() if kind == "decimal"} == decimals
    integers = {name for name, f in fields.items() if f.get("type") == "integer"}
    assert {name for name, kind in ORDER_FIELDS.items() if kind.startswith("uint")} == integers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"price": 140},
            "Invalid parameter `price`: expected a decimal string, got the number 140",
        ),
        (
            {"quantity": 1.5},
            "Invalid parameter `quantity`: expected a decimal string, got the number 1.5",
        ),
        (
            {"price": "1.4e2"},
            "Invalid parameter `price`: '1.4e2' has an exponent: write the number out in full",
        ),
        (
            {"quantity": "1_0"},
            "Invalid parameter `quantity`: '1_0' has an underscore: write digits only",
        ),
        (
            {"price": "140,5"},
            "Invalid parameter `price`: '140,5' has a comma: use a point for decimals and no"
            " thousands separators",
        ),
        (
            {"quantity": "\u0661"},
            "Invalid parameter `quantity`: '\u0661' has a digit other than 0-9",
        ),
        ({"price": "Infinity"}, "Invalid parameter `price`: 'Infinity' is not a finite number"),
        ({"price": ""}, "Invalid parameter `price`: a value is required"),
        ({"price": " 140"}, "Invalid parameter `price`: ' 140' has spaces"),
        ({"price": "+140"}, "Invalid parameter `price`: '+140' has a plus sign"),
        (
            {"price": "1" * 30},
            f"Invalid parameter `price`: '{'1' * 24}...' is too large: at most 20 digits"
            " before the point",
        ),
        (
            {"quantity": "0." + "1" * 21},
            f"Invalid parameter `quantity`: '0.{'1' * 21}' is too precise: at most 20 digits"
            " after the point",
        ),
        (
            {"orderType": "Market", "price": None, "quoteQuantity": 100},
            "Invalid parameter `quoteQuantity`: expected a decimal string, got the number 100",
        ),
        (
            {"triggerPrice": "1e2"},
            "Invalid parameter `triggerPrice`: '1e2' has an exponent: write the number out in full",
        ),
    ],
)
async def test_bad_decimal_in_an_order_is_refused_by_name(
    api: Api, change: dict[str, Any], message: str
) -> None:
    before = await api.ledger()
    order = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    refused = await api.place(**order)
    assert refused.status_code == 400
    assert refused.json() == _refused(message)
    assert await api.ledger() == before


async def test_decimal_strings_as_ccxt_and_the_desk_send_them_are_taken_exactly(api: Api) -> None:
    placed = await api.place(**{**GOOD, "price": "139.50", "quantity": ".5", "postOnly": True})
    assert placed.status_code == 200, placed.text
    order = placed.json()
    assert (Decimal(order["price"]), Decimal(order["quantity"])) == (
        Decimal("139.5"),
        Decimal("0.5"),
    )


async def test_withdrawal_quantity_as_a_json_number_is_refused(api: Api) -> None:
    before = await api.ledger()
    body = {
        "address": "anything",
        "blockchain": "Solana",
        "quantity": 12.5,
        "symbol": "USDC",
    }
    refused = await api.signed("POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert refused.status_code == 400
    assert refused.json() == _refused(
        "Invalid parameter `quantity`: expected a decimal string, got the number 12.5"
    )
    assert await api.ledger() == before


async def test_query_decimals_and_integers_are_read_strictly(api: Api) -> None:
    price = await api.signed(
        "GET",
        "/api/v1/account/limits/order",
        "maxOrderQuantity",
        {"symbol": "SOL_USDC", "side": "Bid", "price": "1.5E2"},
    )
    assert price.status_code == 400
    assert price.json() == _refused(
        "Invalid parameter `price`: '1.5E2' has an exponent: write the number out in full"
    )
    limit = await api.signed(
        "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"limit": "\u00b2"}
    )
    assert limit.status_code == 400  # was a 500: "²".isdigit() is True, int("²") raises
    assert limit.json() == _refused(
        "Invalid parameter `limit`: '\u00b2' has a digit other than 0-9"
    )
    fine = await api.signed(
        "GET",
        "/api/v1/account/limits/order",
        "maxOrderQuantity",
        {"symbol": "SOL_USDC", "side": "Bid", "price": "150.00"},
    )
    assert fine.status_code == 200, fine.text


# --------------------------------------------------------------- property tests

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Decimal(repr(f))),
    st.text(max_size=40),
)
UNICODE_DIGITS = st.characters(categories=["Nd", "No"])
NUMBERISH = st.lists(
    st.one_of(st.sampled_from("0123456789.-+eE_, "), UNICODE_DIGITS), max_size=30
).map("".join)
HUGE = st.integers(min_value=10**15, max_value=10**60).map(str)
TEXT = st.one_of(st.text(max_size=40), NUMBERISH, HUGE)


def _plain(text: str) -> bool:
    head, _point, tail = text.partition(".")
    return (
        text.isascii()
        and bool(head or tail)
        and (not head or head.isdigit())
        and (not tail or tail.isdigit())
    )


@given(st.sampled_from(["price", "quantity", "quoteQuantity", "triggerPrice"]), TEXT)
@example("price", "-0")  # a minus on zero: it was kept as sent ("-0")
def test_any_order_decimal_text_is_kept_exactly_or_refused_by_name(name: str, text: str) -> None:
    try:
        clean = order_payload({**GOOD, name: text})
    except ApiError as refused:
        assert refused.status == 400
        assert refused.message.startswith(f"Invalid parameter `{name}`: ")
        negative = text.startswith("-") and _plain(text[1:])
        assert refused.code == "INVALID_CLIENT_REQUEST" or negative
    else:
        assert clean[name] == text
        assert _plain(text) and len(text) <= 41


@given(JSON_SCALARS)
def test_any_json_value_for_a_decimal_parameter_is_read_or_refused(value: Any) -> None:
    try:
        number = Params({"quantity": value}).decimal("quantity")
    except ApiError as refused:
        assert (refused.status, refused.code) == (400, "INVALID_CLIENT_REQUEST")
        assert refused.message.startswith("Invalid parameter `quantity`: ")
    else:
        if value is None or value == "":
            assert number is None  # absent: optional parameters may be left out
        else:
            assert isinstance(value, str) and _plain(value)
            assert number is not None and number.as_tuple() == Decimal(value).as_tuple()


def _post_order(client: httpx.Client, key: dict[str, Any], order: dict[str, Any]) -> httpx.Response:
    timestamp = int(time.time() * 1000)
    headers = {
        "X-API-Key": key["api_key"],
        "X-Signature": sign(key["api_secret"], "orderExecute", order, timestamp, 5000),
        "X-Timestamp": str(timestamp),
        "X-Window": "5000",
        "Content-Type": "application/json",
    }
    return client.post("/api/v1/order", content=json.dumps(order), headers=headers)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(["price", "quantity"]), TEXT)
def test_any_text_over_the_wire_is_taken_or_refused_never_a_500(
    sandbox: SandboxProcess, name: str, text: str
) -> None:
    order = {**GOOD, "quantity": "0.01", "postOnly": True, name: text}
    with httpx.Client(base_url=sandbox.api_url, timeout=10) as client:
        answer = _post_order(client, sandbox.keys[1], order)
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        assert Decimal(answer.json()[name]) == Decimal(text)
    else:
        assert answer.status_code == 400
        assert answer.json()["message"]
