"""The sandbox gateway's "remote" side: tokenization, the ledger and PayPal-style approval.

orderdesk reaches it only through `orderdesk.payments.gateways.sandbox.SandboxGateway`,
exactly as it would reach a real gateway over HTTP. The ledger is written on its own
connection (`orderdesk.sandbox.routers`): every act commits when it is done, whatever
orderdesk's transaction does afterwards.
"""

from __future__ import annotations

import secrets

from django.core import signing
from django.db import IntegrityError, transaction

from orderdesk.common.clock import now
from orderdesk.common.inserts import row_insert
from orderdesk.sandbox import cards
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.sandbox.routers import LEDGER

TOKEN_SALT = "orderdesk.sandbox.token"
Kind = SandboxTransaction.Kind


def new_reference(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def tokenize_card(*, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
    """Exchange card details for a token. The number and CVC are dropped here."""
    facts = cards.examine(number, exp_month, exp_year, cvc, today=now().date())
    payload = {"t": "card", "b": facts.brand, "l": facts.last4, "o": facts.behaviour}
    return "tok_sbx_" + signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def read_token(token: str) -> dict | None:
    if token.startswith("tok_sbx_"):
        try:
            return signing.loads(token.removeprefix("tok_sbx_"), salt=TOKEN_SALT)
        except signing.BadSignature:
            return None
    if token.startswith("paypal:"):
        order = SandboxTransaction.objects.filter(
            reference=token.removeprefix("paypal:"), kind=Kind.PAYPAL_ORDER
        ).first()
        if order is None:
            return None
        return {
            "t": "paypal",
            "status": order.status,
            "e": order.payer_email,
            "ref": order.reference,
        }
    return None


def paypal_order_create(*, amount: int, currency: str, return_url: str) -> SandboxTransaction:
    return SandboxTransaction.objects.create(
        reference=new_reference("PAYID"),
        kind=Kind.PAYPAL_ORDER,
        amount=amount,
        currency=currency,
        status="created",
        return_url=return_url,
    )


def paypal_order_decide(*, reference: str, approve: bool, payer_email: str) -> SandboxTransaction:
    order = SandboxTransaction.objects.get(reference=reference, kind=Kind.PAYPAL_ORDER)
    if order.status == "created":
        order.status = "approved" if approve else "cancelled"
        order.payer_email = payer_email if approve else ""
        order.save(update_fields=["status", "payer_email"])
    return order


def _existing(kind: str, idempotency_key: str) -> SandboxTransaction | None:
    return SandboxTransaction.objects.filter(kind=kind, idempotency_key=idempotency_key).first()


def _record(**fields) -> SandboxTransaction:
    """Insert once per (kind, idempotency key); a repeat, concurrent or not, returns the first."""
    try:
        # One prepared INSERT (common.inserts): compiling it anew cost every approval made
        # through the sandbox more than running it.
        if not transaction.get_connection(LEDGER).in_atomic_block:
            # The ledger's own connection, outside any transaction: the INSERT commits alone.
            return row_insert(SandboxTransaction(**fields), using=LEDGER)
        with transaction.atomic(using=LEDGER):
            return row_insert(SandboxTransaction(**fields), using=LEDGER)
    except IntegrityError:
        return _existing(fields["kind"], fields["idempotency_key"])


def authorize(
    *, amount: int, currency: str, token: str, idempotency_key: str
) -> SandboxTransaction:
    # The unique (kind, idempotency key) makes a repeated call return the first record
    # (see _record): no lookup before the insert.
    facts = read_token(token) or {}
    fields = {
        "reference": new_reference("auth"),
        "kind": Kind.AUTHORIZATION,
        "idempotency_key": idempotency_key,
        "amount": amount,
        "currency": currency,
    }
    if facts.get("t") == "card":
        behaviour = facts["o"]
        fields.update(card_brand=facts["b"], card_last4=facts["l"])
    elif facts.get("t") == "paypal":
        behaviour = cards.APPROVE if facts["status"] == "approved" else "payer_action_required"
        fields.update(payer_email=facts.get("e", ""), parent_reference=facts["ref"])
    else:
        behaviour = "invalid_token"
    if behaviour == cards.APPROVE:
        fields["status"] = "authorized"
    elif behaviour == cards.PROCESSOR_ERROR:
        fields.update(status="error", decline_code=behaviour)
    else:
        fields.update(status="declined", decline_code=behaviour)
    return _record(**fields)


def _authorization_locked(reference: str) -> SandboxTransaction | None:
    """The authorization a capture or void acts on, locked until the step is recorded."""
    return (
        SandboxTransaction.objects.select_for_update()
        .filter(reference=reference, kind=Kind.AUTHORIZATION)
        .first()
    )


def _step(kind: str, prefix: str, idempotency_key: str, reference: str) -> dict:
    """The fields of a capture or void of the authorization `reference`."""
    return {
        "reference": new_reference(prefix),
        "kind": kind,
        "idempotency_key": idempotency_key,
        "parent_reference": reference,
    }


def capture(*, reference: str, amount: int, idempotency_key: str) -> SandboxTransaction:
    if found := _existing(Kind.CAPTURE, idempotency_key):
        return found
    with transaction.atomic(using=LEDGER):
        auth = _authorization_locked(reference)
        fields = _step(Kind.CAPTURE, "cap", idempotency_key, reference) | {"amount": amount}
        if auth is None or auth.status != "authorized" or amount > auth.amount:
            fields.update(status="declined", decline_code="authorization_not_capturable")
        else:
            fields.update(status="captured", currency=auth.currency)
            auth.status = "captured"
            auth.save(update_fields=["status"])
        return _record(**fields)


def void(*, reference: str, idempotency_key: str) -> SandboxTransaction:
    if found := _existing(Kind.VOID, idempotency_key):
        return found
    with transaction.atomic(using=LEDGER):
        auth = _authorization_locked(reference)
        fields = _step(Kind.VOID, "void", idempotency_key, reference)
        if auth is None or auth.status not in ("authorized", "voided"):
            fields.update(status="declined", decline_code="authorization_not_voidable")
        else:
            fields["status"] = "voided"
            auth.status = "voided"
            auth.save(update_fields=["status"])
        return _record(**fields)


def fetch_authorization(*, idempotency_key: str) -> SandboxTransaction | None:
    return _existing(Kind.AUTHORIZATION, idempotency_key)


def authorization_by_reference(*, reference: str) -> SandboxTransaction | None:
    return SandboxTransaction.objects.filter(kind=Kind.AUTHORIZATION, reference=reference).first()


def operation_by_key(*, reference: str, idempotency_key: str) -> SandboxTransaction | None:
    """The capture or void made on the authorization `reference` with this key, if any."""
    return SandboxTransaction.objects.filter(
        kind__in=(Kind.CAPTURE, Kind.VOID),
        parent_reference=reference,
        idempotency_key=idempotency_key,
        status__in=("captured", "voided"),
    ).first()


def captured_amount(*, reference: str) -> int:
    captures = SandboxTransaction.objects.filter(
        kind=Kind.CAPTURE, parent_reference=reference, status="captured"
    )
    return sum(captures.values_list("amount", flat=True))
