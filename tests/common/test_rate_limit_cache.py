"""The shared cache the rate limits count in keeps every live counter of the window."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_a_rate_limit_counter_outlives_hundreds_of_other_counters_in_its_window():
    # Django's database cache culls a third of its rows past MAX_ENTRIES (300 by default),
    # smallest keys first: a counter deleted that way resets its limit.
    cache.add("rl:0-oldest-counter", 7, 600)
    for index in range(400):  # one counter per link a customer paid with
        cache.add(f"rl:links.token:{index:04}", 1, 600)
    assert cache.get("rl:0-oldest-counter") == 7
    assert cache.incr("rl:0-oldest-counter") == 8
