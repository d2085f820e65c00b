"""Builds the demo's orders one scenario at a time, each step through the real services at
its moment in the past."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from orderdesk.accounts.models import Account
from orderdesk.accounts.services import account_for_email
from orderdesk.common.clock import as_of
from orderdesk.links.services import (
    link_checkout,
    link_send_price_increase,
    link_send_reauthorization,
    price_increase_decline,
)
from orderdesk.operations import demo_catalog as catalog
from orderdesk.orders.models import (
    CancelReason,
    Order,
    OrderKind,
    OrderStatus,
    PaymentMethod,
)
from orderdesk.orders.services import (
    LineInput,
    order_assign,
    order_delivery_date_set,
    order_note_add,
    order_status_set,
)
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.models import AuthorizationSource
from orderdesk.payments.services import authorization_request, external_payment_record
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.sandbox import server
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.intake import order_open
from orderdesk.workflows.shipping import order_ship

SEED = "orderdesk-demo-1"
APPROVING_CARDS = ["4242424242424242", "4242424242424242", "5555555555554444", "378282246310005"]
FAILING_CARDS = ["4000000000000002", "4000000000000002", "4000000000009995", "4000000000000119"]


@dataclass(frozen=True)
class PlannedOrder:
    number: str
    scenario: str
    age_days: float


class DemoBuilder:
    """Builds one planned order and its history, each step at its moment in the past."""

    def __init__(self, *, staff: dict, now: datetime):
        self.now = now
        self.csrs = [staff["csr"], staff["jordan"]]
        self.supervisor = staff["supervisor"]

    # -- time -----------------------------------------------------------------------------
    def at(self, age_days: float) -> datetime:
        return self.now - timedelta(days=max(age_days, 0.003))

    # -- building blocks, each through the services ---------------------------------------
    def build(self, item: PlannedOrder) -> None:
        rng = random.Random(f"{SEED}:{item.number}")
        getattr(self, f"_scenario_{item.scenario}")(item, rng)

    def account(self, rng: random.Random, *, business: bool = False) -> Account:
        if business:
            name = rng.choice(catalog.BUSINESS_ACCOUNTS)
            email = (
                "accounts." + "".join(ch for ch in name.lower() if ch.isalnum()) + "@example.com"
            )
        else:
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            name = f"{first} {last}"
            email = f"{first}.{last}".lower().replace("'", "") + "@example.com"
        phone = f"+1 555 01{rng.randrange(100):02d}"
        return account_for_email(email=email, name=name, phone=phone)

    def lines(self, rng: random.Random, kind: str) -> list[LineInput]:
        if kind == OrderKind.SALE:
            picked = rng.sample(catalog.PRODUCTS, rng.choice([1, 1, 2, 3]))
            lines = [LineInput(d, p, quantity=rng.choice([1, 1, 1, 2])) for d, p in picked]
            return [*lines, LineInput(*catalog.SHIPPING)]
        lines = [LineInput(*rng.choice(catalog.REPAIRS))]
        if rng.random() < 0.5:
            lines.append(LineInput(*rng.choice(catalog.REPAIR_EXTRAS)))
        return lines

    def create(
        self, item, rng, *, age, kind=None, method=None, lines=None, account=None, **extra
    ) -> Order:
        kind = kind or rng.choice([OrderKind.REPAIR, OrderKind.REPAIR, OrderKind.SALE])
        method = method or rng.choice([PaymentMethod.CARD] * 3 + [PaymentMethod.PAYPAL])
        moment = self.at(age)
        business = method == PaymentMethod.TERMS
        with as_of(moment):
            order = order_open(
                account=account or self.account(rng, business=business),
                kind=kind,
                payment_method=method,
                lines=lines or self.lines(rng, kind),
                currency=settings.ORDERDESK_CURRENCY,
                number=extra.pop("number", item.number),
                **extra,
            )
        # order.created_at is auto_now_add (the wall clock): no service can set it in the past.
        Order.objects.filter(pk=order.pk).update(created_at=moment)
        return order

    def authorize(self, order: Order, rng, *, age: float, card: str | None = None, **options):
        with as_of(self.at(age)):
            if order.payment_method == PaymentMethod.PAYPAL and card is None:
                return self._authorize_paypal(order, **options)
            return authorization_request(
                order=order,
                payment_token=self.card_token(rng, age=age, card=card),
                method="card",
                source=options.get("source", AuthorizationSource.STOREFRONT),
            )

    def card_token(self, rng, *, age: float, card: str | None = None) -> str:
        """What the customer's browser gets from the sandbox's tokenization of a card."""
        number = card or rng.choice(APPROVING_CARDS)
        return server.tokenize_card(
            number=number,
            exp_month=rng.randint(1, 12),
            exp_year=self.at(age).year + rng.randint(1, 4),
            cvc="1234" if number.startswith("3") else "123",
        )

    def _authorize_paypal(self, order: Order, source=AuthorizationSource.STOREFRONT):
        token, _ = get_gateway().approval_start(
            amount=order.total, currency=order.currency, return_url=settings.ORDERDESK_BASE_URL
        )
        reference = token.removeprefix("paypal:")
        # The customer approves on PayPal's side of the sandbox.
        server.paypal_order_decide(
            reference=reference, approve=True, payer_email=order.account.ecommerce_email
        )
        return authorization_request(
            order=order, payment_token=token, method="paypal", source=source
        )

    def advance(self, order: Order, *statuses: str, age: float, actor=None) -> None:
        for step, status in enumerate(statuses):
            with as_of(self.at(age - step * 0.05)):
                order_status_set(order=order, to=status, actor=actor or self.csrs[0])

    def work(self, order: Order, rng, *, age: float, delivery_after_days: int | None = None):
        """What CSRs do to a live order: assign it, set a delivery date, write a note."""
        assignee = None
        if rng.random() < 0.7:
            assignee = rng.choice([*self.csrs, *self.csrs, self.supervisor])
            with as_of(self.at(age)):
                order_assign(order=order, actor=self.supervisor, assignee=assignee)
        if delivery_after_days is not None:
            with as_of(self.at(age - 0.02)):
                estimated = (self.at(age) + timedelta(days=delivery_after_days)).date()
                order_delivery_date_set(
                    order=order, actor=assignee or self.csrs[0], estimated=estimated
                )
        if rng.random() < 0.3:
            with as_of(self.at(rng.uniform(0.01, age))):
                order_note_add(
                    order=order, actor=assignee or self.csrs[0], text=rng.choice(catalog.NOTES)
                )

    def ship(self, order: Order, *, age: float, actor=None, override_reason: str = "") -> None:
        self.advance(order, OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP, age=age + 0.2)
        with as_of(self.at(age)):
            order_ship(order=order, actor=actor or self.csrs[0], override_reason=override_reason)

    # -- scenarios --------------------------------------------------------------------------
    def _scenario_awaiting_price(self, item, rng):
        description = rng.choice(catalog.ZERO_DOLLAR_QUOTES)
        order = self.create(
            item, rng, age=item.age_days, kind=OrderKind.REPAIR, lines=[LineInput(description, 0)]
        )
        if rng.random() < 0.6:
            self.advance(order, OrderStatus.IN_PROGRESS, age=item.age_days - 0.3)
        self.work(order, rng, age=item.age_days - 0.1)

    def _scenario_unauthorized(self, item, rng):
        order = self.create(item, rng, age=item.age_days)
        self.work(order, rng, age=item.age_days - 0.05)

    def _scenario_authorized(self, item, rng, delivery_after_days=None):
        order = self.create(item, rng, age=item.age_days)
        self.authorize(order, rng, age=item.age_days - 0.01)
        if order.kind == OrderKind.REPAIR and rng.random() < 0.7:
            self.advance(order, OrderStatus.IN_PROGRESS, age=item.age_days - 0.5)
            if delivery_after_days is None and rng.random() < 0.6:
                delivery_after_days = rng.randint(7, 21)
        elif rng.random() < 0.3:
            self.advance(order, OrderStatus.READY_TO_SHIP, age=item.age_days - 0.5)
        self.work(order, rng, age=item.age_days - 0.6, delivery_after_days=delivery_after_days)
        return order

    def _scenario_expiring_soon(self, item, rng):
        self._scenario_authorized(item, rng)

    def _scenario_expires_before_delivery(self, item, rng):
        validity = settings.ORDERDESK_AUTHORIZATION_DAYS
        self._scenario_authorized(item, rng, delivery_after_days=validity + rng.randint(3, 14))

    def _scenario_expired(self, item, rng):
        order = self._scenario_authorized(item, rng)
        # Sweep as the worker would have, just after the authorization lapsed.
        lapsed = item.age_days - settings.ORDERDESK_AUTHORIZATION_DAYS - 0.02
        with as_of(self.at(lapsed)):
            authorizations_expire()
        return order

    def _scenario_awaiting_customer(self, item, rng):
        order = self._scenario_expired(item, rng)
        with as_of(self.at(rng.uniform(0.1, 3))):
            link_send_reauthorization(order=order, actor=self.csrs[0])

    def _scenario_failed(self, item, rng):
        order = self.create(item, rng, age=item.age_days, method=PaymentMethod.CARD)
        self.authorize(order, rng, age=item.age_days - 0.01, card=rng.choice(FAILING_CARDS))
        self.work(order, rng, age=item.age_days - 0.1)
        return order

    def _scenario_paid(self, item, rng):
        order = self.create(item, rng, age=item.age_days)
        self.authorize(order, rng, age=item.age_days - 0.01)
        self.ship(order, age=item.age_days - rng.uniform(1.5, min(12, item.age_days - 0.5)))

    def _scenario_paid_externally(self, item, rng):
        order = self._scenario_failed(item, rng)
        with as_of(self.at(item.age_days - 1)):
            external_payment_record(
                order=order,
                amount=order.total,
                reference=f"POS-{rng.randrange(100000, 999999)}",
                reason="Card declined online; customer paid by phone on the bank terminal.",
                actor=self.supervisor,
            )
        if rng.random() < 0.5:
            self.ship(order, age=item.age_days - 2)

    def _scenario_terms(self, item, rng):
        order = self.create(item, rng, age=item.age_days, method=PaymentMethod.TERMS)
        if item.age_days > 3 and rng.random() < 0.5:
            self.ship(order, age=item.age_days - 2)
        else:
            self.work(order, rng, age=item.age_days - 0.1)

    def _scenario_cancelled(self, item, rng):
        order = self.create(item, rng, age=item.age_days)
        self.authorize(order, rng, age=item.age_days - 0.01)
        with as_of(self.at(item.age_days - rng.uniform(1, 2.5))):
            order_cancel(
                order=order,
                actor=self.supervisor,
                reason=CancelReason.CUSTOMER_REQUEST,
                note="Customer no longer needs the order.",
            )

    def _scenario_shipped_override(self, item, rng):
        order = self.create(item, rng, age=item.age_days, method=PaymentMethod.CARD)
        self.authorize(order, rng, age=item.age_days - 0.01)
        self.ship(
            order,
            age=item.age_days - settings.ORDERDESK_AUTHORIZATION_DAYS - 3,
            actor=self.supervisor,
            override_reason=rng.choice(catalog.SUPERVISOR_NOTES),
        )

    def _scenario_price_declined(self, item, rng):
        """An authorized repair that needs more work; the customer declined the new price."""
        order = self.create(item, rng, age=item.age_days, kind=OrderKind.REPAIR)
        self.authorize(order, rng, age=item.age_days - 0.01)
        self.advance(order, OrderStatus.IN_PROGRESS, age=item.age_days - 0.5)
        extra = LineInput(*rng.choice(catalog.REPAIR_EXTRAS))
        lines = [
            LineInput(line.description, line.unit_price, line.quantity, line.sku)
            for line in order.lines.all()
        ]
        with as_of(self.at(item.age_days - 1)):
            sent = link_send_price_increase(order=order, actor=self.csrs[0], lines=[*lines, extra])
        with as_of(self.at(item.age_days - 1.5)):
            price_increase_decline(link=sent.link)

    def _scenario_replaced(self, item, rng):
        """A repair that cost more than quoted (always after a zero-dollar quote): a CSR
        sends the customer a new cart, the customer approves it, and `<old>-1` replaces the
        old order, through the same services the customer's approval runs (the hold moves to
        the new order, the old one is cancelled as replaced, the CRM hears of it)."""
        zero_dollar = int(item.number.removeprefix("FX")) % 2 == 1
        if zero_dollar:
            quoted = [LineInput(rng.choice(catalog.ZERO_DOLLAR_QUOTES), 0)]
        else:
            quoted = [LineInput(*rng.choice(catalog.REPAIRS))]
        old = self.create(
            item,
            rng,
            age=item.age_days,
            kind=OrderKind.REPAIR,
            method=PaymentMethod.CARD,
            lines=quoted,
        )
        if not zero_dollar:
            self.authorize(old, rng, age=item.age_days - 0.01)
        self.advance(old, OrderStatus.IN_PROGRESS, age=item.age_days - 0.5)
        priced = [line for line in quoted if line.unit_price] or [
            LineInput(*rng.choice(catalog.REPAIRS))
        ]
        new_lines = [*priced, LineInput(*rng.choice(catalog.REPAIR_EXTRAS))]
        replaced_at = item.age_days - rng.uniform(2, 4)
        with as_of(self.at(item.age_days - 1)):
            sent = link_send_price_increase(order=old, actor=self.csrs[0], lines=new_lines)
        with as_of(self.at(replaced_at)):
            token = self.card_token(rng, age=replaced_at)
            new = link_checkout(link=sent.link, payment_token=token, method="card").order
        Order.objects.filter(pk=new.pk).update(created_at=self.at(replaced_at))
        self.work(new, rng, age=replaced_at - 0.2, delivery_after_days=rng.randint(5, 12))
