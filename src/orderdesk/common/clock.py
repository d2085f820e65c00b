"""The one place that reads the time.

Tests travel with time-machine; the demo loader uses `as_of` to write history (an
authorization made 27 days ago) through the real services.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.utils import timezone

_as_of: ContextVar[datetime | None] = ContextVar("orderdesk_as_of", default=None)


def now() -> datetime:
    return _as_of.get() or timezone.now()


def days(count: int) -> timedelta:
    return timedelta(days=count)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    token = _as_of.set(moment)
    try:
        yield
    finally:
        _as_of.reset(token)
