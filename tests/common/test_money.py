"""Money is integer minor units plus an ISO 4217 currency; never a float."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderdesk.common.money import format_minor, parse_major


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123_456, "USD", "USD 1,234.56"),
        (5, "USD", "USD 0.05"),
        (-1_050, "EUR", "-EUR 10.50"),
        (1_500, "JPY", "JPY 1,500"),
        (1_234, "KWD", "KWD 1.234"),
    ],
)
def test_amounts_are_shown_in_the_currency_minor_units(amount, currency, text):
    assert format_minor(amount, currency) == text


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("1,234.50", "USD", 123_450),
        ("$12", "USD", 1_200),
        ("0.07", "USD", 7),
        ("12.5", "USD", 1_250),
        ("1500", "JPY", 1_500),
        ("1.234", "KWD", 1_234),
    ],
)
def test_typed_amounts_parse_exactly_to_minor_units(text, currency, amount):
    assert parse_major(text, currency) == amount


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("", "USD"),
        ("abc", "USD"),
        ("-5", "USD"),
        ("1.234", "USD"),
        ("12.5", "JPY"),
        ("1.2.3", "USD"),
    ],
)
def test_malformed_amounts_are_refused(text, currency):
    with pytest.raises(ValueError):
        parse_major(text, currency)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-5", "it cannot be negative"),
        ("12.3.4", "it has more than one decimal point"),
        ("1.234", "at most 2 decimal places"),
        ("12.x", "enter an amount such as 1234.50"),
    ],
)
def test_a_refused_amount_says_what_is_wrong_with_it(text, says):
    with pytest.raises(ValueError) as refusal:
        parse_major(text, "USD")
    assert str(refusal.value) == says


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["USD", "JPY", "KWD"]))
def test_formatting_then_parsing_gives_back_the_amount(amount, currency):
    shown = format_minor(amount, currency).split(" ", 1)[1]
    assert parse_major(shown, currency) == amount
