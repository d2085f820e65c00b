"""An authorization the storefront made at checkout, recorded on the order it pays for.

orderdesk did not make it, so it asks the gateway first (outside any transaction): the
reference must exist there, be a live hold, and be for the amount and currency the
storefront says. The gateway's own expiry wins, then the storefront's, then the policy
counted from the real `authorized_at`. From then on the hold is captured, voided and
reauthorized through that gateway like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import GatewayError, GatewayResult, ResultStatus
from orderdesk.payments.gateways.registry import gateway_names_configured
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.policy import expiry_for
from orderdesk.payments.services.authorization import _format
from orderdesk.payments.state import payment_state_refresh

FIELD = "authorization"


@dataclass(frozen=True)
class StorefrontAuthorization:
    gateway: str
    reference: str
    amount: int
    currency: str
    authorized_at: datetime
    expires_at: datetime | None = None
    card_brand: str = ""
    card_last4: str = ""
    payer_email: str = ""


def _refuse(reason: str, field: str = "reference"):
    raise BusinessRuleError(reason, field=f"{FIELD}.{field}")


def storefront_authorization_check(held: StorefrontAuthorization) -> GatewayResult:
    """What the gateway says of the storefront's hold; refused unless it matches."""
    if held.gateway not in gateway_names_configured():
        _refuse(f"Gateway {held.gateway} is not configured here.", "gateway")
    if held.authorized_at > now():
        _refuse("The authorization cannot be dated in the future.", "authorized_at")
    try:
        result = get_gateway(held.gateway).lookup(reference=held.reference)
    except GatewayError as error:
        raise BusinessRuleError(
            f"{held.gateway} could not confirm the authorization ({error}); try again.",
            field=f"{FIELD}.reference",
        ) from error
    if result.status == ResultStatus.NOT_FOUND:
        _refuse(f"{held.gateway} has no authorization {held.reference}.")
    if result.status != ResultStatus.AUTHORIZED:
        _refuse(f"Authorization {held.reference} is {result.status} at {held.gateway}.")
    if result.currency.upper() != held.currency.upper() or result.amount != held.amount:
        _refuse(
            f"{held.gateway} holds {_format(result.amount, result.currency.upper())} on "
            f"{held.reference}, not {_format(held.amount, held.currency)}.",
            "amount",
        )
    return result


def _refuse_unless_new(order: Order, held: StorefrontAuthorization, key: str) -> None:
    earlier = Authorization.objects.filter(idempotency_key=key).select_related("order").first()
    if earlier is not None:
        _refuse(f"Authorization {held.reference} is recorded on order {earlier.order.number}.")
    if held.currency.upper() != order.currency:
        _refuse(f"The order is in {order.currency}.", "currency")


def storefront_authorization_record(
    *, order: Order, held: StorefrontAuthorization, result: GatewayResult, actor
) -> Authorization:
    """Record the checked hold on the order; call in the order's creation transaction."""
    key = f"storefront-{held.gateway}-{held.reference}"[:100]
    _refuse_unless_new(order, held, key)
    brand = result.card_brand or held.card_brand
    authorization = Authorization.objects.create(
        order=order,
        gateway=held.gateway,
        method=order.payment_method,
        gateway_reference=held.reference,
        amount=held.amount,
        currency=order.currency,
        status=AuthorizationStatus.AUTHORIZED,
        authorized_at=held.authorized_at,
        # The gateway's own expiry wins, then the storefront's, then the policy.
        expires_at=expiry_for(
            authorized_at=held.authorized_at,
            gateway=held.gateway,
            method=order.payment_method,
            network=brand,
            reported=result.expires_at or held.expires_at,
        ),
        card_brand=brand,
        card_last4=result.card_last4 or held.card_last4,
        payer_email=result.payer_email or held.payer_email,
        idempotency_key=key,
        source=AuthorizationSource.STOREFRONT,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now(),
    )
    _recorded(order, held, authorization, actor)
    return authorization


def _recorded(order: Order, held: StorefrontAuthorization, authorization, actor) -> None:
    event_record(
        order,
        EventKind.AUTHORIZATION_MADE,
        f"Authorized {_format(held.amount, order.currency)} at the storefront's checkout "
        f"({held.gateway} {held.reference})",
        actor=actor,
        details={"authorization": authorization.pk, "source": AuthorizationSource.STOREFRONT},
    )
    payment_state_refresh(order)
