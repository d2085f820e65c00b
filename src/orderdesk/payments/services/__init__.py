"""Payment lifecycle: authorize, capture at shipment, void, reconcile.

Gateway calls happen between two short transactions: the first records a `pending`
authorization with its idempotency key (and refuses if another one is in flight for the
order, so concurrent clicks never authorize twice); the second records the outcome. A
timeout leaves the authorization `unknown` until `authorization_reconcile` asks the
gateway what happened with that key. Other apps import from this package, never from
its modules.
"""

from orderdesk.payments.services.authorization import (
    authorization_attempt,
    authorization_request,
    authorization_settle,
    outstanding_amount,
)
from orderdesk.payments.services.browser_intents import card_intent_create, card_intent_release
from orderdesk.payments.services.capture import (
    authorization_capture,
    authorization_void,
    authorizations_void_all,
    external_payment_record,
)
from orderdesk.payments.services.gateway_events import gateway_event_record
from orderdesk.payments.services.reconciliation import (
    authorization_reconcile,
    authorizations_reconcile_unknown,
)
from orderdesk.payments.services.storefront import (
    StorefrontAuthorization,
    storefront_authorization_check,
    storefront_authorization_record,
)

__all__ = [
    "outstanding_amount",
    "authorization_request",
    "authorization_attempt",
    "authorization_settle",
    "card_intent_create",
    "card_intent_release",
    "authorization_reconcile",
    "authorizations_reconcile_unknown",
    "authorization_capture",
    "authorization_void",
    "authorizations_void_all",
    "external_payment_record",
    "gateway_event_record",
    "StorefrontAuthorization",
    "storefront_authorization_check",
    "storefront_authorization_record",
]
