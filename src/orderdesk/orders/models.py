from django.conf import settings
from django.db import models
from django.db.models import F, Q

from orderdesk.common.clock import now
from orderdesk.common.people import display_name


class OrderKind(models.TextChoices):
    REPAIR = "repair", "Repair"
    SALE = "sale", "Sale"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    PAYPAL = "paypal", "PayPal"
    TERMS = "terms", "Terms"


class OrderStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    READY_TO_SHIP = "ready_to_ship", "Ready to ship"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class CancelReason(models.TextChoices):
    REPLACED = "replaced", "Replaced by a new order"
    CUSTOMER_REQUEST = "customer_request", "Customer request"
    PAYMENT_FAILED = "payment_failed", "Payment could not be secured"
    OTHER = "other", "Other"


class PaymentState(models.TextChoices):
    """Denormalized onto the order so the unpaid panel is one indexed query."""

    AWAITING_PRICE = "awaiting_price", "Awaiting price"
    UNAUTHORIZED = "unauthorized", "Not authorized"
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
    AUTHORIZED = "authorized", "Authorized"
    EXPIRED = "expired", "Authorization expired"
    FAILED = "failed", "Payment failed"
    PAID = "paid", "Paid"
    NOT_REQUIRED = "not_required", "Not required"
    VOID = "void", "Void"


# Payment states that put a live order on the unpaid panel without looking at the clock;
# an authorized order joins them when its authorization expires soon.
UNPAID_STATES = [
    PaymentState.FAILED,
    PaymentState.EXPIRED,
    PaymentState.AWAITING_CUSTOMER,
    PaymentState.UNAUTHORIZED,
    PaymentState.AWAITING_PRICE,
]


# The columns the unpaid panel sorts by besides expiry (order_payment_panel's), and the
# suffix of the name of the partial index that walks each in order.
PANEL_SORT_COLUMNS = (
    ("total", "total"),
    ("number", "number"),
    ("estimated_delivery_date", "delivery"),
    ("last_action_at", "last_action"),
)


PANEL_SORT_KEYS = [column for column, _ in PANEL_SORT_COLUMNS]


# The statuses of finished orders: the partial indexes of the unpaid panel hold the others.
FINISHED_STATUSES = ["shipped", "cancelled"]


