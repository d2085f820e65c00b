from django import template

from orderdesk.links.selectors import (
    link_declined_for_order,
    link_open_for_order,
    price_increase_availability,
    reauthorization_availability,
)

register = template.Library()


@register.inclusion_tag("links/_link_actions_panel.html", takes_context=True)
def link_actions(context, order):
    """The payment-link part of the order screen: open link, re-trigger, price increase."""
    user = context["request"].user
    allowed = user.has_perm("orders.send_payment_link")
    open_link = link_open_for_order(order)
    paid = context.get("amount_paid")  # read once by the page that includes this, if it did
    return {
        "order": order,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "may_send": allowed,
        "open_link": open_link,
        "declined_link": None if open_link else link_declined_for_order(order),
        "reauthorization": reauthorization_availability(order, paid=paid) if allowed else None,
        "price_increase": price_increase_availability(order, paid=paid) if allowed else None,
    }
