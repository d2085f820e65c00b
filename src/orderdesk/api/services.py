"""API-side workflows: the storefront's order creation, idempotent on an Idempotency-Key.

The business rules stay in the apps' services; this module only orders the calls and
remembers responses so that a retried POST never creates two orders or authorizes twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction

from orderdesk.accounts.services import account_for_email
from orderdesk.api.models import IdempotencyRecord
from orderdesk.api.schemas import OrderCreateIn
from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.permissions import require
from orderdesk.orders.models import Order
from orderdesk.payments.models import AuthorizationSource
from orderdesk.workflows.intake import order_open

CREATE_OPERATION = "order.create"
# A request that died after creating its order is answered from the order after this long.
STALE_AFTER = timedelta(minutes=2)


class IdempotencyConflict(Exception):
    """The key is in use by a request still running, or by a different request."""

    def __init__(self, reason: str, *, status: int):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict
    replayed: bool = False


def request_hash(payload: OrderCreateIn) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_create_checks(payload: OrderCreateIn, actor) -> None:
    require(actor, "orders.work_order")
    if payload.authorization is not None:
        _storefront_authorization_checks(payload)
    if payload.payment_token is None:
        return
    require(actor, "orders.process_card")
    if payload.payment_method == "terms":
        raise BusinessRuleError("Orders on terms are not authorized.", field="payment_token")
    if sum(line.unit_price * line.quantity for line in payload.lines) == 0:
        raise BusinessRuleError(
            "There is nothing to authorize on a zero total.", field="payment_token"
        )


def _storefront_authorization_checks(payload: OrderCreateIn) -> None:
    if payload.payment_token is not None:
        raise BusinessRuleError(
            "Send either a payment token or the storefront's authorization, not both.",
            field="authorization",
        )
    if payload.payment_method == "terms":
        raise BusinessRuleError("Orders on terms are not authorized.", field="authorization")
    if payload.authorization.currency != payload.currency:
        raise BusinessRuleError(
            f"The order is in {payload.currency}.", field="authorization.currency"
        )


def _held(payload: OrderCreateIn):
    """The storefront's authorization as the payments service takes it, checked with its
    gateway (a network call, outside any transaction); None when there is none."""
    from orderdesk.payments.services import (
        StorefrontAuthorization,
        storefront_authorization_check,
    )

    given = payload.authorization
    if given is None:
        return None
    held = StorefrontAuthorization(
        gateway=given.gateway,
        reference=given.reference,
        amount=given.amount,
        currency=given.currency,
        authorized_at=given.authorized_at,
        expires_at=given.expires_at,
        card_brand=given.card_brand,
        card_last4=given.card_last4,
        payer_email=given.payer_email or "",
    )
    return held, storefront_authorization_check(held)


@transaction.atomic
def _order_create(payload: OrderCreateIn, actor, checked=None) -> Order:
    order = _order_insert(payload, actor)
    if checked is not None:
        from orderdesk.payments.services import storefront_authorization_record

        held, result = checked
        storefront_authorization_record(order=order, held=held, result=result, actor=actor)
    return order


def _order_insert(payload: OrderCreateIn, actor) -> Order:
    if payload.number and Order.objects.filter(number=payload.number).exists():
        raise BusinessRuleError(f"Order {payload.number} exists already.", field="number")
    account = account_for_email(
        email=payload.account.email, name=payload.account.name, phone=payload.account.phone
    )
    try:
        with transaction.atomic():
            return order_open(
                account=account,
                kind=payload.kind,
                payment_method=payload.payment_method,
                lines=[line.as_line() for line in payload.lines],
                currency=payload.currency,
                quoted_total=payload.quoted_total,
                number=payload.number,
                estimated_delivery_date=payload.estimated_delivery_date,
                actor=actor,
            )
    except IntegrityError as error:  # a concurrent request took the number
        number = payload.number or "with the sequence's next number"
        raise BusinessRuleError(f"Order {number} exists already.", field="number") from error


def _authorize_at_checkout(order: Order, payload: OrderCreateIn, actor) -> None:
    from orderdesk.payments.services import authorization_request

    authorization_request(
        order=order,
        payment_token=payload.payment_token,
        method=payload.payment_method,
        source=AuthorizationSource.STOREFRONT,
        actor=actor,
    )


def storefront_order_create(
    *, payload: OrderCreateIn, actor, idempotency_key: str | None, respond
) -> Replay:
    """Create the order and authorize it when a token comes with it.

    `respond(order)` renders the response body as JSON-ready data. With an idempotency key, the first request
    stores its response and every retry with the same key and body gets it back.
    """
    order_create_checks(payload, actor)
    if not idempotency_key:
        order = _order_create(payload, actor, _held(payload))
        if payload.payment_token:
            _authorize_at_checkout(order, payload, actor)
            order.refresh_from_db()
        return Replay(201, respond(order))
    fingerprint = request_hash(payload)
    replay = _idempotent_replay(actor, idempotency_key, fingerprint, respond)
    if replay is not None:
        return replay
    checked = _held(payload)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=actor,
                key=idempotency_key,
                operation=CREATE_OPERATION,
                request_hash=fingerprint,
                created_at=now(),
            )
            order = _order_create(payload, actor, checked)
            record.order = order
            record.save(update_fields=["order"])
    except IntegrityError:  # a concurrent request with the same key got in first
        replay = _idempotent_replay(actor, idempotency_key, fingerprint, respond)
        if replay is not None:
            return replay
        raise
    if payload.payment_token:
        _authorize_at_checkout(order, payload, actor)
    return _idempotent_complete(record, order, respond)


def _idempotent_complete(record: IdempotencyRecord, order: Order, respond) -> Replay:
    order.refresh_from_db()
    body = respond(order)
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=201, response_body=body, completed_at=now()
    )
    return Replay(201, body)


def _idempotent_replay(actor, key: str, fingerprint: str, respond) -> Replay | None:
    record = (
        IdempotencyRecord.objects.filter(user=actor, operation=CREATE_OPERATION, key=key)
        .select_related("order")
        .first()
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        # 409, not the 422 of the IETF draft: the request is valid, the key's state conflicts.
        raise IdempotencyConflict(
            "This Idempotency-Key was used with a different request body.", status=409
        )
    if record.completed_at is not None:
        return Replay(record.response_status, record.response_body, replayed=True)
    if record.order is not None and record.created_at < now() - STALE_AFTER:
        # The first request died after creating the order: answer from the order as it is,
        # without authorizing again (an authorization it began is reconciled separately).
        return _idempotent_complete(record, record.order, respond)
    raise IdempotencyConflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.", status=409
    )
