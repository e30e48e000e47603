"""The dashboard side's number parser and the client's promise that every failure of
validation, rounding or parsing is a `BackpackError`, whatever the caller passes or the
exchange answers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trading.backpack.test_rules import SOL_USDC
from trading.backpack.account_types import Order
from trading.backpack.decimals import parse_decimal
from trading.backpack.errors import BackpackError, InvalidNumberError, MalformedResponseError
from trading.backpack.market_types import Market
from trading.backpack.orders import order_body
from trading.backpack.rules import validate_order
from trading.backpack.wire import parse

PLAIN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
NON_ASCII_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda c: not c.isascii())
NUMBERISH = st.text(
    alphabet=st.one_of(
        st.sampled_from("0123456789.-+eE_, '\u00a0"), NON_ASCII_DIGITS, st.characters()
    ),
    max_size=40,
)
ANY_DECIMAL = st.decimals(allow_nan=True, allow_infinity=True)
HUGE = st.builds(
    lambda digits, exponent: f"{digits}{'0' * exponent}",
    st.integers(1, 9),
    st.integers(15, 60),
)
TINY = st.builds(lambda zeros: f"0.{'0' * zeros}1", st.integers(15, 60))
ANYTHING = st.one_of(
    NUMBERISH, ANY_DECIMAL, HUGE, TINY, st.integers(), st.floats(), st.booleans(), st.none()
)


def refusal(text: str, **kw) -> InvalidNumberError:
    with pytest.raises(InvalidNumberError) as caught:
        parse_decimal(text, field="price", **kw)
    return caught.value


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (
            "1e5",
            "'1e5' has an exponent; write the number out in full, like 1500 rather than 1.5e3.",
        ),
        ("1_000", "'1_000' has an underscore; write only digits and one decimal point."),
        (
            "1,000.5",
            "'1,000.5' has a comma; write no thousands separators and use a point for decimals, "
            "like 1234.5.",
        ),
        (
            "12,5",
            "'12,5' has a comma; write no thousands separators and use a point for decimals, "
            "like 1234.5.",
        ),
        ("١٢٣", "'١٢٣' has a digit that is not 0-9; type the number with plain digits."),
        ("NaN", "'NaN' is not a number."),
        ("-Infinity", "'-Infinity' is not a number."),
        ("+5", "'+5' has a plus sign; write the number without it."),
        ("-5", "'-5' is negative; this amount cannot be below zero."),
        ("1.2.3", "'1.2.3' has more than one decimal point."),
        (
            "1 000",
            "'1 000' has a space or separator inside; write only digits and one decimal point.",
        ),
        (
            "1" * 19,
            "'1111111111111111111' is too large: at most 18 digits before the decimal point.",
        ),
        (
            "0." + "0" * 18 + "1",
            "'0.0000000000000000001' has too many decimals: at most 18 after the decimal point.",
        ),
        ("", "A number is required here."),
    ],
)
def test_refusals_say_what_is_wrong_with_what_was_typed(typed: str, reason: str) -> None:
    error = refusal(typed)

    assert error.reason == reason
    assert error.field == "price"
    assert isinstance(error, BackpackError)


def test_the_message_names_the_field_for_callers_without_a_label() -> None:
    assert refusal("1e5").message.startswith("price '1e5' has an exponent")
    assert refusal("").message == "price is required."


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1250", "1250"), (" 0.5 ", "0.5"), (".5", "0.5"), ("12.", "12"), ("007", "7")],
)
def test_plain_numbers_are_read_exactly(typed: str, value: str) -> None:
    assert parse_decimal(typed, field="price") == Decimal(value)


def test_a_minus_is_read_only_where_the_caller_allows_it() -> None:
    assert parse_decimal("-12.5", field="pnl", allow_negative=True) == Decimal("-12.5")


def test_trailing_zeros_past_the_limit_do_not_change_the_value() -> None:
    assert parse_decimal("1." + "0" * 30, field="price") == Decimal(1)


@settings(max_examples=400, deadline=None)
@given(ANYTHING)
def test_any_input_is_read_exactly_or_refused_with_a_message(value) -> None:
    try:
        number = parse_decimal(value, field="price", required=False)
    except InvalidNumberError as error:
        assert error.reason and error.message.startswith("price ")
        return
    if number is None:
        assert value is None or not str(value).strip()
        return
    assert number.is_finite() and number >= 0
    if isinstance(value, str):
        assert PLAIN.fullmatch(value.strip())
        assert number == Decimal(value.strip())


@given(st.decimals(min_value=0, max_value=Decimal(10) ** 18 - 1, places=8))
def test_every_plain_amount_a_person_types_is_accepted_as_typed(number: Decimal) -> None:
    assert parse_decimal(format(number, "f"), field="price") == number


@given(st.text(NON_ASCII_DIGITS, min_size=1, max_size=6))
def test_unicode_digits_python_would_read_are_refused(typed: str) -> None:
    assert refusal(typed).kind in {"digits", "not_a_number"}


@given(st.integers(1, 999), st.sampled_from("eE"), st.integers(-30, 30))
def test_exponents_are_refused(mantissa: int, e: str, exponent: int) -> None:
    assert refusal(f"{mantissa}{e}{exponent}").kind == "exponent"


@settings(max_examples=300, deadline=None)
@given(
    ANYTHING,
    ANYTHING,
    ANYTHING,
    st.sampled_from(["Bid", "Ask", "Buy", None]),
    st.sampled_from(["Limit", "Market", None]),
)
def test_validate_order_never_raises(quantity, price, quote, side, order_type) -> None:
    check = validate_order(
        SOL_USDC,
        side=side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        quote_quantity=quote,
        reference_price=Decimal("100"),
    )

    assert check.ok or all(p.message for p in check.problems)


ODD = st.one_of(
    st.sampled_from(["Bid", "Ask", "Limit", "Market", "", "bid"]),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@settings(max_examples=400, deadline=None)
@given(
    ANYTHING,
    ANYTHING,
    st.one_of(st.none(), ANYTHING),
    st.booleans(),
    ANYTHING,
    ODD,
    ODD,
    st.one_of(st.none(), st.integers(), st.booleans(), st.text(max_size=3)),
)
def test_an_order_body_is_built_or_refused_with_a_backpack_error(
    quantity, price, quote, validate, trigger, side, order_type, client_id
) -> None:
    try:
        body = order_body(
            SOL_USDC if validate else None,
            "SOL_USDC",
            side,
            order_type,
            quantity,
            price,
            quote,
            client_id,
            {"triggerPrice": trigger} if trigger is not None else {},
        )
    except BackpackError as error:
        assert error.message
        return
    for name in ("quantity", "price", "quoteQuantity", "triggerPrice"):
        if name in body:
            assert type(body[name]) is Decimal and body[name].is_finite()


def test_a_huge_price_on_a_fine_grid_is_rounded_not_an_exception() -> None:
    fine = parse(
        "test",
        Market.from_wire,
        {
            "symbol": "PEPE_USDC",
            "baseSymbol": "PEPE",
            "quoteSymbol": "USDC",
            "marketType": "SPOT",
            "orderBookState": "Open",
            "filters": {
                "price": {"minPrice": "0", "tickSize": "0.000000000000000000000001"},
                "quantity": {"minQuantity": "1", "stepSize": "0.000000000000000000000001"},
            },
        },
    )

    check = validate_order(
        fine, side="Ask", order_type="Limit", quantity="1" * 18, price="9" * 18 + ".5"
    )

    assert check.problems == ()
    assert check.price == Decimal("9" * 18 + ".5")


WIRE_VALUES = st.one_of(
    NUMBERISH,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(WIRE_VALUES, WIRE_VALUES, WIRE_VALUES)
def test_any_answer_from_the_exchange_parses_or_is_malformed(price, quantity, created) -> None:
    payload = {
        "id": "1",
        "symbol": "SOL_USDC",
        "side": "Bid",
        "orderType": "Limit",
        "status": "New",
        "price": price,
        "quantity": quantity,
        "createdAt": created,
    }
    try:
        order = parse("order", Order.from_wire, payload)
    except MalformedResponseError as error:
        assert error.message.startswith("The exchange's answer to order is malformed")
        return
    for value in (order.price, order.quantity):
        assert value is None or value.is_finite()
    if isinstance(price, str) and order.price is not None:
        assert PLAIN.fullmatch(price) and order.price == Decimal(price)


@pytest.mark.parametrize("sent", ["1e3", "１２", "1_000", "NaN", "Infinity"])
def test_a_number_the_exchange_writes_oddly_is_malformed_not_guessed(sent: str) -> None:
    payload = {"id": "1", "symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit"}
    payload |= {"status": "New", "price": sent}

    with pytest.raises(MalformedResponseError) as caught:
        parse("order", Order.from_wire, payload)

    assert caught.value.field == "price"


async def test_a_withdrawal_quantity_that_is_not_a_plain_number_never_leaves(client) -> None:
    with pytest.raises(InvalidNumberError) as caught:
        await client.request_withdrawal(
            symbol="USDC", blockchain="Solana", address="x", quantity="1e3"
        )

    assert caught.value.message == (
        "quantity '1e3' has an exponent; write the number out in full, like 1500 rather than 1.5e3."
    )


async def test_a_float_parameter_is_refused_before_signing(client) -> None:
    with pytest.raises(BackpackError) as caught:
        await client.max_order_quantity("SOL_USDC", "Bid", price=1.5)

    assert caught.value.message == "price must be given as a decimal, not a float."


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            {"symbol": ["SOL_USDC"], "quantity": "1", "price": "100"},
            "The market must be named by its symbol, not list.",
        ),
        (
            {"symbol": "SOL_USDC", "quantity": 1.5, "price": "100"},
            "quantity must be given as a decimal, not a float.",
        ),
        (
            {"symbol": "SOL_USDC", "quantity": "1", "price": Decimal("NaN")},
            "price 'NaN' is not a number.",
        ),
        (
            {"symbol": "SOL_USDC", "quantity": "1e3", "price": "100", "validate": False},
            "quantity '1e3' has an exponent; write the number out in full, like 1500 rather "
            "than 1.5e3.",
        ),
        (
            {"symbol": "SOL_USDC", "quantity": "1", "price": "100", "trigger_price": "١"},
            "triggerPrice '١' has a digit that is not 0-9; type the number with plain digits.",
        ),
    ],
)
async def test_place_order_refuses_what_a_caller_should_not_pass(client, call, message) -> None:
    symbol = call.pop("symbol")

    with pytest.raises(BackpackError) as caught:
        await client.place_order(symbol, "Bid", "Limit", **call)

    assert caught.value.message == message
    assert await client.open_orders("SOL_USDC") == []
