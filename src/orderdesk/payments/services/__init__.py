"""Payment lifecycle: authorize, capture at shipment, void, reconcile.

Every gateway call happens between two short transactions: the first records the step (a
`pending` authorization, or a capture or void step) with its idempotency key (and refuses
if another one is in flight for the order, so concurrent clicks never act twice); the
second records the outcome. A timeout leaves the step `unknown` until reconciliation asks
the gateway what happened (`authorization_reconcile`, `steps_reconcile`). Other apps import from this package, never from
its modules.
"""

from orderdesk.payments.services.authorization import (
    authorization_attempt,
    authorization_request,
    authorization_settle,
    outstanding_amount,
)
from orderdesk.payments.services.browser_intents import (
    card_intent_create,
    card_intent_read,
    card_intent_recorded,
    card_intent_release,
)
from orderdesk.payments.services.capture import (
    capture_in_flight,
    capture_step_begin,
    capture_step_call,
    capture_step_record,
    external_payment_record,
)
from orderdesk.payments.services.gateway_events import (
    gateway_event_record,
    gateway_event_settle,
    gateway_events_unrecorded,
)
from orderdesk.payments.services.reconciliation import (
    authorization_reconcile,
    authorizations_reconcile_unknown,
)
from orderdesk.payments.services.steps import (
    hold_fetch,
    step_lock,
    steps_reconcile,
    void_steps_relay,
)
from orderdesk.payments.services.storefront import (
    StorefrontAuthorization,
    storefront_authorization_check,
    storefront_authorization_record,
)
from orderdesk.payments.services.voids import (
    authorization_void,
    authorizations_void_all,
    void_step_settle,
    void_steps_deliver,
    void_steps_reconcile,
)

__all__ = [
    "outstanding_amount",
    "authorization_request",
    "authorization_attempt",
    "authorization_settle",
    "card_intent_create",
    "card_intent_read",
    "card_intent_recorded",
    "card_intent_release",
    "authorization_reconcile",
    "authorizations_reconcile_unknown",
    "capture_in_flight",
    "capture_step_begin",
    "capture_step_call",
    "capture_step_record",
    "hold_fetch",
    "step_lock",
    "steps_reconcile",
    "void_steps_reconcile",
    "authorization_void",
    "authorizations_void_all",
    "external_payment_record",
    "void_step_settle",
    "void_steps_deliver",
    "void_steps_relay",
    "gateway_event_record",
    "gateway_event_settle",
    "gateway_events_unrecorded",
    "StorefrontAuthorization",
    "storefront_authorization_check",
    "storefront_authorization_record",
]
