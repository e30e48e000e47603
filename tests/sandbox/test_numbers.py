"""The sandbox's one number parser: plain decimal text is read exactly, anything else is
refused with a reason in words, and nothing else ever escapes it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.numbers import (
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    NumberError,
    check_decimal,
    parse_decimal,
    parse_int,
)

# The rule, written out independently of the parser: ASCII digits, at most one point,
# an optional minus, bounded digits on each side.
PLAIN = re.compile(r"(-?)([0-9]*)(?:\.([0-9]*))?", re.ASCII)


def plainly_accepted(text: str, negative: bool) -> bool:
    match = PLAIN.fullmatch(text)
    if match is None:
        return False
    minus, integer, fraction = match.group(1), match.group(2), match.group(3) or ""
    return (
        (not minus or negative)
        and bool(integer or fraction)
        and len(integer.lstrip("0")) <= MAX_INTEGER_DIGITS
        and len(fraction) <= MAX_FRACTION_DIGITS
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("140.25", Decimal("140.25")),
        ("0.10", Decimal("0.10")),
        (".5", Decimal("0.5")),
        ("5.", Decimal("5")),
        ("007", Decimal("7")),
        ("1" * 20 + "." + "1" * 20, Decimal("1" * 20 + "." + "1" * 20)),
    ],
)
def test_plain_decimal_text_is_read_exactly(text: str, expected: Decimal) -> None:
    number = parse_decimal(text)
    assert number == expected
    assert number.as_tuple() == Decimal(text).as_tuple()  # trailing zeros kept as typed


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "a value is required"),
        (" 1", "' 1' has spaces"),
        ("1 000", "'1 000' has spaces"),
        ("1e5", "'1e5' has an exponent: write the number out in full"),
        ("1E-7", "'1E-7' has an exponent: write the number out in full"),
        ("1_000", "'1_000' has an underscore: write digits only"),
        (
            "1,000.5",
            "'1,000.5' has a comma: use a point for decimals and no thousands separators",
        ),
        ("1,5", "'1,5' has a comma: use a point for decimals and no thousands separators"),
        ("\u0661\u0662", "'\u0661\u0662' has a digit other than 0-9"),  # Arabic-Indic 12
        ("\uff11\uff12", "'\uff11\uff12' has a digit other than 0-9"),  # fullwidth 12
        ("\u00b2", "'\u00b2' has a digit other than 0-9"),  # superscript two
        ("NaN", "'NaN' is not a finite number"),
        ("sNaN", "'sNaN' is not a finite number"),
        ("-Infinity", "'-Infinity' is not a finite number"),
        ("inf", "'inf' is not a finite number"),
        ("+1", "'+1' has a plus sign"),
        ("-1", "'-1' is negative"),
        ("1.2.3", "'1.2.3' has more than one decimal point"),
        (".", "'.' is not a decimal"),
        ("-", "'-' is not a decimal"),
        ("abc", "'abc' is not a decimal"),
        ("0x10", "'0x10' is not a decimal"),
        ("1" * 21, "'111111111111111111111' is too large: at most 20 digits before the point"),
        (
            "0." + "0" * 20 + "1",
            "'0.000000000000000000001' is too precise: at most 20 digits after the point",
        ),
        ("9" * 400, f"'{'9' * 24}...' is too large: at most 20 digits before the point"),
        (140.25, "expected a decimal string, got the number 140.25"),
        (5, "expected a decimal string, got the number 5"),
        (Decimal("5"), "expected a decimal string, got the number 5"),
        (True, "expected a decimal string, got true"),
        (None, "expected a decimal string, got null"),
        (["1"], "expected a decimal string, got a list"),
        ({"v": "1"}, "expected a decimal string, got an object"),
    ],
)
def test_anything_else_is_refused_with_the_reason(value: object, reason: str) -> None:
    with pytest.raises(NumberError) as refused:
        parse_decimal(value)
    assert refused.value.reason == reason


def test_a_minus_is_read_only_where_negatives_are_allowed() -> None:
    assert parse_decimal("-0.0001", negative=True) == Decimal("-0.0001")
    with pytest.raises(NumberError, match="^'-0.0001' is negative$"):
        parse_decimal("-0.0001")
    with pytest.raises(NumberError, match="^'--1' is not a decimal$"):
        parse_decimal("--1", negative=True)


def test_decimals_built_in_process_are_held_to_the_same_bounds() -> None:
    assert check_decimal(Decimal("150.00")) == Decimal("150.00")
    for number, reason in [
        (Decimal("NaN"), "'NaN' is not a finite number"),
        (Decimal("-1"), "'-1' is negative"),
        (
            Decimal("1E+25"),
            f"'1{'0' * 23}...' is too large: at most 20 digits before the point",
        ),
        (
            Decimal("1E-25"),
            f"'0.{'0' * 22}...' is too precise: at most 20 digits after the point",
        ),
    ]:
        with pytest.raises(NumberError) as refused:
            check_decimal(number)
        assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "a value is required"),
        ("1.5", "'1.5' is not a whole number"),
        ("1e3", "'1e3' has an exponent: write the number out in full"),
        ("\u0661", "'\u0661' has a digit other than 0-9"),
        ("\u00b2", "'\u00b2' has a digit other than 0-9"),
        ("-3", "'-3' is negative"),
        (" 3", "' 3' has spaces"),
        (True, "expected an integer, got true"),
        (1.0, "expected an integer, got a float"),
        ("9" * 41, f"'{'9' * 24}...' is too large"),
    ],
)
def test_integers_are_ascii_digits_only(value: object, reason: str) -> None:
    with pytest.raises(NumberError) as refused:
        parse_int(value)
    assert refused.value.reason == reason
    assert parse_int("0042") == 42 and parse_int("-7", negative=True) == -7


UNICODE_DIGITS = st.characters(categories=["Nd", "No"])
NEAR_NUMBERS = st.lists(
    st.one_of(
        st.sampled_from("0123456789.-+eE_, \t"), UNICODE_DIGITS, st.sampled_from(["NaN", "inf"])
    ),
    max_size=30,
).map("".join)
HUGE = st.integers(min_value=10**18, max_value=10**80).map(str)
TINY = st.integers(min_value=15, max_value=60).map(lambda n: "0." + "0" * n + "1")
ANY_TEXT = st.one_of(st.text(max_size=40), NEAR_NUMBERS, HUGE, TINY)


@given(ANY_TEXT, st.booleans())
def test_any_text_is_read_exactly_or_refused_with_a_reason(text: str, negative: bool) -> None:
    try:
        number = parse_decimal(text, negative=negative)
    except NumberError as refused:
        assert refused.reason
        assert not plainly_accepted(text, negative)
    else:
        assert plainly_accepted(text, negative)
        assert number.as_tuple() == Decimal(text).as_tuple()


@given(
    st.integers(min_value=0, max_value=10**MAX_INTEGER_DIGITS - 1),
    st.text(alphabet="0123456789", max_size=MAX_FRACTION_DIGITS),
    st.booleans(),
)
def test_every_plain_decimal_in_bounds_is_accepted(
    integer: int, fraction: str, minus: bool
) -> None:
    text = ("-" if minus else "") + str(integer) + ("." + fraction if fraction else "")
    assert parse_decimal(text, negative=True) == Decimal(text)


@given(st.one_of(st.text(max_size=30), NEAR_NUMBERS, HUGE, st.integers(), st.none()))
def test_any_integer_text_is_read_or_refused_with_a_reason(value: object) -> None:
    try:
        number = parse_int(value)
    except NumberError as refused:
        assert refused.reason
    else:
        assert number >= 0
        assert isinstance(value, int) or (value.isascii() and int(value) == number)
