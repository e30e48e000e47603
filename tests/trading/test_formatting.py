"""One rule for every number shown: `trading.formatting` and its template filters."""

from __future__ import annotations

from decimal import Decimal as D
from types import SimpleNamespace

from django.template import Context, Template

from trading import formatting
from trading.templatetags.numbers import fixed

SOL = SimpleNamespace(tick_size=D("0.01"), step_size=D("0.001"))
BTC = SimpleNamespace(tick_size=D("1E+1"), step_size=D("0.00001"))


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


def test_prices_and_quantities_take_the_market_s_tick_and_step_decimals():
    assert formatting.price(D("150.1"), SOL) == "150.10"
    assert formatting.quantity(D("2"), SOL) == "2.000"
    assert formatting.price(D("97123.4"), BTC) == "97123"
    assert formatting.quantity(D("0.5"), BTC) == "0.50000"
    assert formatting.price(None, SOL) == "–"


def test_usdc_values_have_thousands_separators_and_two_decimals():
    assert formatting.usdc(D("1234567.891")) == "1,234,567.89"
    assert formatting.usdc(D("-0.004")) == "0.00"
    assert formatting.usdc(None) == "–"


def test_a_signed_usdc_value_says_a_gain_as_its_percentage_does():
    assert formatting.usdc(D("1214.454"), signed=True) == "+1,214.45"
    assert formatting.usdc(D("-3.1"), signed=True) == "-3.10"
    assert formatting.usdc(D("0.004"), signed=True) == "0.00"  # no "+" on what shows as zero
    assert formatting.usdc(None, signed=True) == "–"


def test_ratios_are_percentages():
    assert formatting.percent(D("0.0123")) == "+1.23%"
    assert formatting.percent(D("-0.05")) == "-5.00%"
    assert formatting.percent(D("0.0001"), 4) == "+0.0100%"
    assert formatting.percent(D("0.045"), signed=False) == "4.50%"


def test_stored_settings_never_show_trailing_zeros_nor_exponents():
    assert formatting.plain(D("1000.000000000000000000")) == "1000"
    assert formatting.plain(D("1E+3")) == "1000"
    assert formatting.plain(D("0.500")) == "0.5"
    assert formatting.plain(D("-0E-18")) == "0"
    assert formatting.plain(None) == "–"


def test_places_of_a_step():
    assert formatting.places_of(D("0.00001")) == 5
    assert formatting.places_of(D("1E+1")) == 0


def test_template_filters_wrap_the_same_functions():
    template = Template(
        "{% load numbers %}{{ p|price:m }} {{ q|quantity:m }} {{ v|usdc }} {{ f|percent }} "
        "{{ s|plain }} [{{ missing|usdc }}]"
    )
    context = Context(
        {
            "m": SOL,
            "p": D("150.1"),
            "q": D("1"),
            "v": D("12345.6"),
            "f": D("0.045"),
            "s": D("1000.000000000000000000"),
            "missing": None,
        }
    )
    assert template.render(context) == "150.10 1.000 12,345.60 4.50% 1000 []"


def test_no_exponent_reaches_the_page() -> None:
    assert formatting.fixed(D("1E+3"), 2) == "1000.00"
    assert formatting.plain(D("1.500E+2")) == "150"


def test_a_maximum_is_rounded_down_never_shown_above_what_it_is():
    assert formatting.fixed(D("1955.2465432999"), 2, grouped=True, down=True) == "1,955.24"
    assert formatting.fixed(D("9977.5365433"), 2, grouped=True, down=True) == "9,977.53"
    assert formatting.fixed(D("1000"), 2, grouped=True, down=True) == "1,000.00"


def test_an_amount_that_moves_shows_every_decimal_it_has_and_at_least_the_asset_s():
    assert formatting.full(D("125.5"), 2) == "125.50"
    assert formatting.full(D("10.000000001000000000"), 2) == "10.000000001"
    assert formatting.full(D("8044.7534567001"), 2) == "8,044.7534567001"
    assert formatting.full(D("1E+3"), 2) == "1,000.00"
    assert formatting.full(None, 2) == "–"