class Order(models.Model):
    number = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(max_length=10, choices=OrderKind.choices)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    cancel_reason = models.CharField(max_length=20, choices=CancelReason.choices, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    quoted_total = models.BigIntegerField(
        default=0, help_text="What the customer was quoted, minor units"
    )
    total = models.BigIntegerField(default=0, help_text="What is owed now, minor units")
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    estimated_delivery_date = models.DateField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    crm_id = models.CharField("CRM id", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Denormalized payment state, kept true by every payments service.
    payment_state = models.CharField(
        max_length=20, choices=PaymentState.choices, default=PaymentState.UNAUTHORIZED
    )
    payment_expires_at = models.DateTimeField(null=True, blank=True)
    authorized_amount = models.BigIntegerField(default=0)
    last_action = models.CharField(max_length=200, blank=True)
    last_action_at = models.DateTimeField(null=True, blank=True)
    # What the payment state needs to know of the customer's payment links, recorded by the
    # link workflow whenever a link opens or closes (payments never reads the links).
    customer_link_open = models.BooleanField(default=False)
    price_declined_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer declined the newest price increase"
    )
    # What the CRM has heard (crm.sync): every change the CRM should hear of (work status,
    # delivery date, payment state) adds one to crm_version in the UPDATE that makes it; the
    # CRM outbox sends the order as it then is and records the version it finished with
    # (delivered, or given up and shown to supervisors). A new order starts one behind.
    crm_version = models.BigIntegerField(default=1, db_default=1)
    crm_settled_version = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("work_order", "Add notes, set dates and assign orders"),
            ("ship_order", "Ship an order whose payment is secured"),
            ("override_ship_gate", "Ship an order without secured payment, with a reason"),
            ("send_payment_link", "Re-trigger the cart and send price increases"),
            ("process_card", "Process a card manually"),
            ("record_external_payment", "Record a payment taken outside orderdesk"),
            ("cancel_order", "Cancel an order"),
        ]
        indexes = [
            # The unpaid panel and the expiry sweep of orders. Ending in id, a group's page
            # is a walk of the index (expiry, then id); with status (the condition's column)
            # and the panel's kind and assignee filters, both databases count from the index
            # alone (PostgreSQL once the table is vacuumed). The other sort keys at the end:
            # an expiry range sorted by one of them (authorized orders expiring soon) is read
            # with its keys from the index, not from every order's row. The account last: a
            # search that matches many orders tests it and the number while walking the
            # panel's ranges.
            models.Index(
                fields=[
                    "payment_state",
                    "payment_expires_at",
                    "id",
                    "status",
                    "kind",
                    "assigned_to",
                    *PANEL_SORT_KEYS,
                    "account",
                ],
                name="order_payment_panel",
                condition=~Q(status__in=FINISHED_STATUSES),
            ),
            # The unpaid panel's "expiring before the estimated delivery date" arm: only live
            # orders with a date, ordered like order_payment_panel, so the authorized ones
            # beyond the warning window are one range read from the index alone.
            models.Index(
                fields=[
                    "payment_state",
                    "payment_expires_at",
                    "id",
                    "estimated_delivery_date",
                    "status",
                    "kind",
                    "assigned_to",
                    *(key for key in PANEL_SORT_KEYS if key != "estimated_delivery_date"),
                    "account",
                ],
                name="order_delivery_risk",
                condition=Q(estimated_delivery_date__isnull=False)
                & ~Q(status__in=FINISHED_STATUSES),
            ),
            # The unpaid panel sorted by a column: each of its payment-state ranges is a walk
            # of one of these in the column's order, so a page reads its first rows of each
            # range instead of sorting every unpaid order. With status, kind and assignee (as
            # order_payment_panel) the walk and the panel's filters need no table row; without
            # them SQLite preferred sorting a covering index's whole range.
            *(
                models.Index(
                    fields=["payment_state", column, "id", "status", "kind", "assigned_to"],
                    name=f"order_panel_by_{name}",
                    condition=~Q(status__in=FINISHED_STATUSES),
                )
                for column, name in PANEL_SORT_COLUMNS
            ),
            # The panel's search by account: the matching accounts' live orders, by state,
            # with every column the panel's condition reads (the delivery date too), so
            # listing their orders on the panel reads no table row.
            # (The number prefix's indexes depend on the database: migrations 0008 and 0010.)
            models.Index(
                fields=[
                    "account",
                    "payment_state",
                    "payment_expires_at",
                    "id",
                    "estimated_delivery_date",
                    "status",
                    "kind",
                    "assigned_to",
                ],
                name="order_panel_by_account",
                condition=~Q(status__in=FINISHED_STATUSES),
            ),
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            # An order's replacement, for the order screen. While every supersedes_id is NULL,
            # SQLite's statistics record the one-to-one's own index as matching every row and
            # the join to the replacement scans the table; this index holds only replaced
            # orders, so finding the replacement is one look-up on both databases.
            models.Index(
                fields=["supersedes"],
                name="order_supersedes_set",
                condition=Q(supersedes__isnull=False),
            ),
            # Orders with changes the CRM has not heard of: the CRM relay reads only these,
            # so finding the few behind is one small index at any number of orders.
            models.Index(
                fields=["id"],
                name="order_crm_behind",
                condition=Q(crm_version__gt=F("crm_settled_version")),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_zero_dollar_quote(self) -> bool:
        return self.kind == OrderKind.REPAIR and self.quoted_total == 0

    @property
    def is_live(self) -> bool:
        return self.status not in (OrderStatus.SHIPPED, OrderStatus.CANCELLED)

    @property
    def held_amount(self) -> int:
        return self.held_at(now())

    def held_at(self, moment) -> int:
        """What the kept authorization holds at `moment`: nothing once it has expired,
        although `authorized_amount` then still says how much the lapsed one held."""
        expires_at = self.payment_expires_at
        if expires_at is None or expires_at <= moment:
            return 0
        return self.authorized_amount


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    sku = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.BigIntegerField(help_text="minor units")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    ASSIGNED = "assigned", "Assigned"
    DELIVERY_DATE_SET = "delivery_date_set", "Estimated delivery date set"
    NOTE = "note", "Note"
    LINK_SENT = "link_sent", "Payment link sent"
    LINK_OPENED = "link_opened", "Payment link opened"
    LINK_REVOKED = "link_revoked", "Payment link revoked"
    LINK_EXPIRED = "link_expired", "Payment link expired"
    LINK_LOCKED = "link_locked", "Payment link locked after failed attempts"
    APPROVED = "approved", "Customer approved"
    DECLINED = "declined", "Customer declined"
    AUTHORIZATION_REQUESTED = "authorization_requested", "Authorization requested"
    AUTHORIZATION_MADE = "authorization_made", "Authorization made"
    AUTHORIZATION_FAILED = "authorization_failed", "Authorization failed"
    AUTHORIZATION_UNKNOWN = "authorization_unknown", "Authorization outcome unknown"
    AUTHORIZATION_EXPIRED = "authorization_expired", "Authorization expired"
    AUTHORIZATION_VOIDED = "authorization_voided", "Authorization voided"
    AUTHORIZATION_RECONCILED = "authorization_reconciled", "Authorization reconciled"
    CAPTURED = "captured", "Payment captured"
    CAPTURE_FAILED = "capture_failed", "Capture failed"
    EXTERNAL_PAYMENT = "external_payment", "External payment recorded"
    SHIPPED = "shipped", "Shipped"
    SHIP_REFUSED = "ship_refused", "Shipment refused"
    OVERRIDDEN = "overridden", "Ship gate overridden"
    CANCELLED = "cancelled", "Cancelled"
    REPLACED = "replaced", "Replaced"
    EMAIL_DELIVERED = "email_delivered", "E-mail delivered"
    EMAIL_FAILED = "email_failed", "E-mail delivery failed"
    CRM_SYNCED = "crm_synced", "CRM synced"
    CRM_FAILED = "crm_failed", "CRM sync failed"


class OrderEvent(models.Model):
    """The append-only timeline of an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    message = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=100, blank=True, help_text="system, customer, worker…"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "-created_at"], name="event_order_time")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        if self.actor_id:
            return display_name(self.actor)
        return self.actor_label or "system"


class NumberSequence(models.Model):
    """Counter for new order numbers (the storefront may also supply its own)."""

    name = models.CharField(max_length=30, unique=True)
    last = models.BigIntegerField(default=100000)

    def __str__(self) -> str:
        return f"{self.name}={self.last}"
