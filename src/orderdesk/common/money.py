"""Money is an integer amount in minor units plus an ISO 4217 currency: never a float."""

from __future__ import annotations

from collections.abc import Callable

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "JOD": 3}


def currency_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def format_minor(amount: int, currency: str) -> str:
    """Format minor units for people: 123456, USD -> 'USD 1,234.56'."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    text = f"{whole:,}"
    if exponent:
        text += f".{fraction:0{exponent}d}"
    return f"{sign}{currency} {text}"


def money_formatter(currency: str) -> Callable[[int], str]:
    """`format_minor` for one currency, its exponent and prefix looked up once: for code that
    formats many amounts (the CSV export), where the look-ups cost more than the formatting."""
    exponent = currency_exponent(currency)
    unit = 10**exponent
    prefix, negative = f"{currency} ", f"-{currency} "

    def formatted(amount: int) -> str:
        whole, fraction = divmod(-amount if amount < 0 else amount, unit)
        start = negative if amount < 0 else prefix
        if exponent:
            return f"{start}{whole:,}.{fraction:0{exponent}d}"
        return f"{start}{whole:,}"

    return formatted


def parse_major(text: str, currency: str) -> int:
    """Parse a typed amount such as '1,234.50' into minor units, exactly (no floats)."""
    cleaned = text.strip().replace(",", "").replace("$", "")
    if not cleaned:
        raise ValueError("enter an amount")
    if cleaned.startswith("-"):
        raise ValueError("it cannot be negative")
    if cleaned.count(".") > 1:
        raise ValueError("it has more than one decimal point")
    exponent = currency_exponent(currency)
    whole, _, fraction = cleaned.partition(".")
    if not whole and not fraction:
        raise ValueError("enter an amount")  # a lone "." is not zero
    if not whole.isdigit() and whole != "":
        raise ValueError("enter an amount such as 1234.50")
    if fraction and not fraction.isdigit():
        raise ValueError("enter an amount such as 1234.50")
    if len(fraction) > exponent:
        raise ValueError(f"at most {exponent} decimal places")
    return int(whole or "0") * 10**exponent + int((fraction or "0").ljust(exponent, "0") or 0)
