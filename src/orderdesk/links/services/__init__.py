"""The customer's payment links (the cart): sending, the customer's checkout, upkeep.

A CSR re-triggers the cart or sends a price increase (`sending`); the customer approves,
pays or declines through the link (`checkout`, `attempts`, `approval`,
`finish`, `replacement`); links lapse (`upkeep`). Every
change of a link records on the order what its payment state needs (`records`). Other
apps import from this package, never from its modules.
"""

from orderdesk.links.services.approval import (
    link_approve,
    price_increase_approve,
    price_increase_decline,
    reauthorization_approve,
)
from orderdesk.links.services.attempts import MAX_FAILED_ATTEMPTS
from orderdesk.links.services.browser import (
    browser_holds_adopt,
    link_card_intent,
    link_card_intent_release,
)
from orderdesk.links.services.checkout import link_checkout, link_opened_record, link_paypal_start
from orderdesk.links.services.finish import link_authorization_finish, link_authorization_settled
from orderdesk.links.services.records import (
    CLAIM_TIMEOUT,
    CUSTOMER,
    CheckoutResult,
    LinkBusy,
    LinkUnavailable,
    Outcome,
    link_payment_in_progress,
    link_transition,
)
from orderdesk.links.services.sending import (
    ConfirmationRequired,
    LinkSent,
    link_revoke,
    link_send_price_increase,
    link_send_reauthorization,
    link_url,
)
from orderdesk.links.services.upkeep import EXPIRE_BATCH, links_expire

__all__ = [
    "CLAIM_TIMEOUT",
    "CUSTOMER",
    "LinkUnavailable",
    "LinkBusy",
    "Outcome",
    "CheckoutResult",
    "MAX_FAILED_ATTEMPTS",
    "ConfirmationRequired",
    "LinkSent",
    "link_url",
    "link_send_reauthorization",
    "link_send_price_increase",
    "link_revoke",
    "link_opened_record",
    "link_checkout",
    "link_paypal_start",
    "link_approve",
    "link_authorization_finish",
    "link_authorization_settled",
    "link_payment_in_progress",
    "link_transition",
    "browser_holds_adopt",
    "link_card_intent",
    "link_card_intent_release",
    "reauthorization_approve",
    "price_increase_approve",
    "price_increase_decline",
    "EXPIRE_BATCH",
    "links_expire",
]
