"""One backoff policy for every outbox (e-mail, CRM, voids): the delay doubles per failure."""

from __future__ import annotations

from datetime import timedelta

CEILING = timedelta(hours=6)


def backoff(attempts: int, *, first_seconds: float, ceiling: timedelta = CEILING) -> timedelta:
    """The wait after the `attempts`-th failure: first_seconds, twice that, four times… at
    most `ceiling`."""
    seconds = first_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), ceiling)
