"""How staff are named wherever a person reads who did something."""

from __future__ import annotations


def display_name(user, *, default: str = "") -> str:
    """The staff member's full name, else their log-in name; `default` for nobody."""
    if user is None:
        return default
    return user.get_full_name() or user.get_username()
