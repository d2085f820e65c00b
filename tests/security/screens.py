"""Every screen of orderdesk, built from real data, for the content-policy tests.

`screens_build` returns the paths a staff user, a supervisor and a customer open; the HTTP
test renders each and parses it, the browser test loads each in Chromium.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from orderdesk.links.services import link_send_price_increase, link_send_reauthorization
from orderdesk.notifications.models import OutboundEmail
from orderdesk.orders.services import LineInput
from tests.factories import authorize, make_order


@dataclass
class Screens:
    staff: list[str]  # as the supervisor (who sees every staff screen)
    customer: list[str]  # as anybody
    anonymous: list[str]


def screens_build(*, csr, client: Client | None = None) -> Screens:
    order = make_order(total=15_000, number="CSP-1", status="ready_to_ship")
    authorize(order)
    reauthorization = link_send_reauthorization(order=order, actor=csr)
    repair = make_order(total=0, number="CSP-2", kind="repair")
    increase = link_send_price_increase(order=repair, actor=csr, lines=[LineInput("Repair", 9_000)])
    token = reauthorization.url.rsplit("/", 1)[1]
    increase_token = increase.url.rsplit("/", 1)[1]
    email = OutboundEmail.objects.order_by("-pk").first()
    paypal = (client or Client()).post(f"/pay/{increase_token}/paypal")
    location = paypal["Location"]
    paypal_page = (
        location[location.index("/", location.index("//") + 2) :] if "//" in location else location
    )
    return Screens(
        staff=[
            "/dashboard/",
            "/dashboard/?group=failed",
            "/orders/CSP-1/",
            "/orders/CSP-2/",
            "/orders/CSP-2/links/price-increase/",
            "/emails/",
            f"/emails/{email.pk}/",
            "/security/lockouts/",
            "/security/audit/",
            "/security/two-factor/",
            "/dashboard/crm/",
            "/admin/",
            "/admin/orders/order/",
            "/api/docs",
            "/orders/NO-SUCH-ORDER/",
        ],
        customer=[
            f"/pay/{token}",
            f"/pay/{increase_token}",
            f"/pay/{token}?decline=1",
            "/pay/not-a-token-at-all-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            paypal_page,
        ],
        anonymous=["/login/"],
    )
