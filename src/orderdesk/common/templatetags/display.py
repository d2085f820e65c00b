"""Counts and moments as staff read them: '52,000', 'just now', '3 minutes ago'."""

from __future__ import annotations

from datetime import datetime

from django import template

from orderdesk.common.clock import now

register = template.Library()


@register.filter
def count(value) -> str:
    """{{ 52000|count }} -> '52,000'."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


def _unit(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


@register.filter
def ago(moment: datetime | None, at: datetime | None = None) -> str:
    """'just now' under a minute, then '1 minute ago', '3 hours ago', '2 days ago'."""
    if moment is None:
        return ""
    minutes = int(((at or now()) - moment).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{_unit(minutes, 'minute')} ago"
    if minutes < 24 * 60:
        return f"{_unit(minutes // 60, 'hour')} ago"
    return f"{_unit(minutes // (24 * 60), 'day')} ago"
