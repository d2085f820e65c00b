"""Request and response bodies. Money is integer minor units plus an ISO 4217 currency.

Request bodies are plain pydantic models (a ninja `Schema` body was seen to accept a bare
JSON string). Every text input refuses NUL characters, which PostgreSQL cannot store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from orderdesk.orders.services import LineInput

MAX_MINOR = 10**11  # a billion in major units is far beyond any order; keeps sums in BIGINT
MAX_QUANTITY = 10_000
MAX_LINES = 200


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    if any("\ud800" <= character <= "\udfff" for character in value):
        raise ValueError("must be valid Unicode text (no lone surrogates)")
    return value


def an_email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError as error:
        raise ValueError("must be an e-mail address") from error
    return value


def iso_date_text(value):
    """Dates are ISO 8601 text ("2026-12-01"): pydantic would also read a number as a Unix time."""
    if value is not None and not isinstance(value, (str, date)):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_date_text)]


# In the schema too, so that clients (and schema-driven tests) know NUL is refused.
NO_NUL_PATTERN = r"^[^\x00]*$"
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}$"
)


def Text(max_length: int, min_length: int = 0):  # noqa: N802 (reads as a type)
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, pattern=NO_NUL_PATTERN),
        AfterValidator(no_nul),
    ]


OrderNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Order number (letters, digits, '.', '_', '-'); replacements end in -1, -2…",
        examples=["100123", "100123-1"],
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Minor = Annotated[int, Field(ge=0, le=MAX_MINOR, description="amount in minor units")]
PositiveMinor = Annotated[int, Field(ge=1, le=MAX_MINOR, description="amount in minor units")]
Email = Annotated[
    str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN), AfterValidator(an_email)
]

Kind = Literal["repair", "sale"]
Method = Literal["card", "paypal", "terms"]
WorkStatus = Literal["open", "in_progress", "ready_to_ship"]
CancelReasonIn = Literal["customer_request", "payment_failed", "other"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


# ---- errors -----------------------------------------------------------------------------


class ErrorItem(BaseModel):
    field: str = Field(description="the input at fault, dotted ('lines.0.unit_price'), or ''")
    reason: str


class ErrorOut(BaseModel):
    detail: list[ErrorItem]


# ---- requests ---------------------------------------------------------------------------


class AccountIn(Body):
    email: Email = Field(description="e-commerce e-mail; an existing account with it is used")
    name: Text(200, 1)
    phone: Text(40) = ""


class LineIn(Body):
    description: Text(300, 1)
    unit_price: Minor
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)] = 1
    sku: Text(64) = ""

    def as_line(self) -> LineInput:
        """The line as the order services take it."""
        return LineInput(self.description, self.unit_price, self.quantity, self.sku)


class StorefrontAuthorizationIn(Body):
    """A hold the storefront already made at checkout; orderdesk checks it with the gateway."""

    gateway: Literal["sandbox", "stripe", "paypal"]
    reference: Text(100, 1) = Field(
        description="a Stripe PaymentIntent id (pi_…), a PayPal authorization id, a sandbox "
        "reference (sbx_auth_…)"
    )
    amount: PositiveMinor
    currency: Currency = "USD"
    authorized_at: datetime = Field(description="when the storefront's gateway authorized it")
    expires_at: datetime | None = Field(
        None, description="the expiry the storefront knows; the gateway's own wins"
    )
    card_brand: Text(20) = ""
    card_last4: Annotated[str, Field(pattern=r"^([0-9]{4})?$")] = ""
    payer_email: Email | None = None


class OrderCreateIn(Body):
    account: AccountIn
    kind: Kind
    payment_method: Method
    currency: Currency = "USD"
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    quoted_total: Minor | None = Field(
        None, description="what the customer was quoted (0 for a zero-dollar repair quote)"
    )
    number: OrderNumber | None = Field(None, description="the storefront's own order number")
    estimated_delivery_date: IsoDate | None = None
    payment_token: Text(4000, 1) | None = Field(
        None,
        description=(
            "a token from the gateway's tokenization (card) or an approved PayPal order "
            "('paypal:<id>'): the order's total is authorized at checkout"
        ),
    )
    authorization: StorefrontAuthorizationIn | None = Field(
        None, description="the authorization the storefront made (instead of payment_token)"
    )


class ShipIn(Body):
    override_reason: Text(300) = Field(
        "", description="supervisors only: ship although payment is not secured, saying why"
    )


class CancelIn(Body):
    reason: CancelReasonIn = "other"
    note: Text(300) = ""


class NoteIn(Body):
    text: Text(500, 1)


class DeliveryDateIn(Body):
    estimated_delivery_date: IsoDate | None = Field(description="null clears it")


class StatusIn(Body):
    status: WorkStatus


class ExternalPaymentIn(Body):
    amount: PositiveMinor
    reference: Text(100, 1)
    reason: Text(300, 1)


# ---- responses --------------------------------------------------------------------------


class AccountOut(BaseModel):
    name: str
    email: str
    phone: str


class LineOut(BaseModel):
    sku: str
    description: str
    quantity: int
    unit_price: int
    amount: int


class AuthorizationOut(BaseModel):
    gateway: str
    method: str
    status: str
    amount: int
    currency: str
    authorized_at: datetime | None
    expires_at: datetime | None
    instrument: str = Field(description="card brand and last 4, or the PayPal payer")
    decline_code: str
    message: str
    source: str
    created_at: datetime


class CaptureOut(BaseModel):
    amount: int
    currency: str
    gateway_reference: str
    captured_at: datetime


class ExternalPaymentOut(BaseModel):
    amount: int
    currency: str
    reference: str
    reason: str
    recorded_by: str
    recorded_at: datetime


class EventOut(BaseModel):
    kind: str
    message: str
    who: str
    created_at: datetime


class OrderSummaryOut(BaseModel):
    number: str
    account: AccountOut
    kind: str
    status: str
    payment_method: str
    currency: str
    quoted_total: int
    total: int
    authorized_amount: int
    payment_state: str
    payment_expires_at: datetime | None
    estimated_delivery_date: date | None
    assigned_to: str | None
    last_action: str
    created_at: datetime


class OrderOut(OrderSummaryOut):
    cancel_reason: str
    amount_paid: int
    lines: list[LineOut]
    authorizations: list[AuthorizationOut]
    captures: list[CaptureOut]
    external_payments: list[ExternalPaymentOut]
    supersedes: str | None = Field(description="number of the order this one replaced")
    superseded_by: str | None = Field(description="number of the order that replaced this one")
    timeline: list[EventOut]


class OrderPageOut(BaseModel):
    count: int
    limit: int
    offset: int
    items: list[OrderSummaryOut]


class UnpaidRowOut(BaseModel):
    group: str
    number: str
    account: str
    kind: str
    total: int
    currency: str
    authorized_amount: int
    payment_state: str
    expires_at: datetime | None
    estimated_delivery_date: date | None
    last_action: str
    assigned_to: str | None


class UnpaidPanelOut(BaseModel):
    groups: list[str] = Field(description="the groups in urgency order")
    counts: dict[str, int] = Field(description="orders per group")
    total: int = Field(description="rows under the filters")
    page: int
    pages: int
    rows: list[UnpaidRowOut]


# ---- payment links, cards and e-mails ---------------------------------------------------


class ReauthorizationIn(Body):
    confirm: bool = Field(
        False, description="send although an Approve Order Payment link went out recently"
    )


class PriceIncreaseIn(Body):
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)


class CardPaymentIn(Body):
    payment_token: Text(500, 1) = Field(
        description="the gateway's token for the card (never a card number)"
    )


class LinkOut(BaseModel):
    id: int
    purpose: str
    status: str
    amount: int
    currency: str
    proposed_total: int | None
    sent_to: str
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    completed_at: datetime | None


class LinkSentOut(BaseModel):
    link: LinkOut


class EmailOut(BaseModel):
    id: int
    template: str
    to: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class AuthorizationResultOut(BaseModel):
    id: int
    status: str
    amount: int
    currency: str
    gateway: str
    instrument: str
    decline_code: str
    message: str
