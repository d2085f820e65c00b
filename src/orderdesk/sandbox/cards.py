"""Test cards of the sandbox, the numbers payment developers know from Stripe's test mode."""

from __future__ import annotations

from dataclasses import dataclass

APPROVE = "approve"
DECLINE = "card_declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
PROCESSOR_ERROR = "processing_error"

# number -> behaviour; any other valid number (Luhn) approves.
TEST_CARDS = {
    "4242424242424242": APPROVE,
    "5555555555554444": APPROVE,
    "378282246310005": APPROVE,
    "4000000000000002": DECLINE,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000000119": PROCESSOR_ERROR,
}


@dataclass(frozen=True)
class CardFacts:
    brand: str
    last4: str
    behaviour: str


class CardRejected(ValueError):
    """The card details cannot be tokenized; `field` names the input that is wrong."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def luhn_valid(number: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "Amex"
    if number.startswith("6011") or number.startswith("65"):
        return "Discover"
    return "Card"


def examine(number: str, exp_month: int, exp_year: int, cvc: str, *, today) -> CardFacts:
    """Check a card as a gateway's tokenization would; return only what may be kept."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 12 or len(digits) > 19 or not luhn_valid(digits):
        raise CardRejected("number", "This card number is not valid.")
    if not 1 <= exp_month <= 12:
        raise CardRejected("exp_month", "The expiry month must be 1 to 12.")
    if exp_year < 100:
        exp_year += 2000
    if (exp_year, exp_month) < (today.year, today.month):
        raise CardRejected("exp_year", "This card has expired.")
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        raise CardRejected("cvc", "The security code is 3 or 4 digits.")
    return CardFacts(brand_of(digits), digits[-4:], TEST_CARDS.get(digits, APPROVE))
