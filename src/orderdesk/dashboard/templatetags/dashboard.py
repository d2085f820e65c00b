"""Small display helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html

from orderdesk.common.clock import now
from orderdesk.common.people import display_name

register = template.Library()


def _amount(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return _amount(max(minutes, 1), "minute")
    hours = minutes // 60
    if hours < 24:
        return _amount(hours, "hour")
    return _amount(hours // 24, "day")


@register.filter
def expiry_phrase(expires_at: datetime | None, at: datetime | None = None) -> str:
    """'expires in 2 days', 'expired 3 days ago'; empty when there is no expiry."""
    if expires_at is None:
        return ""
    seconds = (expires_at - (at or now())).total_seconds()
    if seconds > 0:
        return f"expires in {_span(seconds)}"
    return f"expired {_span(-seconds)} ago"


PAYMENT_TONES = {
    "failed": "danger",
    "expired": "danger",
    "awaiting_customer": "info",
    "awaiting_price": "neutral",
    "unauthorized": "warning",
    "authorized": "success",
    "paid": "success",
    "not_required": "neutral",
    "void": "neutral",
}


@register.simple_tag
def payment_badge(order) -> str:
    tone = PAYMENT_TONES.get(order.payment_state, "neutral")
    return format_html(
        '<span class="badge badge-{}">{}</span>', tone, order.get_payment_state_display()
    )


@register.simple_tag
def status_badge(order) -> str:
    return format_html(
        '<span class="badge badge-status badge-{}">{}</span>',
        order.status.replace("_", "-"),
        order.get_status_display(),
    )


@register.filter(expects_localtime=True)
def time_element(value: datetime | None, shown: str) -> str:
    """`<time datetime="…">…</time>`: what `date:'c'` and `date:shown` write, from one
    conversion to the business zone instead of two (the timeline writes one a row)."""
    if not value:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), date_format(value, shown)
    )


@register.filter
def who(user) -> str:
    return display_name(user)


@register.simple_tag
def business_time_zone() -> str:
    from django.conf import settings

    return settings.TIME_ZONE.replace("_", " ")


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, css: str = "") -> str:
    """A column header that sorts by `key`, toggling direction, with aria-sort for readers."""
    from django.template.defaulttags import querystring

    current = context["panel"].sort
    if current == key:
        target, state = f"-{key}", "ascending"
    elif current == f"-{key}":
        target, state = key, "descending"
    else:
        target, state = key, ""
    href = querystring(context, sort=target, page=None)
    arrow = {"ascending": "▲", "descending": "▼"}.get(state, "")
    return format_html(
        '<th scope="col" class="{}"{}><a href="{}">{}<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        css,
        format_html(' aria-sort="{}"', state) if state else "",
        href,
        label,
        arrow,
    )
