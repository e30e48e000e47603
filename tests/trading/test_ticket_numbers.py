"""The order ticket's form and review with arbitrary input: every ticket is either checked
(with the exact numbers typed) or refused with messages; nothing raises."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.dashboard.test_number_fields import TYPED
from tests.trading.backpack.test_rules import SOL_USDC
from trading.forms import TicketForm
from trading.ticket import BestPrices, ConfirmGuard, review_ticket

SUBACCOUNTS = [SimpleNamespace(pk=1, name="Main desk")]
AMOUNT = st.one_of(st.just(""), TYPED, st.sampled_from(["150", "1", "0.5", "150.005"]))


def ticket(**fields: str) -> TicketForm:
    data = {"subaccount": "1", "side": "Bid", "order_type": "Limit", "token": "t" * 20}
    return TicketForm({**data, **fields}, subaccounts=SUBACCOUNTS)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["Limit", "Market"]),
    st.sampled_from(["Bid", "Ask"]),
    AMOUNT,
    AMOUNT,
    AMOUNT,
    st.sampled_from(["", "GTC", "IOC", "FOK"]),
    st.booleans(),
)
def test_any_ticket_is_reviewed_or_refused_never_misread(
    order_type, side, price, quantity, quote, tif, post_only
) -> None:
    form = ticket(
        order_type=order_type,
        side=side,
        price=price,
        quantity=quantity,
        quote_quantity=quote,
        time_in_force=tif,
        **({"post_only": "on"} if post_only else {}),
    )
    if not form.is_valid():
        assert all(m for errors in form.errors.values() for m in errors)
        return

    review = review_ticket(
        form.cleaned_data,
        SOL_USDC,
        prices=BestPrices(bid=Decimal("149.5"), ask=Decimal("150.5")),
        taker_fee_bps=Decimal("10"),
        confirm_notional=Decimal("5000"),
    )

    if review.ticket is None or review.problems:
        assert review.messages
        assert not review.notional_text and not review.fee_text  # nothing derived from it
        return
    sent = review.ticket
    if order_type == "Limit":
        assert sent.price == Decimal(price.strip()) and sent.quote_quantity is None
        assert sent.quantity == Decimal(quantity.strip())
    else:
        assert sent.price is None and not price.strip()
        typed = quantity.strip() or quote.strip()
        assert (sent.quantity or sent.quote_quantity) == Decimal(typed)


def test_a_price_on_a_market_order_is_named_not_dropped() -> None:
    form = ticket(order_type="Market", price="150", quantity="1")
    assert form.is_valid()

    review = review_ticket(
        form.cleaned_data,
        SOL_USDC,
        prices=BestPrices(),
        taker_fee_bps=None,
        confirm_notional=None,
    )

    assert review.ticket is None
    assert review.problems == {
        "price": ["A market order takes no price; clear the price or choose Limit."]
    }


def test_while_an_input_is_invalid_no_notional_or_fee_is_shown() -> None:
    form = ticket(price="150", quantity="1.234")
    assert form.is_valid()

    review = review_ticket(
        form.cleaned_data,
        SOL_USDC,
        prices=BestPrices(bid=Decimal("149.5"), ask=Decimal("150.5")),
        taker_fee_bps=Decimal("10"),
        confirm_notional=Decimal("100"),
    )

    assert review.messages == [
        "Quantity 1.234 is not a multiple of the step 0.01 for SOL_USDC; use 1.23."
    ]
    assert (review.notional_text, review.fee_text, review.confirm_reasons) == ("", "", [])


def test_the_notional_is_a_value_grouped_with_two_decimals() -> None:
    form = ticket(price="150", quantity="40")
    assert form.is_valid()

    review = review_ticket(
        form.cleaned_data,
        SOL_USDC,
        prices=BestPrices(bid=Decimal("149.5"), ask=Decimal("150.5")),
        taker_fee_bps=Decimal("10"),
        confirm_notional=Decimal("5000"),
    )

    assert review.notional_text == "6,000.00 USDC"
    assert review.fee_text == "≤ 6.00 USDC (10 bps, the account's taker rate)"
    assert review.confirm_reasons == [
        "The notional 6,000.00 USDC is above this subaccount's confirmation limit of 5000 USDC."
    ]


def test_an_unreadable_equity_asks_for_confirmation_instead_of_waving_the_order_through() -> None:
    form = ticket(price="150", quantity="1")
    assert form.is_valid()

    review = review_ticket(
        form.cleaned_data,
        SOL_USDC,
        prices=BestPrices(),
        taker_fee_bps=None,
        confirm_notional=None,
        guard=ConfirmGuard(equity_pct=Decimal("10"), price_pct=Decimal("5"), equity=None),
    )

    assert review.confirm_reasons == [
        "The subaccount's equity could not be read, so the notional 150.00 USDC was not "
        "checked against 10% of it."
    ]
