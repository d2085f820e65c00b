"""The shared cache the rate limits count in keeps every live counter of the window."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_a_rate_limit_counter_outlives_hundreds_of_other_counters_in_its_window():
    # Django's database cache culls a third of its rows past MAX_ENTRIES (300 by default),
    # smallest keys first: a counter deleted that way resets its limit.
    cache.add("rl:0-oldest-counter", 7, 600)
    for index in range(400):  # one counter per link a customer paid with
        cache.add(f"rl:links.token:{index:04}", 1, 600)
    assert cache.get("rl:0-oldest-counter") == 7
    assert cache.incr("rl:0-oldest-counter") == 8


def test_adding_a_live_key_changes_nothing_and_sends_no_write(django_assert_num_queries):
    cache.add("rl:live", 3, 600)
    with django_assert_num_queries(1):  # one read: no insert bound to fail
        assert cache.add("rl:live", 1, 600) is False
    assert cache.get("rl:live") == 3


def test_an_expired_key_is_added_again_and_cannot_be_incremented():
    cache.add("rl:lapsed", 5, 60)
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        with pytest.raises(ValueError):
            cache.incr("rl:lapsed")
        assert cache.add("rl:lapsed", 1, 60) is True
        assert cache.incr("rl:lapsed", 2) == 3


def test_an_increment_keeps_the_expiry_the_counter_was_added_with():
    cache.add("rl:window", 1, 600)
    for _ in range(3):
        cache.incr("rl:window")
    with time_machine.travel(timezone.now() + timedelta(seconds=590), tick=False):
        assert cache.get("rl:window") == 4  # Django's own incr would have cut it to 300 s
    with time_machine.travel(timezone.now() + timedelta(seconds=610), tick=False):
        assert cache.get("rl:window") is None


def test_an_absent_key_cannot_be_incremented():
    with pytest.raises(ValueError):
        cache.incr("rl:never-added")
