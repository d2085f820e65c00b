"""The sandbox gateway's own ledger: a stand-in for the remote records of a real gateway.

It lives in its own tables so that orderdesk's payments app only ever sees what a real
gateway would return. It holds no card number or CVV: tokens carry brand, last 4 and the
test behaviour only.
"""

from django.db import models


class SandboxTransaction(models.Model):
    class Kind(models.TextChoices):
        AUTHORIZATION = "authorization"
        CAPTURE = "capture"
        VOID = "void"
        PAYPAL_ORDER = "paypal_order"

    reference = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (PayPal orders have none)
    parent_reference = models.CharField(max_length=40, blank=True)
    amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=20)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    payer_email = models.EmailField(blank=True)
    decline_code = models.CharField(max_length=60, blank=True)
    return_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "idempotency_key"], name="sandbox_idempotency_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.kind} {self.status}"
