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

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.services import staff_create
from orderdesk.operations.demo_builder import SEED, DemoBuilder, PlannedOrder
from orderdesk.orders.models import (
    Order,
)
from orderdesk.payments.services import void_steps_deliver
from orderdesk.payments.sweep import authorizations_expire

FIRST_NUMBER = 10001
MINIMUM_ORDERS = 20


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
    void_steps_deliver()  # the holds the demo's cancellations released, as the worker would
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
