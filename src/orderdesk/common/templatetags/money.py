from django import template

from orderdesk.common.money import format_minor

register = template.Library()


@register.filter
def money(amount, currency="USD"):
    """{{ order.total|money:order.currency }} -> 'USD 1,234.56'."""
    if amount is None or amount == "":
        return ""
    return format_minor(int(amount), currency or "USD")
