"""Demo data, made through the real services with history written in the past (`as_of`).

`demo_load` creates the staff log-ins and about 200 orders over every payment state: zero-dollar
repair quotes, orders not yet authorized, authorizations of every age (fresh, expiring within
days, expiring before the estimated delivery date, expired and swept), declined cards, paid and
shipped orders, terms, cancellations, and replaced orders linked to their replacements.

It is deterministic (seeded per order number) and idempotent: an order whose number exists is
skipped, and existing staff keep their passwords. Each order is built in its own transaction,
so an interrupted load completes on the next run.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.models import Account
from orderdesk.accounts.services import account_for_email, staff_create
from orderdesk.common.clock import as_of
from orderdesk.operations import demo_catalog as catalog
from orderdesk.orders.events import event_record
from orderdesk.orders.models import (
    CancelReason,
    EventKind,
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
FIRST_NUMBER = 10001
MINIMUM_ORDERS = 20
APPROVING_CARDS = ["4242424242424242", "4242424242424242", "5555555555554444", "378282246310005"]
FAILING_CARDS = ["4000000000000002", "4000000000000002", "4000000000009995", "4000000000000119"]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str  # "csr", "supervisor" or "admin" (a superuser for /admin/)
    name: str


LOGINS = [
    DemoLogin("csr", "csr-demo-pass", "csr", "Casey Rivera"),
    DemoLogin("jordan", "jordan-demo-pass", "csr", "Jordan Blake"),
    DemoLogin("supervisor", "supervisor-demo-pass", "supervisor", "Sam Okafor"),
    DemoLogin("admin", "admin-demo-pass", "admin", "Site Admin"),
]

# Scenario -> (share of the orders, range of the order's age in days). The age ranges put
# each authorization where the scenario needs it: an order is authorized at checkout, so
# "expiring_soon" orders are 24.3 to 28.8 days old with a 29-day validity.
SCENARIOS: dict[str, tuple[float, tuple[float, float]]] = {
    "awaiting_price": (0.08, (0.5, 12)),
    "unauthorized": (0.06, (0.2, 6)),
    "authorized": (0.19, (0.3, 20)),
    "expiring_soon": (0.10, (24.3, 28.8)),
    "expires_before_delivery": (0.05, (10, 20)),
    "expired": (0.10, (30.5, 55)),
    "failed": (0.08, (0.3, 10)),
    "awaiting_customer": (0.04, (30.5, 45)),
    "paid": (0.14, (4, 40)),
    "paid_externally": (0.02, (5, 20)),
    "terms": (0.05, (1, 30)),
    "cancelled": (0.04, (3, 30)),
    "shipped_override": (0.01, (40, 50)),
    "replaced": (0.01, (6, 20)),  # each makes two orders: the old one and its replacement
    "price_declined": (0.01, (3, 15)),
}


@dataclass(frozen=True)
class PlannedOrder:
    number: str
    scenario: str
    age_days: float


def demo_plan(order_count: int) -> list[PlannedOrder]:
    """Which scenario each order number gets; numbers rise with creation time."""
    if order_count < MINIMUM_ORDERS:
        raise ValueError(f"the demo needs at least {MINIMUM_ORDERS} orders")
    counts = {name: max(1, round(share * order_count)) for name, (share, _) in SCENARIOS.items()}
    made = sum(counts.values()) + counts["replaced"]  # a replacement adds a second order
    counts["authorized"] += order_count - made
    rng = random.Random(SEED)
    slots = [
        (rng.uniform(*SCENARIOS[name][1]), name)
        for name, count in counts.items()
        for _ in range(count)
    ]
    slots.sort(key=lambda slot: -slot[0])
    return [
        PlannedOrder(f"FX{FIRST_NUMBER + index}", name, age)
        for index, (age, name) in enumerate(slots)
    ]


def _links_services():
    """The links app's services module, once it exists."""
    try:
        from orderdesk.links import services
    except ImportError:
        return None
    return services


def _links_reauthorization_service() -> Callable | None:
    """The links app's "Approve Order Payment" service, once it exists."""
    return getattr(_links_services(), "link_send_reauthorization", None)


def demo_load(*, order_count: int = 200, write: Callable[[str], None] = print) -> Counter:
    """Create the demo staff and orders (idempotent); return how many orders each scenario made."""
    staff = demo_staff_ensure()
    plan = demo_plan(order_count)
    builder = DemoBuilder(staff=staff, now=timezone.now())
    missing = [item for item in plan if not Order.objects.filter(number=item.number).exists()]
    made: Counter = Counter()
    if not missing:
        write(f"Demo data already loaded ({len(plan)} planned orders exist); nothing added.")
    for done, item in enumerate(missing, start=1):
        with transaction.atomic():
            builder.build(item)
        made[item.scenario] += 1
        if done % 20 == 0 or done == len(missing):
            write(f"  demo orders: {done}/{len(missing)} planned (a replaced pair counts once)")
    expired = authorizations_expire()
    if expired:
        write(f"  expiry sweep: {expired} authorizations expired")
    return made


