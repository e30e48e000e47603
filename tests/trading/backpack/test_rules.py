from __future__ import annotations

from decimal import Decimal

from trading.backpack.market_types import Market
from trading.backpack.rules import plain, validate_order
from trading.backpack.wire import parse

SOL_USDC = parse(
    "test",
    Market.from_wire,
    {
        "symbol": "SOL_USDC",
        "baseSymbol": "SOL",
        "quoteSymbol": "USDC",
        "marketType": "SPOT",
        "orderBookState": "Open",
        "visible": True,
        "createdAt": "2025-01-01T00:00:00",
        "filters": {
            "price": {
                "minPrice": "0.01",
                "maxPrice": "100000",
                "tickSize": "0.01",
                "minMultiplier": "0.8",
                "maxMultiplier": "1.2",
            },
            "quantity": {"minQuantity": "0.01", "stepSize": "0.01", "maxQuantity": "1000"},
        },
    },
)


def check(**kw):
    base = {"side": "Bid", "order_type": "Limit", "quantity": "1", "price": "100"}
    base.update(kw)
    return validate_order(SOL_USDC, **base)


def test_a_clean_order_has_no_problems() -> None:
    result = check()
    assert result.ok
    assert (result.quantity, result.price) == (Decimal("1"), Decimal("100"))


def test_quantity_off_step_is_rounded_down_and_explained() -> None:
    result = check(quantity="1.234")
    assert result.quantity == Decimal("1.23")
    assert [p.message for p in result.problems] == [
        "quantity 1.234 is not a multiple of the step 0.01 for SOL_USDC; use 1.23."
    ]
    assert result.problems[0].field == "quantity"


def test_price_rounds_in_the_traders_favour() -> None:
    assert check(price="95.555").price == Decimal("95.55")
    assert check(side="Ask", price="95.551").price == Decimal("95.56")
    assert check(side="Ask", price="95.551").problems[0].message == (
        "price 95.551 is not a multiple of the tick 0.01 for SOL_USDC; use 95.56."
    )


def test_minimum_quantity_and_bad_input_are_named() -> None:
    assert [p.message for p in check(quantity="0.001").problems] == [
        "quantity 0.001 is less than the step 0.01 for SOL_USDC; the smallest order is 0.01."
    ]
    assert [p.message for p in check(quantity="abc").problems] == [
        "quantity 'abc' is not a number."
    ]
    assert [p.message for p in check(side="Buy").problems] == ["side 'Buy' is not one of Bid, Ask."]
    assert [p.message for p in check(price=None).problems] == [
        "price is required for a limit order."
    ]


def test_price_band_against_reference_price() -> None:
    result = validate_order(
        SOL_USDC,
        side="Bid",
        order_type="Limit",
        quantity="1",
        price="130",
        reference_price=Decimal("100"),
    )
    assert [p.message for p in result.problems] == [
        "price 130.00 is more than 1.2x the last price 100 of SOL_USDC (price band)."
    ]


def test_plain_never_uses_exponent_notation() -> None:
    assert plain(Decimal("1E+3")) == "1000"
    assert plain(Decimal("1E-8")) == "0.00000001"
    assert plain(check(quantity=Decimal("1E+1")).quantity) == "10.00"


def test_typed_exponents_and_foreign_digits_are_refused_not_read() -> None:
    assert [p.message for p in check(quantity="1E+1").problems] == [
        "quantity '1E+1' has an exponent; write the number out in full, like 1500 rather "
        "than 1.5e3."
    ]
    assert [p.message for p in check(price="１５０").problems] == [
        "price '１５０' has a digit that is not 0-9; type the number with plain digits."
    ]


def test_a_market_knows_whether_it_is_perpetual():
    from dataclasses import replace

    from trading.backpack.market_types import MarketType

    assert SOL_USDC.is_perp is False
    assert replace(SOL_USDC, market_type=MarketType.PERP).is_perp is True
    assert replace(SOL_USDC, market_type=MarketType.IPERP).is_perp is True
    assert replace(SOL_USDC, market_type=MarketType.DATED).is_perp is False


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from trading.backpack.rules import quick_check  # noqa: E402

_decimals = st.one_of(
    *(
        st.decimals(
            min_value=Decimal("-5"), max_value=Decimal("200000"), places=places, allow_nan=False
        )
        for places in (0, 2, 4)
    )
)


@settings(max_examples=300, deadline=None)
@given(
    quantity=_decimals,
    price=_decimals,
    side=st.sampled_from(["Bid", "Ask", "Buy"]),
    order_type=st.sampled_from(["Limit", "Market"]),
)
def test_the_fast_check_never_lets_through_what_the_full_check_refuses(
    quantity: Decimal, price: Decimal, side: str, order_type: str
) -> None:
    sent_price = price if order_type == "Limit" else None
    fast = quick_check(SOL_USDC, side, order_type, quantity, sent_price)
    if fast is None:
        return  # passing on to the full check is always allowed (only slower)
    full = validate_order(
        SOL_USDC, side=side, order_type=order_type, quantity=quantity, price=sent_price
    )
    assert full.ok
    assert fast == (full.quantity, full.price)
    assert format(fast[0], "f") == format(full.quantity, "f")


def test_the_fast_check_takes_the_common_order_and_passes_on_the_rest() -> None:
    assert quick_check(SOL_USDC, "Bid", "Limit", Decimal("1.5"), Decimal("140")) == (
        Decimal("1.50"),
        Decimal("140.00"),
    )
    assert quick_check(SOL_USDC, "Bid", "Limit", Decimal("1.234"), Decimal("140")) is None
    assert quick_check(SOL_USDC, "Bid", "Limit", "1.5", Decimal("140")) is None
    assert quick_check(SOL_USDC, "Bid", "Market", Decimal("1"), None) == (Decimal("1.00"), None)
