from django.conf import settings
from django.db import models
from django.db.models import Q


class AuthorizationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AUTHORIZED = "authorized", "Authorized"
    DECLINED = "declined", "Declined"
    ERROR = "error", "Error"
    UNKNOWN = "unknown", "Unknown (awaiting reconciliation)"
    EXPIRED = "expired", "Expired"
    VOIDED = "voided", "Voided"
    CAPTURED = "captured", "Captured"
    PARTIALLY_CAPTURED = "partially_captured", "Partially captured"


# A hold that is live at the gateway (some of it may be captured already).
LIVE = (AuthorizationStatus.AUTHORIZED, AuthorizationStatus.PARTIALLY_CAPTURED)


def is_valid(status: str, expires_at, moment) -> bool:
    """The one definition of a valid authorization: live, and valid up to, not including,
    its expiry (at expires_at it has expired). `valid_at` is the same as a query."""
    return status in LIVE and expires_at is not None and moment < expires_at


def valid_at(moment) -> Q:
    return Q(status__in=LIVE, expires_at__gt=moment)


class AuthorizationSource(models.TextChoices):
    STOREFRONT = "storefront", "Storefront checkout"
    CUSTOMER_LINK = "customer_link", "Customer payment link"
    MANUAL = "manual", "Processed manually by staff"


class Authorization(models.Model):
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="authorizations"
    )
    gateway = models.CharField(max_length=20)
    method = models.CharField(max_length=10, help_text="card or paypal")
    gateway_reference = models.CharField(max_length=100, blank=True, db_index=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=AuthorizationStatus.choices, default=AuthorizationStatus.PENDING
    )
    authorized_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    payer_email = models.EmailField(blank=True)
    decline_code = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    # The public part of the instrument token (a PayPal order id, a Stripe PaymentMethod id):
    # reconciliation needs it where a gateway cannot be searched by idempotency key.
    instrument_reference = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, choices=AuthorizationSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="authorization_amount_positive"),
        ]
        indexes = [
            # The expiry sweep: live authorizations by expiry. The condition is written exactly
            # as the sweep filters (payments.state.LIVE, same values, same order), so both
            # databases can prove the partial index applies to its SELECT and UPDATEs. With
            # the order id, the sweep reads the lapsed set from the index alone.
            models.Index(
                fields=["expires_at", "order"],
                name="authorization_live_expiry",
                condition=Q(status__in=["authorized", "partially_captured"]),
            ),
            models.Index(fields=["order", "-created_at"], name="authorization_order_time"),
            # Outcomes awaiting reconciliation: the scheduled reconciliation and /metrics read
            # these few rows without scanning every authorization.
            models.Index(
                fields=["created_at"],
                name="authorization_unknown",
                condition=Q(status__in=["unknown"]),
            ),
            # A PayPal reauthorization's webhook names the PayPal order, not the hold it
            # renews: the hold is found by the order id kept from the approval token.
            models.Index(
                fields=["instrument_reference"],
                name="authorization_instrument",
                condition=~Q(instrument_reference=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.gateway_reference or self.idempotency_key} {self.status}"

    def is_valid_at(self, moment) -> bool:
        return is_valid(self.status, self.expires_at, moment)

    @property
    def instrument(self) -> str:
        if self.payer_email:
            return f"PayPal {self.payer_email}"
        if self.card_last4:
            return f"{self.card_brand or 'Card'} •••• {self.card_last4}"
        return ""


class Capture(models.Model):
    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, related_name="captures"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    gateway_reference = models.CharField(max_length=100)
    idempotency_key = models.CharField(max_length=100, unique=True)
    captured_at = models.DateTimeField()

    class Meta:
        ordering = ["-captured_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="capture_amount_positive")
        ]

    def __str__(self) -> str:
        return f"capture {self.amount} {self.currency} of {self.authorization_id}"


class ExternalPayment(models.Model):
    """A payment taken outside orderdesk (bank transfer, phone payment), recorded by a supervisor."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="external_payments"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=100)
    reason = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="external_payment_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency}"


class GatewayEventOutcome(models.TextChoices):
    APPLIED = "applied", "Recorded on the authorization"
    NO_CHANGE = "no_change", "Already known; nothing changed"
    UNKNOWN_REFERENCE = "unknown_reference", "No authorization with that reference"
    IGNORED = "ignored", "A kind of event orderdesk does not act on"
    # A hold orderdesk asked for (confirmed in a browser) that no authorization records:
    # the worker records or releases it once the browser had time to post it back.
    UNRECORDED_HOLD = "unrecorded_hold", "A hold orderdesk asked for, not recorded yet"


class GatewayEvent(models.Model):
    """A gateway's webhook event, received once: its id makes every delivery after the first
    change nothing (gateways deliver at least once and resend after any non-2xx answer)."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=100)
    reference = models.CharField(max_length=100, blank=True)
    authorization = models.ForeignKey(
        Authorization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=GatewayEventOutcome.choices)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")
        ]
        indexes = [
            # The worker's schedule reads only the unrecorded holds, however many events
            # the table keeps.
            models.Index(
                fields=["received_at"],
                name="gateway_event_unrecorded",
                condition=Q(outcome="unrecorded_hold"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_id} {self.kind}"


class StepKind(models.TextChoices):
    CAPTURE = "capture", "Capture"
    VOID = "void", "Void"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # recorded; the call is due, under way or to be retried
    UNKNOWN = "unknown", "Unknown (awaiting reconciliation)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"  # no longer wanted; no call made for it since


# A step the gateway may still act on (or may have acted on unseen).
STEP_OPEN = (StepStatus.PENDING, StepStatus.UNKNOWN)


class GatewayStep(models.Model):
    """A capture or void at the gateway: recorded with its idempotency key and purpose before
    the call, the answer recorded after, settled by reconciliation when it never came. A
    `Capture` row is the money record made when a capture step succeeds."""

    kind = models.CharField(max_length=10, choices=StepKind.choices)
    authorization = models.ForeignKey(Authorization, on_delete=models.PROTECT, related_name="steps")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="gateway_steps"
    )
    amount = models.BigIntegerField(default=0, help_text="captures only")
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=100, unique=True)
    purpose = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # A delivery in progress holds the step until then (a lease, as the CRM outbox does).
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The task last enqueued to deliver this step (orderdesk.common.outbox).
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The database's own guard against a second capture or void in flight.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(kind="capture", status__in=["pending", "unknown"]),
                name="gateway_step_one_capture_in_flight",
            ),
            models.UniqueConstraint(
                fields=["authorization"],
                condition=Q(kind="void", status__in=["pending", "unknown"]),
                name="gateway_step_one_void_in_flight",
            ),
        ]
        indexes = [
            # Open steps: the relay, reconciliation, the order screen and /metrics read these
            # few rows without scanning every step.
            models.Index(
                fields=["kind", "created_at"],
                name="gateway_step_open",
                condition=Q(status__in=["pending", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key} {self.status}"