def demo_staff_ensure() -> dict[str, object]:
    """The demo log-ins; a user that exists already is left as it is (password included)."""
    user_model = get_user_model()
    users = {}
    for login in LOGINS:
        user = user_model.objects.filter(username=login.username).first()
        if user is None and login.role == "admin":
            # No orderdesk service makes superusers: Django's own manager does.
            user = user_model.objects.create_superuser(
                login.username, f"{login.username}@example.com", login.password
            )
        elif user is None:
            user = staff_create(
                username=login.username,
                role=login.role,
                password=login.password,
                email=f"{login.username}@example.com",
                name=login.name,
            )
        users[login.username] = user
    return users


def demo_logins_text() -> str:
    labels = {"csr": "CSR", "supervisor": "Supervisor", "admin": "Admin (/admin/)"}
    rows = [f"  {labels[login.role]:<16} {login.username} / {login.password}" for login in LOGINS]
    return "Demo log-ins (for trying orderdesk only):\n" + "\n".join(rows)


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
            number = card or rng.choice(APPROVING_CARDS)
            token = server.tokenize_card(
                number=number,
                exp_month=rng.randint(1, 12),
                exp_year=self.at(age).year + rng.randint(1, 4),
                cvc="1234" if number.startswith("3") else "123",
            )
            return authorization_request(
                order=order,
                payment_token=token,
                method="card",
                source=options.get("source", AuthorizationSource.STOREFRONT),
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
        send = _links_reauthorization_service()
        if send is not None:
            with as_of(self.at(rng.uniform(0.1, 3))):
                send(order=order, actor=self.csrs[0])

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
        services = _links_services()
        if services is None:
            return
        extra = LineInput(*rng.choice(catalog.REPAIR_EXTRAS))
        lines = [
            LineInput(line.description, line.unit_price, line.quantity, line.sku)
            for line in order.lines.all()
        ]
        with as_of(self.at(item.age_days - 1)):
            sent = services.link_send_price_increase(
                order=order, actor=self.csrs[0], lines=[*lines, extra]
            )
        with as_of(self.at(item.age_days - 1.5)):
            services.price_increase_decline(link=sent.link)

    def _scenario_replaced(self, item, rng):
        """A repair that cost more than quoted: a new order `<old>-1` replaces the old one."""
        zero_dollar = int(item.number.removeprefix("FX")) % 2 == 1
        if zero_dollar:
            quoted = [LineInput(rng.choice(catalog.ZERO_DOLLAR_QUOTES), 0)]
        else:
            quoted = [LineInput(*rng.choice(catalog.REPAIRS))]
        old = self.create(item, rng, age=item.age_days, kind=OrderKind.REPAIR, lines=quoted)
        if not zero_dollar:
            self.authorize(old, rng, age=item.age_days - 0.01)
        self.advance(old, OrderStatus.IN_PROGRESS, age=item.age_days - 0.5)
        with as_of(self.at(item.age_days - 1)):
            order_note_add(
                order=old,
                actor=self.csrs[0],
                text="Bench found more work than quoted; new cart sent.",
            )
        priced = [line for line in quoted if line.unit_price] or [
            LineInput(*rng.choice(catalog.REPAIRS))
        ]
        new_lines = [*priced, LineInput(*rng.choice(catalog.REPAIR_EXTRAS))]
        replaced_at = item.age_days - rng.uniform(2, 4)
        new = self.create(
            item,
            rng,
            age=replaced_at,
            kind=OrderKind.REPAIR,
            method=old.payment_method,
            lines=new_lines,
            number=f"{old.number}-1",
            quoted_total=old.quoted_total,
            supersedes=old,
            account=old.account,
        )
        self.authorize(new, rng, age=replaced_at - 0.001, source=AuthorizationSource.CUSTOMER_LINK)
        with as_of(self.at(replaced_at - 0.002)):
            order_cancel(
                order=old,
                actor=self.supervisor,
                reason=CancelReason.REPLACED,
                note=f"Replaced by order {new.number} at the new price",
            )
            event_record(
                old,
                EventKind.REPLACED,
                f"Replaced by order {new.number}",
                actor=self.supervisor,
                details={"replacement": new.number},
            )
        self.advance(new, OrderStatus.IN_PROGRESS, age=replaced_at - 0.1)
        self.work(new, rng, age=replaced_at - 0.2, delivery_after_days=rng.randint(5, 12))
