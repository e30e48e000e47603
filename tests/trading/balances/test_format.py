"""The `fixed` filter shows Decimals with the asset's places, exactly and grouped."""

from __future__ import annotations

from decimal import Decimal as D

from trading.templatetags.balances_format import fixed


def test_fixed_places_round_half_up_and_group_thousands():
    assert fixed(D("1234567.125"), 2) == "1,234,567.13"
    assert fixed(D("0.000012345"), 8) == "0.00001235"
    assert fixed(D("25"), 5) == "25.00000"


def test_no_exponent_notation_and_no_negative_zero():
    assert fixed(D("1E+3"), 2) == "1,000.00"
    assert fixed(D("0E-18"), 2) == "0.00"
    assert fixed(D("-0.001"), 2) == "0.00"
    assert fixed(D("-1234.5"), 0) == "-1,235"


def test_missing_or_bad_values_show_nothing_instead_of_crashing():
    assert fixed(None, 2) == ""
    assert fixed("lots", 2) == ""
    assert fixed(D("NaN"), 2) == ""
    assert fixed(D("1.5"), "x") == ""
